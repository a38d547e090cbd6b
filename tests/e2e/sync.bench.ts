// One phone sending a backlog, measured: 1 000 complete records waiting on the phone (brought in as
// a backup file through 我的 → 导入备份文件, as a phone after a week with no signal would hold them),
// from the signal coming back to "synced", on loopback and over a mobile link's round trip. Prints
// figures only.
import { test, expect, type Page } from '@playwright/test';
import { Server } from './server';
import { logIn } from './phone';
import { backlog, importOffline, LINK_RTT_MS, mobileLink, timeSyncOnline } from './backlog';

const N_RECORDS = 1_000;

async function syncBacklog(page: Page, link: 'loopback' | 'mobile'): Promise<void> {
  const server = await Server.start();
  try {
    const work = await backlog(server);
    const file = work.file(work.records(0, N_RECORDS), []);
    await logIn(page, server.baseUrl, 'zhangwei');
    const { goOffline, goOnline } = link === 'mobile' ? await mobileLink(page) : {};
    await importOffline(page, [{ file, records: N_RECORDS }], goOffline);
    // The app records its spans only while the page asks (src/timing.rs).
    await page.evaluate(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
      performance.clearMeasures();
    });
    const elapsed = await timeSyncOnline(page, goOnline);
    // Where the time went: the app's spans (src/timing.rs), summed by name.
    const spans: Array<{ name: string; ms: number; n: number }> = await page.evaluate(() => {
      const sums = new Map<string, { ms: number; n: number }>();
      for (const entry of performance.getEntriesByType('measure')) {
        if (!entry.name.startsWith('fieldcheck:')) continue;
        const sum = sums.get(entry.name) ?? { ms: 0, n: 0 };
        sum.ms += entry.duration;
        sum.n += 1;
        sums.set(entry.name, sum);
      }
      return [...sums].map(([name, sum]) => ({ name, ...sum }));
    });
    const onServer = (await server.pullAll(work.author.token)).filter((change) => change.entity === 'inspection');
    expect(onServer).toHaveLength(N_RECORDS);
    const where = link === 'mobile' ? `${LINK_RTT_MS} ms round trip` : 'loopback';
    console.log(`FIGURE sync of ${N_RECORDS} complete records from one phone, ${where}, to "synced": ${(elapsed / 1000).toFixed(2)} s`);
    for (const span of spans) {
      console.log(`FIGURE   of which ${span.name.replace('fieldcheck:', '')}: ${(span.ms / 1000).toFixed(2)} s in ${span.n}`);
    }
  } finally {
    await server.stop();
  }
}

test(`sync: ${N_RECORDS} records waiting on one phone, loopback`, async ({ page }) => syncBacklog(page, 'loopback'));
test(`sync: ${N_RECORDS} records waiting on one phone, over a ${LINK_RTT_MS} ms round trip`, async ({ page }) =>
  syncBacklog(page, 'mobile'));
