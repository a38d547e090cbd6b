// In-page timing for benchmarks: from an action fired inside the page to the moment the DOM shows
// its result, seen by a MutationObserver — not Playwright's polling, whose steps of 100 ms and more
// would swamp the figures a list is measured by; and the wait for the app to settle before its spans
// are counted (tests and benchmarks).
import type { Page } from '@playwright/test';

/** What to do in the page, and when it is done: plain data, so it crosses into the page. */
export interface Step {
  /** `click`: clicks the first element matching `selector`; `type`: sets its value to `text` and fires `input`. */
  action: 'click' | 'type';
  selector: string;
  text?: string;
  /** Done when an element matches `doneSelector` and (if given) its text is not `notText`. */
  doneSelector: string;
  notText?: string;
  /** If given, the figure ends at this performance mark (which the app leaves) rather than at the DOM. */
  mark?: string;
}

/** Milliseconds from the action to its result in the DOM. */
export async function timeInPage(page: Page, step: Step): Promise<number> {
  return page.evaluate(
    (step) =>
      new Promise<number>((resolve, reject) => {
        const done = () => {
          const element = document.querySelector(step.doneSelector);
          return element !== null && (step.notText === undefined || element.textContent?.trim() !== step.notText);
        };
        const target = document.querySelector<HTMLElement>(step.selector);
        if (!target) return reject(new Error(`nothing matches ${step.selector}`));
        if (step.mark) performance.clearMarks(step.mark);
        const begun = performance.now();
        const elapsed = () => {
          if (!step.mark) return performance.now() - begun;
          const mark = performance.getEntriesByName(step.mark, 'mark')[0];
          if (!mark) throw new Error(`the app left no mark ${step.mark}`);
          return mark.startTime - begun;
        };
        const observer = new MutationObserver(() => {
          if (done()) {
            observer.disconnect();
            try {
              resolve(elapsed());
            } catch (error) {
              reject(error);
            }
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        if (step.action === 'click') {
          target.click();
        } else {
          (target as HTMLInputElement).value = step.text ?? '';
          target.dispatchEvent(new Event('input', { bubbles: true }));
        }
        if (done()) {
          observer.disconnect();
          resolve(elapsed());
        }
      }),
    step,
  );
}

/**
 * Waits until every read the app has begun has ended, and no more follow from them, so that a count
 * of the app's spans is final. A round: two painted frames (a read waits for its list's paint, and
 * what a finished read starts runs before the next frame), a read-write transaction over the stores
 * the screens read, which the browser runs only after every read begun before it, then a frame and a
 * task more (for a read that waits for a paint after one of those), then until no span the app
 * started is open. Done when a round finds no span open and no span ended since the round before.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const task = () => new Promise((resolve) => setTimeout(resolve));
    const open = () => performance.getEntriesByType('mark').some((mark) => mark.name.includes(':start:'));
    const ended = () => performance.getEntriesByType('measure').length;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const opening = indexedDB.open('fieldcheck');
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
    try {
      let before = -1;
      for (;;) {
        await frame();
        await frame();
        await new Promise((resolve, reject) => {
          const tx = db.transaction(['venues', 'inspections', 'meta'], 'readwrite');
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
        });
        await frame();
        await task();
        while (open()) await frame();
        if (ended() === before) return;
        before = ended();
      }
    } finally {
      db.close();
    }
  });
}
