// In-page timing for benchmarks: from an action fired inside the page to the moment the DOM shows
// its result, seen by a MutationObserver — not Playwright's polling, whose steps of 100 ms and more
// would swamp the figures a list is measured by.
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
