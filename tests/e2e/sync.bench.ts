// One phone sending a backlog, measured: 1 000 complete records waiting on the phone (brought in as
// a backup file through 我的 → 导入备份文件, as a phone after a week with no signal would hold them),
// from the signal coming back to "synced". Prints figures only.
import { test, expect } from '@playwright/test';
import { Server } from './server';
import { logIn } from './phone';
import { backlog, importOffline, timeSyncOnline } from './backlog';

const N_RECORDS = 1_000;

test(`sync: ${N_RECORDS} records waiting on one phone`, async ({ page }) => {
  const server = await Server.start();
  try {
    const work = await backlog(server);
    const file = work.file(work.records(0, N_RECORDS), []);
    await logIn(page, server.baseUrl, 'zhangwei');
    await importOffline(page, [{ file, records: N_RECORDS }]);
    const elapsed = await timeSyncOnline(page);
    const onServer = (await server.pullAll(work.author.token)).filter((change) => change.entity === 'inspection');
    expect(onServer).toHaveLength(N_RECORDS);
    console.log(`FIGURE sync of ${N_RECORDS} complete records from one phone, loopback, to "synced": ${(elapsed / 1000).toFixed(2)} s`);
  } finally {
    await server.stop();
  }
});
