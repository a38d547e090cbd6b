// The walking skeleton end to end: log in, go offline, inspect, reload with no server, sync once back online.
import { test, expect } from '@playwright/test';
import { Server, DEMO_PASSWORD } from './server';
import { ONLINE_WAIT_MS, completeRecord } from './phone';

// The chosen answer gains a check mark, so that the choice never shows by colour alone.
const PASS = /^(✓ )?合格$/;

let server: Server;

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('an inspection recorded offline survives a reload without network and syncs exactly once', async ({ page, context }) => {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });

  // Log in once while online: the venues come down and the service worker keeps the app shell.
  await page.goto(`${server.baseUrl}/login`);
  await page.locator('input[name="username"]').fill('zhangwei');
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  const venueRows = page.getByTestId('venue-row');
  await expect(venueRows.first()).toBeVisible();
  const badge = page.getByTestId('sync-badge');
  await expect(badge).toHaveAttribute('data-state', 'synced');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  // Search narrows the list by name.
  const venueCount = await venueRows.count();
  expect(venueCount).toBeGreaterThan(5);
  const firstName = (await venueRows.first().innerText()).trim().split('\n')[0].trim();
  await page.locator('input[type="search"]').fill(firstName);
  await expect(venueRows.first()).toContainText(firstName);
  expect(await venueRows.count()).toBeLessThan(venueCount);

  // No signal from here on.
  await context.setOffline(true);
  await expect(badge).toHaveAttribute('data-state', 'offline');
  await expect(badge).toContainText('离线');

  await venueRows.first().click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  const itemCount = await items.count();
  expect(itemCount).toBeGreaterThanOrEqual(9);
  for (let idx = 0; idx < itemCount; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  await expect(items.first().getByRole('button', { name: PASS })).toHaveAttribute('aria-pressed', 'true');
  await completeRecord(page);
  await page.getByTestId('submit-inspection').click();

  await expect(page).toHaveURL(/\/records(\?|$)/);
  const rows = page.getByTestId('record-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(firstName);
  await expect(rows.first()).toHaveAttribute('data-sync', 'pending');
  await expect(rows.first()).toHaveAttribute('data-status', 'submitted');
  await expect(badge).toHaveAttribute('data-state', 'offline');
  await expect(badge).toHaveAttribute('data-pending', '1');

  // The server goes away too: only the service worker's cache can bring the app back now.
  await server.stop();
  await page.reload();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-sync', 'pending');
  await expect(badge).toHaveAttribute('data-pending', '1');

  // Signal returns and the server is back: the record goes up once.
  server = await server.restart();
  await context.setOffline(false);
  // Untouched, the app syncs a random moment (up to ONLINE_SPREAD_MS, 30 s) after coming online.
  await expect(badge).toHaveAttribute('data-state', 'synced', { timeout: ONLINE_WAIT_MS });
  await expect(badge).toHaveAttribute('data-pending', '0');
  await expect(rows.first()).toHaveAttribute('data-sync', 'synced');

  // A colleague of the same unit sees it, exactly once.
  const colleague = await server.login('liqiang', DEMO_PASSWORD);
  const inspections = (await server.pullAll(colleague.token)).filter((change) => change.entity === 'inspection');
  expect(inspections).toHaveLength(1);
  expect(inspections[0].rev).toBe(1);
  expect(inspections[0].body.status).toBe('submitted');
  expect(inspections[0].body.answers).toHaveLength(itemCount);
  expect(inspections[0].body.answers.every((answer: { result: string }) => answer.result === 'pass')).toBe(true);
  const inspector = await server.login('zhangwei', DEMO_PASSWORD);
  expect(inspections[0].body.inspectors).toContain(inspector.user.id);
  expect(inspections[0].body.unit_id).toBe(colleague.user.unit_id);

  // Failed loads while the server was down are expected; app errors are not.
  const appErrors = consoleErrors.filter((text) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|Failed to fetch/.test(text));
  expect(appErrors).toEqual([]);
});
