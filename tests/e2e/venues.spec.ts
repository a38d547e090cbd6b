// The venue register offline: search by licence number and pinyin initials, filter by kind, nearest
// first, and a venue found in the field registered, inspected and synced.
import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { settled } from './timing';
import { Server, DEMO_PASSWORD } from './server';
import { logIn, syncNow, tab } from './phone';

let server: Server;

// Standing at the door of 欢乐谷电玩城 (洛龙区开元大道).
test.use({
  permissions: ['geolocation'],
  geolocation: { latitude: 34.6197, longitude: 112.4536, accuracy: 20 },
});

/** How many spans named `name` the app has recorded. */
async function spans(page: Page, name: string): Promise<number> {
  return page.evaluate((name) => performance.getEntriesByName(name, 'measure').length, name);
}

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

test('venues are found by licence number and pinyin initials, nearest first, and one found in the field is registered and synced', async ({ page, context }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  const rows = page.getByTestId('venue-row');
  await expect(rows.first()).toContainText('欢乐谷电玩城');
  await expect(rows.first().getByTestId('venue-distance')).toHaveText('0 米');
  await expect(rows.nth(1)).toContainText('超神电竞酒店');
  await expect(rows.first().getByTestId('venue-licence')).toContainText('410311130005');

  await context.setOffline(true);
  const search = page.locator('input[name="q"]');
  await search.fill('xjwk');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('星际网咖');
  await search.fill('41030210057');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('极速网络会所');
  await search.fill('');
  await page.getByTestId('kind-filter').selectOption('song_dance');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText('KTV');
  await page.getByTestId('kind-filter').selectOption('');

  // An unlicensed internet café found on patrol: registered and inspected with no signal.
  await page.getByTestId('register-venue').click();
  await page.locator('#venue-name').fill('无名网吧');
  await page.locator('#venue-kind').selectOption('internet_cafe');
  await page.locator('#venue-address').fill('洛阳市洛龙区开元大道260号地下一层');
  // A licence already in the register means the venue was not found: it is named, nothing is saved.
  await page.locator('#venue-licence').fill('41030210057');
  await page.getByTestId('save-venue').click();
  await expect(page.locator('.problems')).toContainText('许可证号41030210057已登记为“极速网络会所”');
  await expect(page).toHaveURL(/\/venues\/new$/);
  await page.locator('#venue-licence').fill('');
  // A phone number with letters is refused with what a number needs.
  await page.locator('#venue-phone').fill('abc-not-a-phone');
  await page.getByTestId('save-venue').click();
  await expect(page.locator('.problems')).toContainText('联系电话至少7位数字');
  await page.locator('#venue-phone').fill('0379-6321 5678');
  await page.getByTestId('save-venue').click();
  await expect(page).toHaveURL(/\/inspect\//);
  await expect(page.locator('.venue-name')).toHaveText('无名网吧');
  await page.getByTestId('save-draft').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);

  await context.setOffline(false);
  await syncNow(page);
  await tab(page, '/');
  await search.fill('wmwb');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('现场登记');

  const officer = await server.login('zhangwei', DEMO_PASSWORD);
  const changes = await server.pullAll(officer.token);
  const venue = changes.find((change) => change.entity === 'venue' && change.body.name === '无名网吧');
  expect([venue?.body.field_registered, venue?.body.initials]).toEqual([true, 'wmwb']);
  expect(venue?.body.location.lat).toBeCloseTo(34.6197, 4);
  const draft = changes.find((change) => change.entity === 'inspection' && change.body.venue_id === venue?.id);
  expect(draft?.body.status).toBe('draft');
});

/** Registers venues on the server until the district has `total`, each like one of the demo's;
 * returns the pushed mutations. */
async function registerVenues(total: number) {
  const officer = await server.login('zhangwei', DEMO_PASSWORD);
  const demo = (await server.pullAll(officer.token)).filter((change) => change.entity === 'venue');
  const mutations = Array.from({ length: total - demo.length }, (_, idx) => {
    const id = crypto.randomUUID();
    const like = demo[idx % demo.length].body;
    return {
      op_id: crypto.randomUUID(),
      entity: 'venue',
      id,
      base_rev: 0,
      body: { ...like, id, name: `${like.name}第${idx + 1}分店`, licence_no: '', initials: '' },
    };
  });
  const pushed = await fetch(`${server.baseUrl}/api/sync/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${officer.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ device_id: crypto.randomUUID(), mutations }),
  });
  expect(pushed.ok).toBe(true);
  return mutations;
}

test('a district register of 120 venues is drawn a page at a time, and a search reaches past the first page', async ({ page }) => {
  const mutations = await registerVenues(120);
  await logIn(page, server.baseUrl, 'zhangwei');
  const rows = page.getByTestId('venue-row');
  const more = page.getByTestId('venues-more');
  await expect(rows).toHaveCount(50);
  await expect(more).toHaveText('加载更多（还有 70 条）');
  await more.click();
  await expect(rows).toHaveCount(100);
  await more.click();
  await expect(rows).toHaveCount(120);
  await expect(more).toHaveCount(0);

  // A search starts again from one page, and finds a venue that is not on it.
  await page.locator('input[name="q"]').fill('分店');
  await expect(rows).toHaveCount(50);
  const drawn = (await rows.allTextContents()).join('\n');
  const hidden = mutations.map((mutation) => mutation.body.name).find((name) => !drawn.includes(name));
  expect(hidden, 'a venue past the first page').toBeDefined();
  await page.locator('input[name="q"]').fill(hidden!);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(hidden!);
  await page.locator('input[name="q"]').fill('');
  await expect(rows).toHaveCount(50);

  // A visit reads the register once: the first page's arrival does not start a second read.
  await page.evaluate(() => {
    (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
    performance.clearMeasures();
  });
  await tab(page, '/me');
  await tab(page, '/');
  await expect(more).toHaveText('加载更多（还有 70 条）');
  await settled(page);
  expect(await spans(page, 'fieldcheck:venues-register'), 'reads of the register in one visit').toBe(1);
});

test.describe('where the phone does not know its position', () => {
  // The list in name order, as an officer who refused the position sees it.
  test.use({ permissions: [] });

  test('the app opens on a screenful of venues, and the rest of the page goes below it without redrawing it', async ({ page }) => {
    await registerVenues(40);
    await logIn(page, server.baseUrl, 'zhangwei');
    const rows = page.getByTestId('venue-row');
    await expect(rows).toHaveCount(40);
    // Opening the app again: the first screenful is drawn from the index before the register is
    // read, and the register's rows go below it. The rows drawn first stay the same elements, so a
    // tap on one is never lost to a redraw.
    await page.addInitScript(() => {
      const seen = window as unknown as { fieldcheckFirstRow?: Element; fieldcheckFirstDrawn?: number };
      const observer = new MutationObserver(() => {
        const row = document.querySelector('[data-testid="venue-row"]');
        if (row) {
          seen.fieldcheckFirstRow = row;
          seen.fieldcheckFirstDrawn = document.querySelectorAll('[data-testid="venue-row"]').length;
          observer.disconnect();
        }
      });
      observer.observe(document, { subtree: true, childList: true });
    });
    await page.goto(`${server.baseUrl}/`);
    await expect(rows).toHaveCount(40);
    const first = await page.evaluate(() => {
      const seen = window as unknown as { fieldcheckFirstRow?: Element; fieldcheckFirstDrawn?: number };
      return { kept: seen.fieldcheckFirstRow?.isConnected, drawn: seen.fieldcheckFirstDrawn };
    });
    expect(first.drawn, 'rows drawn before the register is read: a screenful').toBe(15);
    expect(first.kept, 'the first row drawn is still in the list').toBe(true);
    // The rows are the register's, in its order, once each.
    const names = await rows.locator('.cell-title').allTextContents();
    expect(new Set(names).size, 'no venue drawn twice').toBe(names.length);
  });
});

test('a sync that brings a colleague\'s venue while 记录 is open reads the whole list once', async ({ page }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  await tab(page, '/records');
  await expect(page.getByTestId('records-count')).toBeVisible();
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  // The app's spans on, and a run at once when the browser says it is online again (the online
  // spread's random draw is 0).
  await page.evaluate(() => {
    (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
    performance.clearMeasures();
    Math.random = () => 0;
  });
  // A colleague registers a venue: the run pulls it, and the list's data changed once.
  const colleague = await server.login('chenjing', DEMO_PASSWORD);
  const like = (await server.pullAll(colleague.token)).find((change) => change.entity === 'venue')!.body;
  const id = crypto.randomUUID();
  const pushed = await fetch(`${server.baseUrl}/api/sync/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${colleague.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      device_id: crypto.randomUUID(),
      mutations: [{ op_id: crypto.randomUUID(), entity: 'venue', id, base_rev: 0, body: { ...like, id, name: `${like.name}（新址）`, licence_no: '', initials: '' } }],
    }),
  });
  expect(pushed.ok).toBe(true);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  // 记录 reads its whole list once per change of the phone's data.
  const reads = () => spans(page, 'fieldcheck:records-whole');
  await expect.poll(reads).toBeGreaterThan(0);
  await settled(page);
  expect(await reads(), 'reads of the whole list after one sync').toBe(1);
  // And the run did bring the colleague's venue.
  await tab(page, '/');
  await page.locator('input[name="q"]').fill(`${like.name}（新址）`);
  await expect(page.getByTestId('venue-row')).toHaveCount(1);

  // 记录 left before its newest rows arrive: its whole list is not read for a screen that is gone.
  await tab(page, '/me');
  await page.evaluate(async () => {
    performance.clearMeasures();
    document.querySelector<HTMLElement>('body > nav.tabbar a[href="/records"]')!.click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    document.querySelector<HTMLElement>('body > nav.tabbar a[href="/me"]')!.click();
  });
  await expect(page).toHaveURL(/\/me$/);
  await settled(page);
  expect(await reads(), "reads of 记录's whole list for a screen already left").toBe(0);
});

/** Opens a venue's correction form on this phone while another supervisor's phone gives the venue a
 * new address, and pulls that copy into this phone with the form still open. */
async function correctWhileAnotherPhoneChangesTheAddress(page: Page, context: BrowserContext, address: string) {
  await logIn(page, server.baseUrl, 'wangfang');
  const other = await server.login('wangfang', DEMO_PASSWORD);
  const venue = (await server.pullAll(other.token)).find((change) => change.entity === 'venue')!;
  await page.goto(`${server.baseUrl}/venues/${venue.id}/edit`);
  await expect(page.locator('#venue-phone')).toBeVisible();
  const pushed = await fetch(`${server.baseUrl}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` },
    body: JSON.stringify({
      device_id: '0192f3a4-5b6c-7d8e-9f00-000000000999',
      mutations: [{ op_id: crypto.randomUUID(), entity: 'venue', id: venue.id, base_rev: venue.rev, body: { ...venue.body, address } }],
    }),
  });
  expect(pushed.status).toBe(200);
  const pulled = page.waitForResponse((response) => response.url().includes('/api/sync/pull'), { timeout: 60_000 });
  await context.setOffline(true);
  await context.setOffline(false);
  await pulled;
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  return { other, venue };
}

test('a correction saved after a newer copy of the venue arrived waits in 我的 and merges with it', async ({ page, context }) => {
  const { other, venue } = await correctWhileAnotherPhoneChangesTheAddress(page, context, '新华路 8 号');

  // Her correction does not undo the new address: it waits beside it, and the two merge.
  await page.locator('#venue-phone').fill('13800001111');
  await page.getByTestId('save-venue').click();
  await expect(page).toHaveURL(/\/me$/);
  const row = page.getByTestId('awaiting-row');
  await expect(row).toHaveAttribute('data-state', 'conflict');
  await expect(row).toContainText('两处修改涉及不同内容，可以合并为一份。');
  await row.getByTestId('awaiting-merge').click();
  await expect(page.getByTestId('awaiting-none')).toBeVisible();
  await syncNow(page);
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-pending', '0');
  const held = (await server.pullAll(other.token)).find((change) => change.id === venue.id)!;
  expect(held.rev).toBe(venue.rev + 2);
  expect(held.body.address).toBe('新华路 8 号');
  expect(held.body.contact_phone).toBe('13800001111');
});

test('two corrections of the same field are compared in 我的, and hers is kept knowingly on top of the other', async ({ page, context }) => {
  const { other, venue } = await correctWhileAnotherPhoneChangesTheAddress(page, context, '新华路 8 号');

  await page.locator('#venue-address').fill('新华路 18 号');
  await page.getByTestId('save-venue').click();
  await expect(page).toHaveURL(/\/me$/);
  const row = page.getByTestId('awaiting-row');
  await expect(row).toHaveAttribute('data-state', 'conflict');
  // Both addresses, side by side under the field's name; no merge, since both changed it.
  const address = row.getByTestId('conflict-table').locator('tr[data-field="address"]');
  await expect(address.locator('th')).toHaveText('地址');
  await expect(address.locator('.diff-mine')).toHaveText('新华路 18 号');
  await expect(address.locator('.diff-theirs')).toHaveText('新华路 8 号');
  await expect(row.getByTestId('awaiting-merge')).toHaveCount(0);
  await row.getByTestId('awaiting-keep-mine').click();
  await expect(page.getByTestId('awaiting-none')).toBeVisible();
  await syncNow(page);
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-pending', '0');
  const held = (await server.pullAll(other.token)).find((change) => change.id === venue.id)!;
  expect(held.rev).toBe(venue.rev + 2);
  expect(held.body.address).toBe('新华路 18 号');
});
