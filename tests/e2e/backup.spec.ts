// The last resort, end to end: a phone that never reaches the server exports its unsynced work; the
// officer imports the file on another phone, which sends it. Nothing is lost and nothing is doubled.
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { Server } from './server';
import { logIn, openRecord, pageJpeg, sessionToken, tab } from './phone';

let server: Server;

/** Picks `file` in 我的 → 导入备份文件. */
async function importBackup(page: Page, file: Buffer): Promise<void> {
  await page
    .getByTestId('import-unsynced')
    .locator('input[type="file"]')
    .setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: file });
}

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('a draft with a photo, exported from a phone with no signal, is imported on another phone and synced once', async ({ browser }) => {
  // The first phone: the draft and its photo are made offline and never leave it.
  const lost = await browser.newContext();
  const first = await lost.newPage();
  await logIn(first, server.baseUrl, 'zhangwei');
  await lost.setOffline(true);
  await first.getByTestId('venue-row').first().click();
  await first.locator('#inspection-notes').fill('手机损坏前的检查记录');
  const scene = await pageJpeg(first, 640, 480);
  await first
    .getByTestId('record-photos')
    .getByTestId('photo-file')
    .setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: scene });
  await expect(first.getByTestId('record-photos').locator('.photo-thumb img.thumb')).toHaveCount(1);
  await first.getByTestId('save-draft').click();
  await expect(first.getByTestId('record-row')).toHaveCount(1);
  await tab(first, '/me');
  const downloading = first.waitForEvent('download');
  await first.getByTestId('export-unsynced').click();
  const exported = readFileSync(await (await downloading).path());
  const document = JSON.parse(exported.toString('utf8'));
  expect(document.records).toHaveLength(1);
  expect(document.photos).toHaveLength(1);
  const id: string = document.records[0].id;
  await lost.close();

  // Another phone, the same officer: the file goes in through 我的 → 导入备份文件.
  const spare = await browser.newContext();
  const second = await spare.newPage();
  await logIn(second, server.baseUrl, 'zhangwei');
  await tab(second, '/me');
  await importBackup(second, exported);
  await expect(second.getByTestId('import-done')).toContainText('已导入 1 条记录、0 份未保存表单、1 张照片');
  await expect(second.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');

  // On the server once, with its notes and its photo.
  const token = await sessionToken(second);
  const onServer = (await server.pullAll(token)).filter((change) => change.id === id);
  expect(onServer).toHaveLength(1);
  expect(onServer[0].rev).toBe(1);
  expect(onServer[0].body.notes).toBe('手机损坏前的检查记录');
  const photo = onServer[0].body.photos[0];
  const served = await fetch(`${server.baseUrl}/api/photos/${photo}`, { headers: { authorization: `Bearer ${token}` } });
  expect(served.status).toBe(200);
  // The record's page shows the visit's photo: the evidence the supervisor will ask about.
  await openRecord(second, id);
  await expect(second.getByTestId('record-photos-shown').locator('img.thumb')).toHaveCount(1);
  await tab(second, '/me');

  // The same file again adds nothing: the phone keeps its copy, and the server still has one record.
  await importBackup(second, exported);
  await expect(second.getByTestId('import-done')).toHaveText('没有需要导入的新内容；1 条本机已有，保留本机的版本。');
  await expect(second.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  expect((await server.pullAll(token)).filter((change) => change.id === id)).toHaveLength(1);

  // Another officer's phone refuses it, naming whose work it is.
  const colleague = await browser.newContext();
  const third = await colleague.newPage();
  await logIn(third, server.baseUrl, 'liqiang');
  await tab(third, '/me');
  await importBackup(third, exported);
  await expect(third.getByTestId('import-refused')).toContainText('此备份文件是张伟的记录');
  await spare.close();
  await colleague.close();
});
