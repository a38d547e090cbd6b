// Leaving the inspection screen — another tab, a killed browser — loses nothing typed.
import { test, expect } from '@playwright/test';
import { Server } from './server';
import { NA, PASS, completeRecord, editRecord, inspectOffline, pageJpeg, sign, syncNow, tab } from './phone';
import { DEMO_PASSWORD } from './server';

let server: Server;

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('the form is kept as it is typed and comes back after leaving the screen and after a killed browser', async ({ page, context }) => {
  const items = await inspectOffline(page, context, server.baseUrl, 'zhangwei');
  await items.nth(0).getByRole('button', { name: PASS }).click();
  await items.nth(1).getByRole('button', { name: NA }).click();
  await page.locator('#inspection-notes').fill('现场负责人不在，稍后补充');
  // A scene photo and the party's signature are part of the form too.
  const scene = await pageJpeg(page, 640, 480);
  await page
    .getByTestId('record-photos')
    .getByTestId('photo-file')
    .setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: scene });
  await expect(page.getByTestId('record-photos').locator('.photo-thumb img.thumb')).toHaveCount(1);
  await page.locator('#party-name').fill('刘建军');
  await sign(page, 'signature-party');
  // Kept once the form on the phone names the signature (autosave runs shortly after a change).
  await expect
    .poll(() =>
      page.evaluate(
        () =>
          new Promise<string>((resolve, reject) => {
            const open = indexedDB.open('fieldcheck');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const all = open.result.transaction('forms').objectStore('forms').getAll();
              all.onsuccess = () => {
                open.result.close();
                resolve(all.result[0]?.record?.party?.signature ?? '');
              };
              all.onerror = () => reject(all.error);
            };
          }),
      ),
    )
    .toMatch(/^[0-9a-f]{64}$/);

  // The browser is killed and opened again on the same screen: everything typed is back.
  await page.reload();
  await expect(page.getByTestId('form-resumed')).toBeVisible();
  await expect(page.locator('#inspection-notes')).toHaveValue('现场负责人不在，稍后补充');
  await expect(page.getByTestId('record-photos').locator('.photo-thumb img.thumb')).toHaveCount(1);
  await expect(page.getByTestId('signature-party').locator('img.thumb')).toBeVisible();
  await expect(page.locator('#party-name')).toHaveValue('刘建军');
  await expect(items.nth(0).getByRole('button', { name: PASS })).toHaveAttribute('aria-pressed', 'true');
  await expect(items.nth(1).getByRole('button', { name: NA })).toHaveAttribute('aria-pressed', 'true');

  // Another tab of the app, then back: 检查 offers the unsaved inspection.
  await tab(page, '/records');
  await tab(page, '/');
  const unsaved = page.getByTestId('unsaved-forms');
  await expect(unsaved).toBeVisible();
  await unsaved.getByTestId('continue-form').first().click();
  await expect(page.locator('#inspection-notes')).toHaveValue('现场负责人不在，稍后补充');

  // Saving turns the form into a record and the offer goes.
  const itemCount = await items.count();
  for (let idx = 2; idx < itemCount; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  // A pasted 200-character link wraps instead of widening the page.
  const longLink = `https://example.invalid/${'a'.repeat(200)}`;
  await page.locator('#inspection-notes').fill(`现场负责人不在，稍后补充 ${longLink}`);
  await page.getByTestId('save-draft').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  await expect(page.getByTestId('record-row')).toHaveCount(1);
  await page.getByTestId('record-row').first().click();
  await expect(page.locator('.notes')).toContainText(longLink);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await tab(page, '/');
  await expect(page.getByTestId('unsaved-forms')).toHaveCount(0);
});

test('a form write the phone refuses is told: under the form while it is open, over every screen once it is left', async ({ page, context }) => {
  const items = await inspectOffline(page, context, server.baseUrl, 'zhangwei');
  const venue = (await page.locator('.venue-name').textContent())?.trim() ?? '';
  await items.nth(0).getByRole('button', { name: PASS }).click();
  await expect(page.getByTestId('autosaved')).toContainText('已自动保存');

  // Another page of the site asks for a newer database: the app lets its connection go (and says
  // so), and every write it tries after is refused. The upgrade is then called off, so that the
  // database stays as it was for the app opened again.
  const other = await context.newPage();
  await other.goto(`${server.baseUrl}/robots.txt`);
  await other.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const open = indexedDB.open('fieldcheck', 1000);
        open.onupgradeneeded = () => open.transaction?.abort();
        open.onerror = () => resolve();
        open.onsuccess = () => resolve();
      }),
  );
  await expect(page.getByTestId('db-outdated')).toBeVisible();
  await page.locator('#inspection-notes').fill('消防通道堆放杂物');
  // In the officer's words, not IndexedDB's.
  await expect(page.getByTestId('autosave-failed')).toHaveText('草稿未能存到手机（本机数据库已关闭，请重新载入）');

  // A new version waits and the officer taps 重新载入: the form's write is refused, so the page is not
  // reloaded (that would drop what the phone could not keep). It is given back, the form still saying why.
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
    window.dispatchEvent(new Event('fieldcheck-update'));
  });
  await page.getByTestId('update-reload').click();
  await expect(page.getByTestId('reload-veil')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await expect(page.getByTestId('update-ready')).toBeVisible();
  await expect(page.getByTestId('autosave-failed')).toBeVisible();
  await expect(page.getByTestId('reload-refused')).toContainText('再点一次“重新载入”会直接重新载入');

  // The officer types on and leaves at once: the form's last write, made as it closes, is refused.
  await page.locator('#inspection-notes').fill('消防通道堆放杂物，已责令清理');
  await tab(page, '/records');
  const notice = page.getByTestId('form-not-kept');
  await expect(notice).toContainText(`刚才离开的「${venue}」检查表，最后的修改未能存到手机（本机数据库已关闭，请重新载入）。请重新打开该场所的检查核对。`);
  // It stays over the next screen until the officer has read it.
  await tab(page, '/me');
  await expect(notice).toBeVisible();
  await notice.getByRole('button', { name: '知道了' }).click();
  await expect(notice).toHaveCount(0);

  // A second tap on 重新载入 reloads whatever the answer: a database the app lost comes back so.
  const reloaded = page.waitForEvent('load');
  await page.getByTestId('update-reload').click();
  await reloaded;
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded ?? false)).toBe(false);
  // Opened again, the form is as the phone last kept it: the answer, without the notes.
  await tab(page, '/');
  await page.getByTestId('venue-row').first().click();
  await expect(page.getByTestId('form-resumed')).toBeVisible();
  await expect(items.nth(0).getByRole('button', { name: PASS })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('#inspection-notes')).toHaveValue('');
});

test('a draft reopened offline and finished after it synced goes up as the officer finished it, not as a conflict with their own draft', async ({ page, context }) => {
  // A draft saved with no signal, then reopened and typed into: the form is kept as typed.
  const items = await inspectOffline(page, context, server.baseUrl, 'zhangwei');
  await items.nth(0).getByRole('button', { name: PASS }).click();
  await page.getByTestId('save-draft').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  const row = page.getByTestId('record-row').first();
  await expect(row).toHaveAttribute('data-sync', 'pending');
  const id = ((await row.getAttribute('href')) ?? '').split('/').pop() ?? '';
  await editRecord(page, id);
  await page.locator('#inspection-notes').fill('负责人回来后补签');
  await expect(page.getByTestId('autosaved')).toContainText('已自动保存');

  // Signal returns: the run sends the draft, and the server holds it at rev 1.
  await context.setOffline(false);
  await syncNow(page);
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-pending', '0');

  // The officer goes back to the form, finishes the record and submits it.
  await editRecord(page, id);
  await expect(page.getByTestId('form-resumed')).toBeVisible();
  await expect(page.locator('#inspection-notes')).toHaveValue('负责人回来后补签');
  const itemCount = await items.count();
  for (let idx = 1; idx < itemCount; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  await completeRecord(page);
  await page.getByTestId('submit-inspection').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  await expect(page.locator(`[data-testid="record-row"][href="/records/${id}"]`).first()).toHaveAttribute('data-sync', 'pending');
  await syncNow(page);
  await tab(page, '/records');
  await expect(page.locator(`[data-testid="record-row"][href="/records/${id}"]`).first()).toHaveAttribute('data-sync', 'synced');

  const colleague = await server.login('liqiang', DEMO_PASSWORD);
  const [record] = (await server.pullAll(colleague.token)).filter((change) => change.id === id);
  expect(record.rev).toBe(2);
  expect(record.body.status).toBe('submitted');
  expect(record.body.notes).toBe('负责人回来后补签');
});
