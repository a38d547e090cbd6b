// Keeping a cheap phone light: the officer chooses in 我的 how many months of colleagues' records the
// phone keeps; the choice survives a reload and a sync runs with it (the rule itself is tested in the
// core and on IndexedDB in tests/store.rs).
import { test, expect } from '@playwright/test';
import { Server } from './server';
import { logIn, tab } from './phone';

let server: Server;

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('the months of colleagues\' records kept are chosen in 我的 and kept across a reload', async ({ page }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  await tab(page, '/me');
  const keep = page.getByTestId('keep-months');
  await expect(keep).toHaveValue('12');
  await expect(keep.locator('option')).toHaveText(['近3个月', '近6个月', '近12个月', '近24个月', '全部保留']);
  await keep.selectOption('3');
  await page.screenshot({ path: test.info().outputPath('me-keep-months.png') });
  await page.reload();
  await tab(page, '/me');
  await expect(page.getByTestId('keep-months')).toHaveValue('3');
});
