// A record that stands as evidence: two officers, a failed item with a photo and a deadline, the
// party's signature, made offline, kept through a reload, synced whole, seen by the partner, printed.
import { test, expect, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { Server, DEMO_PASSWORD } from './server';
import { PASS, completeRecord, logIn, openRecord, pageJpeg, syncNow, tab } from './phone';

const FAIL = /^(✓ )?不合格$/;

let server: Server;

test.use({
  permissions: ['geolocation'],
  geolocation: { latitude: 34.6197, longitude: 112.454, accuracy: 12 },
});

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

/** The bytes the phone keeps for a photo, read from its IndexedDB. */
async function phoneBytes(page: Page, name: string): Promise<Buffer> {
  const base64 = await page.evaluate(
    (key) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('fieldcheck');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('photos').objectStore('photos').get(key);
          get.onerror = () => reject(get.error);
          get.onsuccess = async () => {
            const bytes = new Uint8Array(await (get.result.blob as Blob).arrayBuffer());
            let text = '';
            for (const byte of bytes) text += String.fromCharCode(byte);
            open.result.close();
            resolve(btoa(text));
          };
        };
      }),
    name,
  );
  return Buffer.from(base64, 'base64');
}

/** A date `days` after today in China, as the date input takes it. */
function daysAhead(days: number): string {
  const now = new Date(Date.now() + 8 * 3600 * 1000 + days * 86400 * 1000);
  return now.toISOString().slice(0, 10);
}

test('a complete on-site record with two officers, a photo and signatures is made offline, synced whole, seen by the partner and printed', async ({ page, context, browser }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  const jpeg = await pageJpeg(page);
  await context.setOffline(true);

  await page.getByTestId('venue-row').filter({ hasText: '星际网咖' }).click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  // The position is asked for when the inspection starts, with its accuracy.
  await expect(page.getByTestId('location')).toContainText('34.61970, 112.45400');
  await expect(page.getByTestId('location')).toContainText('±12');

  // A special inspection with no campaign running says so and offers a routine one.
  await page.locator('#inspection-kind').selectOption('special');
  await expect(page.getByTestId('no-campaign')).toContainText('当前没有进行中');
  await page.getByTestId('no-campaign').getByRole('button').click();
  await expect(page.locator('#inspection-kind')).toHaveValue('routine');

  const count = await items.count();
  for (let idx = 0; idx < count; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  // The fire exit is blocked: a hazard, its photo, and an order to fix it by a deadline.
  const exit = page.locator('[data-item="common.fire_exits"]');
  await exit.getByRole('button', { name: FAIL }).click();
  await exit.locator('textarea[id$="-hazard"]').fill('后门安全出口堆放杂物');
  const onSite = exit.getByRole('button', { name: '当场整改' });
  const deadline = exit.getByRole('button', { name: '限期整改' });
  await expect(onSite).toHaveAttribute('aria-pressed', 'false');
  await expect(deadline).toHaveAttribute('aria-pressed', 'false');
  await deadline.click();
  await exit.locator('input[type="date"]').fill(daysAhead(7));
  const chooser = page.waitForEvent('filechooser');
  await exit.getByTestId('hazard-photos-common.fire_exits').locator('label', { hasText: '相册' }).click();
  await (await chooser).setFiles({ name: 'exit.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await expect(exit.locator('.photo-thumb img.thumb')).toHaveCount(1);
  const photoName = (await exit.locator('.photo-thumb').getAttribute('data-photo')) ?? '';
  expect(photoName).toMatch(/^[0-9a-f]{64}$/);
  await page.getByTestId('warning-issued').check();

  // Submitting too early names what is missing, above the save bar.
  await page.getByTestId('submit-inspection').click();
  const problems = page.locator('#form-problems');
  await expect(problems).toContainText('现场检查须两名执法人员');
  await expect(problems).toContainText('须由当事人签名');
  await expect(page).toHaveURL(/\/inspect\//);

  await completeRecord(page, '陈静', '刘建军');
  // The list follows the fixes: nothing is left once everything is there.
  await expect(problems).not.toContainText('现场检查须两名执法人员');
  await expect(problems).not.toContainText('须由当事人签名');
  await page.getByTestId('submit-inspection').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  const row = page.getByTestId('record-row').first();
  await expect(row).toHaveAttribute('data-sync', 'pending');
  const id = ((await row.getAttribute('href')) ?? '').split('/').pop() ?? '';

  // The save is announced once: the address drops its flag, so a reload does not say it again.
  await expect(page.locator('.records-page .banner-ok')).toContainText('已保存在本机');
  await expect(page).toHaveURL(/\/records$/);
  // A reload with no network keeps everything; the record says its photos wait.
  await page.reload();
  await expect(page.getByTestId('record-row').first()).toBeVisible();
  await expect(page.locator('.records-page .banner-ok')).toHaveCount(0);
  await openRecord(page, id);
  await expect(page.getByTestId('photos-waiting')).toContainText('个附件待上传');
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'offline');

  // Back online: the photos go first, then the record.
  await context.setOffline(false);
  await syncNow(page);
  await tab(page, '/records');
  await expect(page.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-photos', '0');

  const officer = await server.login('zhangwei', DEMO_PASSWORD);
  const record = (await server.pullAll(officer.token)).find((change) => change.id === id);
  expect(record?.body.status).toBe('submitted');
  expect(record?.body.inspectors).toHaveLength(2);
  expect(record?.body.warning_issued).toBe(true);
  expect(record?.body.location.lat).toBeCloseTo(34.6197, 4);
  const hazard = record?.body.hazards.find((h: { item: string }) => h.item === 'common.fire_exits');
  expect([hazard.rectify, hazard.deadline, hazard.photos]).toEqual(['deadline', daysAhead(7), [photoName]]);
  expect(record?.body.officer_signatures).toHaveLength(2);
  expect(record?.body.party.signature).toMatch(/^[0-9a-f]{64}$/);
  // The server holds exactly the phone's bytes, and they hash to the name.
  for (const name of [photoName, record?.body.party.signature]) {
    const response = await fetch(`${server.baseUrl}/api/photos/${name}`, {
      headers: { authorization: `Bearer ${officer.token}` },
    });
    expect(response.status).toBe(200);
    const onServer = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(onServer).digest('hex')).toBe(name);
    expect(onServer.equals(await phoneBytes(page, name))).toBe(true);
  }

  // The partner's phone lists the record.
  const partnerContext = await browser.newContext();
  const partner = await partnerContext.newPage();
  await logIn(partner, server.baseUrl, 'chenjing');
  await tab(partner, '/records');
  await expect(partner.locator(`[data-testid="record-row"][href="/records/${id}"]`)).toBeVisible();
  // Their printout shows the photo and the signatures, fetched from the server and kept.
  await partner.locator(`[data-testid="record-row"][href="/records/${id}"]`).click();
  await partner.getByTestId('print-record').click();
  await expect(partner.getByTestId('print-photos').locator('img.thumb')).toHaveCount(1);
  await expect(partner.locator('.sheet-signature-image img.thumb')).toHaveCount(3);
  await partnerContext.close();

  // The printout: the hazard, both certificate numbers, the photo appendix with hashes, the order.
  await openRecord(page, id);
  await page.getByTestId('print-record').click();
  const minutes = page.getByTestId('print-minutes');
  await expect(minutes).toContainText('现场检查笔录');
  await expect(page.getByTestId('print-findings').first()).toContainText('后门安全出口堆放杂物');
  await expect(page.getByTestId('print-officers')).toContainText('豫C-0101023');
  await expect(page.getByTestId('print-officers')).toContainText('豫C-0101088');
  await expect(page.getByTestId('print-photos')).toContainText(photoName);
  await expect(page.getByTestId('print-photos').locator('img.thumb')).toHaveCount(1);
  const order = page.getByTestId('print-order');
  await expect(order).toContainText('责令改正通知书');
  // Served by both officers, issued under the unit's seal, with a line for the party's receipt.
  await expect(order).toContainText('豫C-0101023');
  await expect(order).toContainText('豫C-0101088');
  await expect(order).toContainText('（印章）');
  await expect(order.getByTestId('print-order-receipt')).toContainText('当事人签收');
  // Synced, with both officers' certificates known to the phone: nothing says it is not to be served.
  await expect(order.getByTestId('print-order-incomplete')).toHaveCount(0);
  await expect(page.getByTestId('print-incomplete')).toHaveCount(0);
  await expect(order.getByTestId('print-order-not-final')).toHaveCount(0);
  await expect(minutes).toContainText('当场给予警告');
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.tabbar')).toBeHidden();
  await page.screenshot({ path: test.info().outputPath('print.png'), fullPage: true });
});
