// Leaving the inspection screen — another tab, a killed browser — loses nothing typed.
import { test, expect } from '@playwright/test';
import { Server } from './server';
import { NA, PASS, logIn, pageJpeg, sign, tab } from './phone';

let server: Server;

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('the form is kept as it is typed and comes back after leaving the screen and after a killed browser', async ({ page, context }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  await context.setOffline(true);
  await page.getByTestId('venue-row').first().click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
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
