// A supervisor's phone with 10 000 of the unit's records and 2 000 venues, measured: the app's start
// beside a phone with the demo's records, the first pull of them all, 记录 and 场所 drawn, a search
// narrowing each, the hazard board, and the server's figures for the year. Prints figures only.
import { test, expect, type Page } from '@playwright/test';
import { createHash, randomUUID } from 'node:crypto';
import { Server, DEMO_PASSWORD } from './server';
import { settled, timeInPage } from './timing';

const N_RECORDS = 10_000;
/** Venues registered besides the demo's, as in a large district. */
const N_VENUES = 2_000;
const BATCH = 500;
/** App starts timed on each phone, in turns: pairs enough for the rank test below to tell a start
 * slower by about a twentieth from this machine's spread of starts. */
const START_RUNS = 15;

/** A 1×1 grey PNG: every signature on the generated records. */
const SIGNATURE = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010800000000' +
    '3a7e9b550000000a4944415478da6360000000020001e527defc0000000049454e44ae426082',
  'hex',
);

async function api(server: Server, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/** Pushes `N_RECORDS` complete records of zhangwei and chenjing over the unit's venues, one in ten with a deadline hazard. */
async function seed(server: Server): Promise<void> {
  const author = await server.login('zhangwei', DEMO_PASSWORD);
  const partner = (await api(server, author.token, 'GET', '/api/users')).users.find(
    (user: { username: string }) => user.username === 'chenjing',
  );
  const signature = createHash('sha256').update(SIGNATURE).digest('hex');
  const upload = await fetch(`${server.baseUrl}/api/photos/${signature}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${author.token}`, 'content-type': 'image/png' },
    body: SIGNATURE,
  });
  if (!upload.ok) throw new Error(`signature upload answered ${upload.status}`);
  const templates = new Map<string, string[]>(
    (await api(server, author.token, 'GET', '/api/templates')).templates.map(
      (template: { kind: string; items: Array<{ code: string }> }) => [template.kind, template.items.map((item) => item.code)],
    ),
  );
  const venues = (await server.pullAll(author.token)).filter((change) => change.entity === 'venue').map((change) => change.body);
  // A large district's register: the demo venues' kinds and addresses under other names.
  let registered: unknown[] = [];
  for (let idx = 0; idx < N_VENUES; idx++) {
    const like = venues[idx % venues.length];
    const id = randomUUID();
    const body = { ...like, id, name: `${like.name}第${idx + 1}分店`, licence_no: '', initials: '' };
    registered.push({ op_id: randomUUID(), entity: 'venue', id, base_rev: 0, body });
    if (registered.length === BATCH || idx === N_VENUES - 1) {
      const answer = await api(server, author.token, 'POST', '/api/sync/push', { device_id: randomUUID(), mutations: registered });
      const refused = answer.results.filter((result: { status: string }) => result.status !== 'applied');
      if (refused.length) throw new Error(`venue seed refused: ${JSON.stringify(refused[0])}`);
      registered = [];
    }
  }
  const start = Date.parse('2026-01-05T09:00:00+08:00');
  let mutations: unknown[] = [];
  for (let idx = 0; idx < N_RECORDS; idx++) {
    const venue = venues[idx % venues.length];
    const day = new Date(start + (idx % 330) * 86_400_000);
    const at = `${day.toISOString().slice(0, 10)}T10:00:00+08:00`;
    const withHazard = idx % 10 === 0;
    const answers = (templates.get(venue.kind) ?? []).map((code) => ({
      item: code,
      result: withHazard && code === 'common.fire_exits' ? 'fail' : 'pass',
    }));
    const deadline = new Date(day.getTime() + 5 * 86_400_000).toISOString().slice(0, 10);
    const id = randomUUID();
    const body = {
      id, venue_id: venue.id, kind: 'routine', template: `${venue.kind}@1`, started_at: at, finished_at: at,
      inspectors: [author.user.id, partner.id], answers,
      hazards: withHazard
        ? [{ id: randomUUID(), item: 'common.fire_exits', description: '安全出口堵塞', rectify: 'deadline', deadline, status: 'open' }]
        : [],
      party: { name: '刘建军', title: '负责人', signature, refused: false },
      officer_signatures: [
        { officer: author.user.id, signature },
        { officer: partner.id, signature },
      ],
      notes: '', status: 'submitted',
    };
    mutations.push({ op_id: randomUUID(), entity: 'inspection', id, base_rev: 0, body });
    if (mutations.length === BATCH || idx === N_RECORDS - 1) {
      const answer = await api(server, author.token, 'POST', '/api/sync/push', { device_id: randomUUID(), mutations });
      const refused = answer.results.filter((result: { status: string }) => result.status !== 'applied');
      if (refused.length) throw new Error(`seed refused: ${JSON.stringify(refused[0])}`);
      mutations = [];
    }
  }
}

/** Marks, in every page `page` opens, the moment the app's own first venue row is in the DOM. */
async function markFirstRows(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (window as unknown as { fieldcheckFirstRows: Promise<number> }).fieldcheckFirstRows = new Promise<number>((resolve) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector('[data-testid="venue-row"]')) {
          observer.disconnect();
          resolve(performance.now());
        }
      });
      observer.observe(document, { subtree: true, childList: true });
    });
  });
}

/** Opens the app again (from the service worker, the officer logged in) and returns the ms from
 * the navigation's start to the app's own first venue rows, timed in the page. The phones are
 * offline, so that no sync run differs between them, and each start's page is left for a blank one
 * once its work is done: the other phone's start is timed with nothing else running. */
async function appStart(page: Page, baseUrl: string): Promise<number> {
  await page.goto(`${baseUrl}/`, { waitUntil: 'commit' });
  const start = await page.evaluate(() =>
    Promise.race([
      (window as unknown as { fieldcheckFirstRows: Promise<number> }).fieldcheckFirstRows,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no venue row within 30 s of the start')), 30_000)),
    ]),
  );
  // The register read behind the first rows, and the boot copy kept after them.
  await settled(page);
  await page.goto('about:blank');
  return start;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** The exact one-sided Wilcoxon signed-rank test that `first` is slower than `second`, pair by pair
 * (`first[i] - second[i]`, timed in turns, so that a drift of the machine's speed falls on both).
 * Under "neither is slower" each difference is as likely to come out negated, so the share of the 2^n
 * ways of signing the differences' ranks whose positive ranks add up to at least the measured sum is
 * the chance of a result this slow. Ranks, not the milliseconds themselves: one start caught by
 * something else on the machine moves one rank, not the whole sum. A p below 0.05 says `first` is
 * slower; above it, the runs do not show it slower (two medians alone land either side of each
 * other half the time when the starts are equal). Equal pairs count for neither side. */
function slowerTest(first: number[], second: number[]): { p: number; reaching: number; choices: number } {
  const differences = first.map((value, idx) => value - second[idx]).filter((difference) => difference !== 0);
  const order = differences.map((_, idx) => idx).sort((a, b) => Math.abs(differences[a]) - Math.abs(differences[b]));
  const ranks = new Array<number>(differences.length);
  for (let at = 0; at < order.length; ) {
    let until = at;
    while (until + 1 < order.length && Math.abs(differences[order[until + 1]]) === Math.abs(differences[order[at]])) until++;
    // Tied sizes share the mean of their ranks (1-based).
    for (let idx = at; idx <= until; idx++) ranks[order[idx]] = (at + until) / 2 + 1;
    at = until + 1;
  }
  const measured = ranks.reduce((sum, rank, idx) => sum + (differences[idx] > 0 ? rank : 0), 0);
  let reaching = 0;
  const choices = 2 ** ranks.length;
  for (let signs = 0; signs < choices; signs++) {
    const positive = ranks.reduce((sum, rank, idx) => sum + ((signs >> idx) & 1 ? rank : 0), 0);
    if (positive >= measured) reaching++;
  }
  return { p: reaching / choices, reaching, choices };
}

test('records: a supervisor phone with 10 000 of the unit\'s records', async ({ page, browser }) => {
  const server = await Server.start();
  try {
    // The same supervisor's app on a phone holding only the demo's records, logged in before the
    // 10 000 exist and kept offline after: the start the one with them must not be slower than.
    const { viewport, locale, timezoneId, serviceWorkers, userAgent, deviceScaleFactor, isMobile, hasTouch } = test.info().project.use;
    const demo = await browser.newContext({ viewport, locale, timezoneId, serviceWorkers, userAgent, deviceScaleFactor, isMobile, hasTouch });
    const demoPage = await demo.newPage();
    await markFirstRows(demoPage);
    await demoPage.goto(`${server.baseUrl}/login`);
    await demoPage.locator('input[name="username"]').fill('wangfang');
    await demoPage.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await demoPage.locator('button[type="submit"]').click();
    await expect(demoPage.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    await demoPage.evaluate(() => navigator.serviceWorker.ready);
    await demo.setOffline(true);

    await seed(server);
    const figure = (name: string, ms: number) => console.log(`FIGURE ${name}: ${Math.round(ms)} ms`);

    // The app's wasm memory, kept from Trunk's start event, for the memory over repeated visits.
    await page.addInitScript(() =>
      addEventListener('TrunkApplicationStarted', (event) => {
        (window as any).fieldcheckWasmMemory = (event as CustomEvent).detail.wasm.memory;
      }),
    );
    await page.goto(`${server.baseUrl}/login`);
    await page.locator('input[name="username"]').fill('wangfang');
    await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
    let started = performance.now();
    await page.locator('button[type="submit"]').click();
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced', { timeout: 300_000 });
    figure(`login and first pull of ${N_RECORDS} records`, performance.now() - started);

    // The app started again, now holding them all, in turns with the demo's phone (this machine's
    // speed drifts over minutes): as quick as with the demo's records.
    await markFirstRows(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.context().setOffline(true);
    const demoStarts: number[] = [];
    const starts: number[] = [];
    // One start each untimed: the first after a while idle is not what an officer opening the app
    // again meets.
    await appStart(demoPage, server.baseUrl);
    await appStart(page, server.baseUrl);
    // Each phone goes first in every other pair: going second must not count as being slower.
    for (let run = 0; run < START_RUNS; run++) {
      if (run % 2 === 0) {
        demoStarts.push(await appStart(demoPage, server.baseUrl));
        starts.push(await appStart(page, server.baseUrl));
      } else {
        starts.push(await appStart(page, server.baseUrl));
        demoStarts.push(await appStart(demoPage, server.baseUrl));
      }
    }
    await demo.close();
    await page.context().setOffline(false);
    await page.goto(`${server.baseUrl}/`);
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    const runs = (values: number[]) => values.map(Math.round).join(', ');
    console.log(`FIGURE app start to its own first venue rows, the demo's records (median of ${START_RUNS}): ${Math.round(median(demoStarts))} ms (${runs(demoStarts)})`);
    console.log(`FIGURE app start to its own first venue rows, ${N_RECORDS} records and ${N_VENUES} venues more (median of ${START_RUNS}): ${Math.round(median(starts))} ms (${runs(starts)})`);
    console.log(`FIGURE app start with ${N_RECORDS} records over the start with the demo's, medians: ${(median(starts) / median(demoStarts)).toFixed(3)}`);
    const differences = starts.map((value, idx) => value - demoStarts[idx]);
    console.log(`FIGURE app start with ${N_RECORDS} records against the demo's, each pair in turns: median difference ${median(differences).toFixed(1)} ms, ${differences.filter((difference) => difference > 0).length} of ${START_RUNS} slower`);
    const slower = slowerTest(starts, demoStarts);
    console.log(`FIGURE app start with ${N_RECORDS} records slower than the demo's, one-sided Wilcoxon signed-rank test: p = ${(Math.floor(slower.p * 10_000) / 10_000).toFixed(4)} (${slower.reaching} of ${slower.choices} signings of ${START_RUNS} pairs)`);

    // The baseline: a bare IndexedDB read of every stored record, with no decoding.
    const bare = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('fieldcheck');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const begun = performance.now();
            const all = open.result.transaction('inspections').objectStore('inspections').getAll();
            all.onsuccess = () => {
              resolve(performance.now() - begun);
              open.result.close();
            };
            all.onerror = () => reject(all.error);
          };
        }),
    );
    figure(`bare IndexedDB getAll of the ${N_RECORDS} stored records (baseline)`, bare);

    // Timed in the page, from the tap to the DOM showing the answer. Five visits from the venue
    // list, each begun with the app at rest: the visit before it had read its whole list, and the
    // venue list its whole register (加载更多 shows once it has). (Tapped the moment the venue list
    // shows, a visit waits on the browser still handing over the previous visit's 10 000 records,
    // which its page no longer wants: 65–109 ms measured so.)
    const visits: number[] = [];
    const wholeReads: number[] = [];
    for (let visit = 0; visit < 5; visit++) {
      await page.locator('body > nav.tabbar a[href="/"]').click();
      await expect(page.getByTestId('venues-more')).toBeVisible();
      visits.push(
        await timeInPage(page, {
          action: 'click',
          selector: 'body > nav.tabbar a[href="/records"]',
          doneSelector: '[data-testid="record-row"]',
        }),
      );
      started = performance.now();
      await expect(page.getByTestId('records-count')).toHaveText(`共 ${N_RECORDS} 条`);
      await expect(page.getByTestId('record-row')).toHaveCount(50);
      wholeReads.push(performance.now() - started);
    }
    visits.sort((a, b) => a - b);
    wholeReads.sort((a, b) => a - b);
    console.log(`FIGURE 记录: the newest rows drawn (of ${N_RECORDS}), median of 5: ${Math.round(visits[2])} ms (${visits.map(Math.round).join(', ')})`);
    figure(`记录: all ${N_RECORDS} read, counted and ready to filter (after the newest rows), median of 5`, wholeReads[2]);

    await page.locator('details.filters > summary').click();
    const search = await timeInPage(page, {
      action: 'type',
      selector: '[data-testid="records-search"]',
      text: '星际',
      doneSelector: '[data-testid="records-count"]',
      notText: `共 ${N_RECORDS} 条`,
    });
    await expect(page.getByTestId('records-count')).not.toHaveText(`共 ${N_RECORDS} 条`);
    figure('search narrowing 记录', search);

    // Memory over 30 visits of 记录, each until all of it is read: the wasm memory (which never
    // shrinks, so flat means no growth after the first visits) and the JS heap after a collection.
    const cdp = await page.context().newCDPSession(page);
    const memory = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      const wasm: number = await page.evaluate(() => (window as any).fieldcheckWasmMemory.buffer.byteLength);
      return `wasm ${(wasm / 2 ** 10).toFixed(0)} KiB, JS heap ${(usedSize / 2 ** 10).toFixed(0)} KiB`;
    };
    const seen: string[] = [];
    for (let visit = 1; visit <= 30; visit++) {
      await page.locator('body > nav.tabbar a[href="/"]').click();
      await expect(page.getByTestId('venue-row').first()).toBeVisible();
      await page.locator('body > nav.tabbar a[href="/records"]').click();
      await expect(page.getByTestId('records-count')).toHaveText(`共 ${N_RECORDS} 条`);
      if ([1, 10, 20, 30].includes(visit)) seen.push(`after ${visit}: ${await memory()}`);
    }
    console.log(`FIGURE memory over 30 visits of 记录 (${N_RECORDS} records): ${seen.join('; ')}`);

    // A sync that pulls one change while 记录 is open: how often the whole list is read again (its
    // register read, `fieldcheck:venues-register`, is one per read of the whole list).
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    await page.evaluate(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
      performance.clearMeasures();
      // The run at once when the browser says it is online (the online spread's draw is 0).
      (window as unknown as { fieldcheckRandom: () => number }).fieldcheckRandom = Math.random;
      Math.random = () => 0;
    });
    const colleague = await server.login('zhangwei', DEMO_PASSWORD);
    const like = (await server.pullAll(colleague.token)).find((change) => change.entity === 'venue')!.body;
    const newVenue = crypto.randomUUID();
    await api(server, colleague.token, 'POST', '/api/sync/push', {
      device_id: crypto.randomUUID(),
      mutations: [{ op_id: crypto.randomUUID(), entity: 'venue', id: newVenue, base_rev: 0, body: { ...like, id: newVenue, name: `${like.name}（新址）`, licence_no: '', initials: '' } }],
    });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    const wholeListReads = () =>
      page.evaluate(() => performance.getEntriesByName('fieldcheck:venues-register', 'measure').map((entry) => Math.round(entry.duration)));
    await expect.poll(async () => (await wholeListReads()).length, { timeout: 60_000 }).toBeGreaterThan(0);
    // Until the app has settled: a second read would have begun and ended by then.
    await settled(page);
    const afterSync = await wholeListReads();
    await page.evaluate(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = false;
      Math.random = (window as unknown as { fieldcheckRandom: () => number }).fieldcheckRandom;
    });
    console.log(`FIGURE 记录 open while a sync pulls one change: ${afterSync.length} read(s) of the whole list (its register part ${afterSync.join(', ')} ms)`);

    // 场所 with the district's register, from 记录 at rest: the first rows, then a search for one
    // venue among them all.
    const venueVisits: number[] = [];
    for (let visit = 0; visit < 5; visit++) {
      await page.locator('body > nav.tabbar a[href="/records"]').click();
      await expect(page.getByTestId('records-count')).toHaveText(`共 ${N_RECORDS} 条`);
      venueVisits.push(
        await timeInPage(page, { action: 'click', selector: 'body > nav.tabbar a[href="/"]', doneSelector: '[data-testid="venue-row"]' }),
      );
    }
    venueVisits.sort((a, b) => a - b);
    console.log(`FIGURE 场所: the first rows drawn (of ${N_VENUES} and the demo's), median of 5: ${Math.round(venueVisits[2])} ms (${venueVisits.map(Math.round).join(', ')})`);
    // A search for one venue: typed the moment the first rows show (it waits for the register,
    // which is read after them), then again with the register read.
    const firstVenue = (await page.getByTestId('venue-row').first().textContent()) ?? '';
    const searchOne = () =>
      timeInPage(page, {
        action: 'type',
        selector: 'input[name="q"]',
        text: `第${N_VENUES}分店`,
        doneSelector: '[data-testid="venue-row"]',
        notText: firstVenue.trim(),
      });
    const venueSearchAtOnce = await searchOne();
    await expect(page.getByTestId('venue-row')).toHaveCount(1);
    figure(`search narrowing 场所 to one venue of ${N_VENUES}, typed as the first rows show`, venueSearchAtOnce);
    await page.locator('input[name="q"]').fill('');
    await expect(page.getByTestId('venues-more')).toBeVisible();
    const venueSearch = await searchOne();
    await expect(page.getByTestId('venue-row')).toHaveCount(1);
    figure(`search narrowing 场所 to one venue of ${N_VENUES}, the register read`, venueSearch);
    // The app opened again (the register's digest kept from before): typed as the first rows show.
    await page.locator('input[name="q"]').fill('');
    await page.reload();
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    const venueSearchReopened = await searchOne();
    await expect(page.getByTestId('venue-row')).toHaveCount(1);
    figure(`search narrowing 场所 to one venue of ${N_VENUES}, typed as the first rows show in the app opened again`, venueSearchReopened);

    // One more visit, with the app's spans on: how often and how long the register is read.
    await page.locator('input[name="q"]').fill('');
    await page.locator('body > nav.tabbar a[href="/records"]').click();
    await expect(page.getByTestId('records-count')).toHaveText(`共 ${N_RECORDS} 条`);
    await page.evaluate(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
      performance.clearMeasures();
    });
    await page.locator('body > nav.tabbar a[href="/"]').click();
    await expect(page.getByTestId('venues-more')).toBeVisible();
    await settled(page);
    const [registerReads, storeReads] = await page.evaluate(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = false;
      const spans = (name: string) => performance.getEntriesByName(name, 'measure').map((entry) => Math.round(entry.duration));
      return [spans('fieldcheck:venues-register'), spans('fieldcheck:venues-register-whole')];
    });
    console.log(`FIGURE 场所: the register read behind the first rows, per visit: ${registerReads.length} read(s), ${registerReads.join(', ')} ms, of which ${storeReads.length} of the venues store itself (${storeReads.join(', ')} ms), the rest from its digest`);

    // The same from 我的, which holds no list: what leaving 记录's 10 000 records costs the visit.
    const lightVisits: number[] = [];
    for (let visit = 0; visit < 5; visit++) {
      await page.locator('body > nav.tabbar a[href="/me"]').click();
      await expect(page.getByTestId('link-hazards')).toBeVisible();
      lightVisits.push(
        await timeInPage(page, { action: 'click', selector: 'body > nav.tabbar a[href="/"]', doneSelector: '[data-testid="venue-row"]' }),
      );
      await expect(page.getByTestId('venues-more')).toBeVisible();
    }
    lightVisits.sort((a, b) => a - b);
    console.log(`FIGURE 场所 from 我的: the first rows drawn, median of 5: ${Math.round(lightVisits[2])} ms (${lightVisits.map(Math.round).join(', ')})`);

    // From 我的 → 隐患跟踪, timed in the page to the first open hazard drawn.
    await page.locator('body > nav.tabbar a[href="/me"]').click();
    await expect(page.getByTestId('link-hazards')).toBeVisible();
    const board = await timeInPage(page, {
      action: 'click',
      selector: '[data-testid="link-hazards"]',
      doneSelector: '[data-testid="open-hazard"]',
    });
    await expect(page.getByTestId('hazard-summary')).toContainText(`未整改隐患 ${N_RECORDS / 10} 处`);
    await expect(page.getByTestId('open-hazard')).toHaveCount(50);
    await expect(page.getByTestId('hazards-more')).toContainText(`还有 ${N_RECORDS / 10 - 50} 条`);
    figure(`hazard board (${N_RECORDS / 10} open hazards), from the tap to the first drawn`, board);

    started = performance.now();
    await page.goto(`${server.baseUrl}/stats`);
    await page.getByTestId('stats-from').fill('2026-01-01');
    await page.getByTestId('stats-to').fill('2026-12-31');
    await page.getByTestId('stats-to').dispatchEvent('change');
    await expect(page.getByTestId('stats-summary')).toContainText(`共检查各类场所${N_RECORDS}家次`);
    figure('figures of the year from the server', performance.now() - started);
  } finally {
    await server.stop();
  }
});
