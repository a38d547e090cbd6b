// What an inspector does on a phone, step by step, for the end-to-end flows.
import { expect, type Page } from '@playwright/test';
import { DEMO_PASSWORD } from './server';

/** The chosen answer gains a check mark, so that the choice never shows by colour alone. */
export const PASS = /^(✓ )?合格$/;
export const NA = /^(✓ )?不适用$/;

/** Logs in on the login page and waits until the first sync has finished. */
export async function logIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('venue-row').first()).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
}

/** Records an inspection at the venue in row `venueRow`, every item 合格, and submits it; returns the record id. */
export async function submitInspection(page: Page, venueRow = 0, notes = ''): Promise<string> {
  await page.getByTestId('venue-row').nth(venueRow).click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  const itemCount = await items.count();
  for (let idx = 0; idx < itemCount; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  if (notes) await page.locator('#inspection-notes').fill(notes);
  await page.getByTestId('submit-inspection').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  const row = page.getByTestId('record-row').first();
  const href = await row.getAttribute('href');
  return (href ?? '').split('/').pop() ?? '';
}

/** Goes to a tab by its link (client-side, so it works offline too). */
export async function tab(page: Page, href: '/' | '/records' | '/me'): Promise<void> {
  await page.locator(`nav.tabbar a[href="${href}"]`).click();
  await expect(page).toHaveURL(new RegExp(`${href === '/' ? '/$' : href}(\\?|$)`));
}

/** Opens a record from 记录 (client-side). */
export async function openRecord(page: Page, id: string): Promise<void> {
  await tab(page, '/records');
  await page.locator(`[data-testid="record-row"][href="/records/${id}"]`).click();
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
