// What an inspector does on a phone, step by step, for the end-to-end flows.
import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { DEMO_PASSWORD } from './server';

/** The chosen answer gains a check mark, so that the choice never shows by colour alone. */
export const PASS = /^(✓ )?合格$/;
export const NA = /^(✓ )?不适用$/;
/**
 * How long to wait for the sync the app starts by itself after coming online: its random wait
 * (at most ONLINE_SPREAD_MS, 30 s, crates/fieldcheck-core/src/sync.rs) and the sync after it.
 */
export const ONLINE_WAIT_MS = 45_000;

/** Logs in on the login page and waits until the first sync has finished. */
export async function logIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('venue-row').first()).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
}

/** Logs in, loses the signal and opens the first venue's checklist: the checklist's items. */
export async function inspectOffline(page: Page, context: BrowserContext, baseUrl: string, username: string): Promise<Locator> {
  await logIn(page, baseUrl, username);
  await context.setOffline(true);
  await page.getByTestId('venue-row').first().click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  return items;
}

/** Draws a short stroke on the signature pad `testid` with the pointer and confirms it. */
export async function sign(page: Page, testid: string): Promise<void> {
  const pad = page.getByTestId(testid);
  const canvas = pad.locator('canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error(`signature pad ${testid} has no box`);
  await page.mouse.move(box.x + 20, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + 90, box.y + 90, { steps: 6 });
  await page.mouse.move(box.x + 160, box.y + 30, { steps: 6 });
  await page.mouse.up();
  await pad.getByTestId('signature-confirm').click();
  await expect(pad.locator('img.thumb')).toBeVisible();
}

/** Fills what a submission needs besides the answers: the partner, both officers' signatures, the party and their signature. */
export async function completeRecord(page: Page, partner = '陈静', party = '刘建军'): Promise<void> {
  const option = page.locator('#inspection-partner option', { hasText: partner });
  await page.locator('#inspection-partner').selectOption((await option.getAttribute('value')) ?? '');
  await sign(page, 'signature-lead');
  await sign(page, 'signature-partner');
  await page.locator('#party-name').fill(party);
  await sign(page, 'signature-party');
}

/** Records an inspection at the venue in row `venueRow`, every item 合格, with a partner and signatures, and submits it; returns the record id. */
export async function submitInspection(page: Page, venueRow = 0, notes = '', partner = '陈静'): Promise<string> {
  await page.getByTestId('venue-row').nth(venueRow).click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  const itemCount = await items.count();
  for (let idx = 0; idx < itemCount; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  if (notes) await page.locator('#inspection-notes').fill(notes);
  await completeRecord(page, partner);
  await page.getByTestId('submit-inspection').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  const row = page.getByTestId('record-row').first();
  const href = await row.getAttribute('href');
  return (href ?? '').split('/').pop() ?? '';
}

/** Goes to a tab by its link (client-side, so it works offline too). */
export async function tab(page: Page, href: '/' | '/records' | '/me'): Promise<void> {
  await page.locator(`body > nav.tabbar a[href="${href}"]`).click();
  await expect(page).toHaveURL(new RegExp(`${href === '/' ? '/$' : href}(\\?|$)`));
}

/** Opens a record from 记录 (client-side). */
export async function openRecord(page: Page, id: string): Promise<void> {
  await tab(page, '/records');
  // A returned record shows twice: on top with its comment, and in the list.
  await page.locator(`[data-testid="record-row"][href="/records/${id}"]`).first().click();
  await expect(page.getByTestId('record-sync')).toBeVisible();
}

/** Opens a record and its edit form. */
export async function editRecord(page: Page, id: string): Promise<void> {
  await openRecord(page, id);
  await page.getByTestId('edit-record').click();
  await expect(page.locator('[data-item]').first()).toBeVisible();
}

/** Asks for a sync run now (我的 → 立即同步) and waits until it is done. */
export async function syncNow(page: Page): Promise<void> {
  await tab(page, '/me');
  await page.getByTestId('sync-now').click();
  await expect(page.getByTestId('sync-badge')).not.toHaveAttribute('data-state', 'pending');
}

/** The session token the phone keeps, read from its IndexedDB. */
export async function sessionToken(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('fieldcheck');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('meta').objectStore('meta').get('session');
          get.onsuccess = () => {
            resolve(get.result ? get.result.token : '');
            open.result.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

/** A JPEG drawn in the page (a ground and a door-sized block), standing in for a phone camera's picture. */
export async function pageJpeg(page: Page, width = 1200, height = 900): Promise<Buffer> {
  const base64 = await page.evaluate(
    ({ width, height }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const pen = canvas.getContext('2d')!;
      pen.fillStyle = '#6b4f2a';
      pen.fillRect(0, 0, width, height);
      pen.fillStyle = '#2e7d32';
      pen.fillRect(width * 0.375, height / 6, width / 4, (height * 2) / 3);
      return canvas.toDataURL('image/jpeg', 0.9).split(',')[1];
    },
    { width, height },
  );
  return Buffer.from(base64, 'base64');
}
