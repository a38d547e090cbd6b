// Saving an inspection on the phone, measured beside a bare IndexedDB put of the same stored value in
// the same browser run (both with strict durability). Prints figures only.
import { test, expect } from '@playwright/test';
import { Server } from './server';
import { PASS, completeRecord, logIn, submitInspection, tab } from './phone';
import { timeInPage } from './timing';

// Saves timed; after each, the bare puts of its value. A put's strict commit waits for the disk, whose
// answer varies several-fold from one write to the next on this machine: the medians need many of each.
const RUNS = 11;
// Saves after those, with the app's spans on, for where a save's time goes: the spans' own marks and
// measures take time in the page, so the saves above are timed without them.
const SPAN_RUNS = 7;
const PUTS_PER_SAVE = 3;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** `median ms (quartiles low–high, n values)`. */
function spread(values: number[]): string {
  return `${median(values).toFixed(1)} ms (quartiles ${quantile(values, 0.25).toFixed(1)}–${quantile(values, 0.75).toFixed(1)}, ${values.length} values)`;
}

/** Puts the stored value of inspection `id` into a scratch database and returns how long the put and its strict commit took. */
async function barePut(page: import('@playwright/test').Page, id: string): Promise<number> {
  return page.evaluate(
    (id) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('fieldcheck');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('inspections').objectStore('inspections').get(id);
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            const value = get.result;
            open.result.close();
            const scratch = indexedDB.open('fieldcheck-bench-bare', 1);
            scratch.onupgradeneeded = () => scratch.result.createObjectStore('values');
            scratch.onerror = () => reject(scratch.error);
            scratch.onsuccess = () => {
              const begun = performance.now();
              const tx = scratch.result.transaction('values', 'readwrite', { durability: 'strict' });
              tx.objectStore('values').put(value, `${id}-${begun}`);
              tx.oncomplete = () => {
                resolve(performance.now() - begun);
                scratch.result.close();
              };
              tx.onerror = () => reject(tx.error);
            };
          };
        };
      }),
    id,
  );
}

/** Puts the stored value of inspection `id`, as a new record, into a scratch database whose store has
 * the app's `inspections` store's key path and indexes (the same writes the browser makes for the
 * record itself), and returns how long the put and its strict commit took. */
async function indexedPut(page: import('@playwright/test').Page, id: string): Promise<number> {
  return page.evaluate(async (id) => {
    const request = <T>(made: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        made.onsuccess = () => resolve(made.result);
        made.onerror = () => reject(made.error);
      });
    const app = await request(indexedDB.open('fieldcheck'));
    const inspections = app.transaction('inspections').objectStore('inspections');
    const shape = {
      keyPath: inspections.keyPath,
      indexes: [...inspections.indexNames].map((name) => {
        const index = inspections.index(name);
        return { name, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
      }),
    };
    const value = await request(inspections.get(id));
    app.close();
    const opening = indexedDB.open('fieldcheck-bench-indexed', 1);
    opening.onupgradeneeded = () => {
      const store = opening.result.createObjectStore('inspections', { keyPath: shape.keyPath });
      for (const index of shape.indexes) store.createIndex(index.name, index.keyPath, { unique: index.unique, multiEntry: index.multiEntry });
    };
    const scratch = await request(opening);
    const copy = structuredClone(value);
    const begun = performance.now();
    copy.record.id = `${id}-${begun}`;
    const tx = scratch.transaction('inspections', 'readwrite', { durability: 'strict' });
    tx.objectStore('inspections').put(copy);
    const took = await new Promise<number>((resolve, reject) => {
      tx.oncomplete = () => resolve(performance.now() - begun);
      tx.onerror = () => reject(tx.error);
    });
    scratch.close();
    return took;
  }, id);
}

test('saving an inspection, beside a bare IndexedDB put of the same value', async ({ page }) => {
  const server = await Server.start();
  try {
    await logIn(page, server.baseUrl, 'zhangwei');
    // Offline: the save alone, with no sync run starting beside it.
    await page.context().setOffline(true);
    const saves: number[] = [];
    const spanned: number[] = [];
    const bare: number[] = [];
    const indexed: number[] = [];
    const steps = new Map<string, number[]>();
    for (let run = 0; run < RUNS + SPAN_RUNS; run++) {
      // The app records the save's steps while the page asks (src/timing.rs).
      const spans = run >= RUNS;
      await page.evaluate((spans) => {
        (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = spans;
      }, spans);
      await tab(page, '/');
      await page.getByTestId('venue-row').nth(run % 3).click();
      const items = page.locator('[data-item]');
      await expect(items.first()).toBeVisible();
      const n = await items.count();
      for (let idx = 0; idx < n; idx++) await items.nth(idx).getByRole('button', { name: PASS }).click();
      await completeRecord(page);
      // From the tap to the committed transaction: the app leaves a performance mark there.
      const took = await timeInPage(page, {
        action: 'click',
        selector: '[data-testid="submit-inspection"]',
        doneSelector: '.records-page .banner-ok',
        mark: 'fieldcheck:inspection-saved',
      });
      (spans ? spanned : saves).push(took);
      const measured: Array<{ name: string; ms: number }> = await page.evaluate(() => {
        const entries = performance
          .getEntriesByType('measure')
          .filter((entry) => entry.name.startsWith('fieldcheck:save-'))
          .map((entry) => ({ name: entry.name, ms: entry.duration }));
        performance.clearMeasures();
        return entries;
      });
      for (const { name, ms } of measured) steps.set(name, [...(steps.get(name) ?? []), ms]);
      const href = (await page.getByTestId('record-row').first().getAttribute('href')) ?? '';
      const id = href.split('/').pop() ?? '';
      for (let put = 0; put < PUTS_PER_SAVE; put++) {
        bare.push(await barePut(page, id));
        indexed.push(await indexedPut(page, id));
      }
    }
    console.log(`FIGURE saving an inspection, from the tap on 提交 to its committed transaction: ${spread(saves)}`);
    console.log(`FIGURE a bare IndexedDB put of the same stored value, strict commit: ${spread(bare)}`);
    console.log(`FIGURE the same save with the app's spans on: ${spread(spanned)}`);
    for (const [name, values] of steps) {
      console.log(`FIGURE   of which ${name.replace('fieldcheck:save-', '')}: ${spread(values)}`);
    }
    console.log(`FIGURE ratio of the two medians (goal ≤ 2): ${(median(saves) / median(bare)).toFixed(3)}`);
    console.log(`FIGURE the same put into a store with the app's key path and indexes, as a new record: ${spread(indexed)}`);
    console.log(`FIGURE ratio of the save to that put: ${(median(saves) / median(indexed)).toFixed(2)}`);
  } finally {
    await server.stop();
  }
});

/** The shapes a save's transaction could take, in plain JavaScript on a scratch database, each round
 * trying each shape once with a stored inspection's value; returns the median of each in ms. */
async function transactionShapes(page: import('@playwright/test').Page, id: string, rounds: number): Promise<Record<string, number>> {
  return page.evaluate(
    async ({ id, rounds }) => {
      const open = (name: string, version?: number, upgrade?: (db: IDBDatabase) => void) =>
        new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open(name, version);
          if (upgrade) request.onupgradeneeded = () => upgrade(request.result);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      const app = await open('fieldcheck');
      const value = await new Promise<Record<string, unknown>>((resolve) => {
        const get = app.transaction('inspections').objectStore('inspections').get(id);
        get.onsuccess = () => resolve(get.result);
      });
      app.close();
      const scratch = await open('fieldcheck-bench-shapes', 1, (db) => {
        db.createObjectStore('records', { keyPath: 'id' });
        db.createObjectStore('meta');
        db.createObjectStore('forms');
      });
      // Each shape starts its transaction, makes its requests, and resolves with the time to `complete`.
      const timed = (stores: string[], requests: (tx: IDBTransaction) => void) =>
        new Promise<number>((resolve, reject) => {
          const begun = performance.now();
          const tx = scratch.transaction(stores, 'readwrite', { durability: 'strict' });
          requests(tx);
          tx.oncomplete = () => resolve(performance.now() - begun);
          tx.onerror = () => reject(tx.error);
        });
      const shapes: Record<string, (key: string) => Promise<number>> = {
        'a bare put': (key) => timed(['records'], (tx) => tx.objectStore('records').put({ ...value, id: key })),
        'the put and the queue counter': (key) =>
          timed(['records', 'meta'], (tx) => {
            tx.objectStore('records').put({ ...value, id: key });
            tx.objectStore('meta').put(key, 'counter');
          }),
        "the save's three writes (and the draft's delete), no reads": (key) =>
          timed(['records', 'meta', 'forms'], (tx) => {
            tx.objectStore('records').put({ ...value, id: key });
            tx.objectStore('meta').put(key, 'counter');
            tx.objectStore('forms').delete(key);
          }),
        "the save's two reads, then its three writes (the app's design)": (key) =>
          timed(['records', 'meta', 'forms'], (tx) => {
            let waiting = 2;
            const then = () => {
              if (--waiting > 0) return;
              tx.objectStore('records').put({ ...value, id: key });
              tx.objectStore('meta').put(key, 'counter');
              tx.objectStore('forms').delete(key);
            };
            tx.objectStore('records').get(key).onsuccess = then;
            tx.objectStore('meta').get('counter').onsuccess = then;
          }),
        'the two reads and the three writes sent at once': (key) =>
          timed(['records', 'meta', 'forms'], (tx) => {
            tx.objectStore('records').get(key);
            tx.objectStore('meta').get('counter');
            tx.objectStore('records').put({ ...value, id: key });
            tx.objectStore('meta').put(key, 'counter');
            tx.objectStore('forms').delete(key);
          }),
      };
      const times: Record<string, number[]> = {};
      for (let round = 0; round < rounds; round++) {
        for (const [name, shape] of Object.entries(shapes)) (times[name] ??= []).push(await shape(`${name}-${round}`));
      }
      scratch.close();
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
    },
    { id, rounds },
  );
}

test("the save's transaction in plain JavaScript, shape by shape: what any design of the save costs at least", async ({ page }) => {
  const server = await Server.start();
  try {
    await logIn(page, server.baseUrl, 'zhangwei');
    await page.context().setOffline(true);
    const id = await submitInspection(page, 0, '事务形状');
    const rounds = 15;
    const shapes = await transactionShapes(page, id, rounds);
    const bare = shapes['a bare put'];
    for (const [name, ms] of Object.entries(shapes)) {
      console.log(`FIGURE transaction shape, ${name} (median of ${rounds}): ${ms.toFixed(2)} ms (${(ms / bare).toFixed(2)} × the bare put)`);
    }
  } finally {
    await server.stop();
  }
});
