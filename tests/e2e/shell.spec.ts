// The app shell over the wire and from the service worker: compressed and cached as built, opening
// with the server gone, and a new build taken up only after the prompt, keeping the open form.
import { test, expect, type Browser, type BrowserContext, type Page, type Route } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_PASSWORD, Server, distDir } from './server';
import { logIn, submitInspection, syncNow, tab } from './phone';
import { settled } from './timing';

let server: Server;

test.afterEach(async () => {
  await server.stop();
});

/** The shell version and file list the build wrote into a service worker. */
function precached(worker: string): { version: string; files: string[] } {
  // Terser rewrites the two lines in a release build: match either spelling.
  const version = worker.match(/SHELL_VERSION\s*=\s*["']([0-9a-f]{16})["']/);
  const files = worker.match(/SHELL_FILES\s*=\s*\[([^\]]*)\]/);
  expect(version, 'the build wrote a version into sw.js').not.toBeNull();
  expect(files, 'the build wrote the file list into sw.js').not.toBeNull();
  return {
    version: version![1],
    files: [...files![1].matchAll(/["']([^"']+)["']/g)].map((match) => match[1]),
  };
}

/** The app shell's caches on the phone, one per version kept (the worker's own note is left out). */
function shellCaches(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await caches.keys()).filter((name) => name.startsWith('fieldcheck-shell-')));
}

/** Asks the page's worker to prune the older versions' caches now; its answer says what it did. */
function askPrune(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data);
        navigator.serviceWorker.controller!.postMessage('prune', [channel.port2]);
      }),
  );
}

async function workerControls(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

/** The sync run's file (the export's code is in it too), by its hashed name. */
const SYNC_FILE = (url: URL) => /\/split_sync-[0-9a-f]{16}\.wasm$/.test(url.pathname);
/** The conversion of what a layout-1 build left on a phone, by its hashed name. */
const MIGRATE_FILE = (url: URL) => /\/split_migrate-[0-9a-f]{16}\.wasm$/.test(url.pathname);

/**
 * A phone without a service worker where zhangwei logged in once (the venues synced down), opened
 * afresh with the sync run's file answered by `answer` (routing also bypasses the browser's cache).
 */
async function withoutSyncFile(
  browser: Browser,
  answer: (route: Route) => Promise<void>,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const first = await context.newPage();
  await logIn(first, server.baseUrl, 'zhangwei');
  await first.close();
  const page = await context.newPage();
  await page.route(SYNC_FILE, answer);
  await page.goto(server.baseUrl);
  return { context, page };
}

test('the shell arrives compressed with the right cache rules, and robots.txt is a real one', async ({ page }) => {
  server = await Server.start();
  const { files } = precached(readFileSync(path.join(distDir, 'sw.js'), 'utf8'));
  const wasm = files.find((file) => file.endsWith('_bg.wasm'));
  expect(wasm, 'the main wasm is precached').toBeDefined();
  for (const file of ['/index.html', wasm!, '/manifest.webmanifest']) {
    expect(files).toContain(file);
  }
  // The screens after 登录 are files of their own, precached too, the 检查 list's among them.
  const venuesFile = files.find((file) => /^\/split_venues-[0-9a-f]{16}\.wasm$/.test(file));
  expect(venuesFile, 'the venue list is a file of its own, named by its content').toBeDefined();

  // What the phone's browser gets for the wasm it loads: brotli, kept for a year under its hashed name.
  // The network's answer that the page loaded; the service worker's later precache of the same
  // file (a revalidation, answered 304 without the body's headers) is not what the page got.
  const seen = new Map<string, { encoding?: string; cache?: string }>();
  page.on('response', async (response) => {
    if (response.status() !== 200 || response.fromServiceWorker()) return;
    const url = new URL(response.url());
    const headers = await response.allHeaders();
    if (!seen.has(url.pathname)) {
      seen.set(url.pathname, { encoding: headers['content-encoding'], cache: headers['cache-control'] });
    }
  });
  await page.goto(`${server.baseUrl}/login`);
  await expect(page.locator('input[name="username"]')).toBeVisible();
  await expect.poll(() => seen.get(wasm!)).toBeDefined();
  expect(seen.get(wasm!)?.encoding).toBe('br');
  expect(seen.get(wasm!)?.cache).toContain('immutable');
  // A screen's file is served like the main wasm: brotli, kept for a year under its hashed name.
  const screen = await fetch(`${server.baseUrl}${venuesFile}`, { headers: { 'accept-encoding': 'br' } });
  expect(screen.status).toBe(200);
  expect(screen.headers.get('content-encoding')).toBe('br');
  expect(screen.headers.get('cache-control')).toContain('immutable');

  // The page says the app is opening before the wasm arrives, and the started app takes that away.
  await expect(page.locator('#boot-splash')).toHaveCount(0);
  const index = await fetch(`${server.baseUrl}/`, { headers: { 'accept-encoding': 'gzip' } });
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(index.headers.get('content-encoding')).toBe('gzip');
  expect(await index.text()).toContain('正在打开');
  const worker = await fetch(`${server.baseUrl}/sw.js`);
  expect(worker.headers.get('cache-control')).toBe('no-cache');
  const robots = await fetch(`${server.baseUrl}/robots.txt`);
  expect(robots.headers.get('content-type')).toContain('text/plain');
  expect(await robots.text()).toMatch(/^User-agent: \*/);
  const manifest = await (await fetch(`${server.baseUrl}/manifest.webmanifest`)).json();
  expect(manifest.name).toBe('文旅执法巡查 · FieldCheck');
  expect(manifest.lang).toBe('zh-CN');
  expect(manifest.display).toBe('standalone');
  const maskable = manifest.icons.filter((icon: { purpose?: string }) => icon.purpose === 'maskable');
  expect(maskable.map((icon: { sizes: string }) => icon.sizes).sort()).toEqual(['192x192', '512x512']);
});

/** A phone (no service worker) whose main wasm is held back at each `visit` until `release()`. */
async function heldPhone(browser: Browser): Promise<{ page: Page; visit: (url: string) => Promise<() => void> }> {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  let gate: Promise<void> = Promise.resolve();
  await page.route(/_bg\.wasm$/, async (route) => {
    await gate;
    await route.continue();
  });
  const visit = async (url: string) => {
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    await page.goto(url);
    return release;
  };
  return { page, visit };
}

test('the login form takes typing and a tap on 登录 before the app has downloaded, and the app carries them on', async ({ browser }) => {
  server = await Server.start();
  const phone = () => heldPhone(browser);
  const pageForm = (page: Page) => page.locator('#boot-login');
  const hasPageForm = (page: Page) => page.evaluate(() => document.documentElement.classList.contains('boot-login'));

  // A new phone opening the app's address: the form is there while the app's code is held back.
  const first = await phone();
  let release = await first.visit(`${server.baseUrl}/`);
  await expect(pageForm(first.page)).toBeVisible();
  await expect(first.page.locator('#boot-splash')).toBeHidden();
  await first.page.locator('input[name="username"]').fill('zhangwei');
  await first.page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  // (The page's button is matched by its place: the build's minifier drops its default `type`.)
  await first.page.locator('#boot-login button').click();
  // Only noted: nothing is sent before the app runs, and the password never goes into the address.
  await expect(first.page.locator('#boot-login button')).toBeDisabled();
  expect(new URL(first.page.url()).search).toBe('');
  release();
  await expect(first.page.getByTestId('venue-row').first()).toBeVisible();
  await expect(first.page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  await expect(pageForm(first.page)).toHaveCount(0);

  // Logged in now (and still no worker): the app's address opens on its screens, no form at all.
  release = await first.visit(`${server.baseUrl}/`);
  expect(await hasPageForm(first.page)).toBe(false);
  release();
  await expect(first.page.getByTestId('venue-row').first()).toBeVisible();

  // On 登录 with only a password typed, the tap does not go out under the name the app fills in
  // (the previous user's, which the page's form never showed): the officer sees it and taps again.
  release = await first.visit(`${server.baseUrl}/login`);
  await first.page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await first.page.locator('#boot-login button').click();
  release();
  await expect(pageForm(first.page)).toHaveCount(0);
  await expect(first.page.locator('#login-username')).toHaveValue('zhangwei');
  await expect(first.page.locator('button[type="submit"]')).toBeEnabled();
  await expect(first.page).toHaveURL(/\/login$/);

  // The page's form speaks the language chosen in 我的, before the app has arrived.
  const noteOfLang = () => first.page.evaluate(() => localStorage.getItem('fieldcheck-lang'));
  expect(await noteOfLang()).toBe('zh-CN');
  release = await first.visit(`${server.baseUrl}/me`);
  release();
  await first.page.getByTestId('lang-switch').click();
  await expect.poll(noteOfLang).toBe('en');
  release = await first.visit(`${server.baseUrl}/login`);
  await expect(pageForm(first.page).locator('.topbar-title')).toHaveText('Log in');
  await expect(pageForm(first.page).locator('.field-label').first()).toHaveText('Username');
  await expect(first.page.locator('html')).toHaveAttribute('lang', 'en');
  release();
  await expect(pageForm(first.page)).toHaveCount(0);
  await expect(first.page.locator('label[for="login-username"]')).toHaveText('Username');
  await first.page.context().close();

  // Typed but not sent: the app's own form has what was typed, the caret where it was, and logs in.
  const second = await phone();
  release = await second.visit(`${server.baseUrl}/login`);
  await second.page.locator('input[name="username"]').fill('chenjing');
  await second.page.locator('input[name="password"]').fill('field');
  release();
  await expect(pageForm(second.page)).toHaveCount(0);
  await expect(second.page.locator('input[name="username"]')).toHaveValue('chenjing');
  await expect(second.page.locator('input[name="password"]')).toHaveValue('field');
  await expect(second.page.locator('#login-password')).toBeFocused();
  await second.page.keyboard.type('check');
  await second.page.keyboard.press('Enter');
  await expect(second.page.getByTestId('venue-row').first()).toBeVisible();
  await second.page.context().close();

  // A phone that runs the app from its worker opens on its screens: no page form at the root.
  const page = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  await logIn(page, server.baseUrl, 'zhangwei');
  await workerControls(page);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await expect(page.getByTestId('venue-row').first()).toBeVisible();
  await expect(pageForm(page)).toHaveCount(0);
  expect(await hasPageForm(page)).toBe(false);
  await page.context().close();
});

test('a logged-in phone opens on the venue list it last drew while the app starts; a row tapped then opens, and logging out forgets the list', async ({ browser }) => {
  server = await Server.start();
  const { page, visit } = await heldPhone(browser);
  // (Read again by the polls below when a logout's reload replaces the page under them.)
  const notes = () =>
    page
      .evaluate(() => ({
        copy: localStorage.getItem('fieldcheck-snapshot'),
        owner: localStorage.getItem('fieldcheck-snapshot-user'),
        session: localStorage.getItem('fieldcheck-session'),
      }))
      .catch(() => ({ copy: 'unread', owner: 'unread', session: 'unread' }));
  await logIn(page, server.baseUrl, 'zhangwei');
  // A venue whose name is markup: on the copy it is text, as in the app.
  const hostile = '<img src=x onerror="window.pwned=1">网吧';
  await page.getByTestId('register-venue').click();
  await page.locator('#venue-name').fill(hostile);
  await page.locator('#venue-kind').selectOption('internet_cafe');
  await page.locator('#venue-address').fill('洛阳市洛龙区开元大道1号');
  await page.getByTestId('save-venue').click();
  await expect(page).toHaveURL(/\/inspect\//);
  await tab(page, '/');
  // (The save's sync done: the list it re-reads is the one kept.)
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  const names = page.locator('[data-testid="venue-row"] .cell-title');
  await expect(names.filter({ hasText: hostile })).toHaveCount(1);
  const shown = await names.allTextContents();
  const tapped = await page.getByTestId('venue-row').nth(1).getAttribute('href');
  await expect.poll(async () => (await notes()).copy ?? '').toContain('&lt;img src=x onerror="window.pwned=1"&gt;');
  // The copy is kept again once the whole register has replaced the first page read by the index.
  const keptNames = () =>
    page.evaluate(() => {
      const template = document.createElement('template');
      template.innerHTML = localStorage.getItem('fieldcheck-snapshot') ?? '';
      return [...template.content.querySelectorAll('.venue-row .cell-title')].map((title) => title.textContent);
    });
  await expect.poll(keptNames).toEqual(shown.slice(0, 15));
  // Kept as the logged-in officer's, and this build's (by its main module's name).
  const kept = await notes();
  expect(kept.session).not.toBeNull();
  expect(kept.owner).toMatch(new RegExp(`^${kept.session} /fieldcheck-[0-9a-f]+_bg\\.wasm$`));

  // Opened again with the app's code held back: the copy is on screen, the app is not.
  let release = await visit(`${server.baseUrl}/`);
  const copy = page.locator('#boot-snapshot');
  await expect(copy.locator('.venue-row').first()).toBeVisible();
  // The rows a phone's screen shows, and some more (ROWS_KEPT in src/boot_snapshot.rs).
  await expect(copy.locator('.venue-row .cell-title')).toHaveText(shown.slice(0, 15));
  await expect(copy.locator('img')).toHaveCount(0);
  // How things stood with the sync when the copy was made is not shown as how they stand now.
  await expect(copy.locator('.badge')).toHaveCount(0);
  await expect(page.getByTestId('venue-row')).toHaveCount(0);
  await expect(page.locator('#boot-splash')).toBeHidden();
  // A row tapped on the copy is noted, and opened once the app has started.
  await copy.locator(`a[href="${tapped}"]`).click();
  await expect(page).toHaveURL(/\/$/);
  release();
  await expect(page).toHaveURL(new RegExp(`${tapped}$`));
  await expect(page.locator('[data-item]').first()).toBeVisible();
  await expect(copy).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

  // Nothing tapped: the app's own list takes the copy's place.
  release = await visit(`${server.baseUrl}/`);
  await expect(copy.locator('.venue-row').first()).toBeVisible();
  release();
  await expect(page.getByTestId('venue-row').first()).toBeVisible();
  await expect(copy).toHaveCount(0);

  // The app's code does not arrive: the copy goes, and the page's opening screen says what is happening.
  const refuse = (route: Route) => route.abort();
  await page.route(/_bg\.wasm$/, refuse);
  await page.goto(`${server.baseUrl}/`);
  await expect(copy).toHaveCount(0);
  await expect(page.locator('#boot-splash')).toBeVisible();
  await page.unroute(/_bg\.wasm$/, refuse);

  // A copy that is not the logged-in officer's (left by an older build), or that another build
  // drew, is never shown; the app keeps its own again.
  for (const owner of [`another-officer ${kept.owner!.split(' ')[1]}`, `${kept.session} /fieldcheck-0123456789abcdef_bg.wasm`]) {
    await page.evaluate((owner) => localStorage.setItem('fieldcheck-snapshot-user', owner), owner);
    release = await visit(`${server.baseUrl}/`);
    await expect(page.locator('#boot-splash')).toBeVisible();
    await expect(copy).toHaveCount(0);
    release();
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    await expect.poll(async () => (await notes()).owner).toBe(kept.owner);
  }

  // Another language: the copy in the last one goes, and the list keeps a new one when drawn.
  await tab(page, '/me');
  await page.getByTestId('lang-switch').click();
  await expect.poll(async () => (await notes()).copy).toBeNull();
  await tab(page, '/');
  await expect.poll(async () => (await notes()).copy).not.toBeNull();

  // Logged out, the list is forgotten: the next open shows the login form, and no venue.
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  await expect.poll(notes).toEqual({ copy: null, owner: null, session: null });
  release = await visit(`${server.baseUrl}/`);
  await expect(page.locator('#boot-login')).toBeVisible();
  await expect(copy).toHaveCount(0);
  release();
  await page.context().close();
});

test('after one visit the app opens in a new page with the server gone, with the record saved on the phone', async ({ page, context }) => {
  server = await Server.start();
  await logIn(page, server.baseUrl, 'zhangwei');
  await workerControls(page);
  // Every file of the build is in the cache once the worker is active, not only those this page used.
  const { version, files } = precached(readFileSync(path.join(distDir, 'sw.js'), 'utf8'));
  const cached = await page.evaluate(async (name) => {
    const cache = await caches.open(name);
    return (await cache.keys()).map((request) => new URL(request.url).pathname);
  }, `fieldcheck-shell-${version}`);
  expect(cached.sort()).toEqual([...files].sort());

  // A draft saved with no signal.
  await context.setOffline(true);
  await page.getByTestId('venue-row').first().click();
  await page.locator('#inspection-notes').fill('无网络时填写');
  await page.getByTestId('save-draft').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  await expect(page.getByTestId('record-row')).toHaveCount(1);

  // The server is gone (a worker's own fetches are not cut off by setOffline): only the cache can answer.
  await server.stop();
  const fresh = await context.newPage();
  await fresh.goto(`${server.baseUrl}/records`);
  await expect(fresh.getByTestId('record-row')).toHaveCount(1);
  await expect(fresh.locator('#boot-splash')).toHaveCount(0);
  await expect(fresh.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'pending');
  await tab(fresh, '/');
  await expect(fresh.getByTestId('venue-row').first()).toBeVisible();
  await fresh.close();

  // A weak signal: something takes the connection and never answers. The page opens from the cache
  // once the worker stops waiting for the network, instead of staying blank for as long as the link.
  const silent = net.createServer(() => {});
  const { hostname, port } = new URL(server.baseUrl);
  await new Promise<void>((resolve) => silent.listen(Number(port), hostname, resolve));
  try {
    const weak = await context.newPage();
    await weak.goto(`${server.baseUrl}/records`, { waitUntil: 'commit', timeout: 15_000 });
    await expect(weak.getByTestId('record-row')).toHaveCount(1, { timeout: 15_000 });
    await weak.close();
  } finally {
    silent.close();
  }
});

/// How long a test waits for the form after 重新载入: the app reloads within 30 s of the tap whatever
/// happens (`WATCHDOG_MS`, src/components/update_banner.rs), and the new page must then start. On a
/// loaded machine the worker's hand-over alone (saving the form, the old worker going idle, the new
/// one activating) outlasted the default 15 s once.
const RELOADED_MS = 45_000;

/// Copies the built app where a test can deploy a new version into it, starts the server on it,
/// logs in, and opens a venue's form; `run` gets the deployed directory and the shell's version.
async function withDeployedCopy(page: Page, run: (deployed: string, before: string) => Promise<void>) {
  const deployed = mkdtempSync(path.join(tmpdir(), 'fieldcheck-dist-'));
  cpSync(distDir, deployed, { recursive: true });
  server = await Server.start(undefined, undefined, deployed);
  try {
    await logIn(page, server.baseUrl, 'zhangwei');
    await workerControls(page);
    const before = precached(readFileSync(path.join(deployed, 'sw.js'), 'utf8')).version;
    await page.getByTestId('venue-row').first().click();
    await expect(page.locator('#inspection-notes')).toBeVisible();
    await run(deployed, before);
  } finally {
    rmSync(deployed, { recursive: true, force: true });
  }
}

/// Deploys a new build (another version of the shell; `edit` changes its worker further), has the
/// page's worker find it, and waits for the banner. Returns the new version.
async function deployNewBuild(page: Page, deployed: string, before: string, edit: (worker: string) => string = (worker) => worker) {
  const next = before.replace(/./, (digit) => (digit === 'a' ? 'b' : 'a'));
  const workerPath = path.join(deployed, 'sw.js');
  writeFileSync(workerPath, edit(readFileSync(workerPath, 'utf8').replace(before, next)));
  // Its precompressed copies go with the old one.
  rmSync(`${workerPath}.br`, { force: true });
  rmSync(`${workerPath}.gz`, { force: true });
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((registration) => registration!.update()));
  const banner = page.getByTestId('update-ready');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('新版本可用');
  return next;
}

test('a new build is taken up only after the prompt, and the form being filled in is kept', async ({ page }) => {
  await withDeployedCopy(page, async (deployed, before) => {
    const next = await deployNewBuild(page, deployed, before);
    // Nothing is taken over before the officer says so.
    expect(await page.evaluate(() => caches.keys())).toContain(`fieldcheck-shell-${before}`);

    // Typed just before the tap: not autosaved yet, kept by the reload itself.
    await page.locator('#inspection-notes').fill('更新前刚输入的内容');
    await page.getByTestId('update-reload').click();
    await expect(page.getByTestId('form-resumed')).toBeVisible({ timeout: RELOADED_MS });
    await expect(page.locator('#inspection-notes')).toHaveValue('更新前刚输入的内容');
    await expect(page.getByTestId('update-ready')).toHaveCount(0);
    await expect.poll(() => shellCaches(page)).toEqual([`fieldcheck-shell-${next}`]);
  });
});

test('a page still on the old build when another takes the new one up gets the old build\'s files until it closes', async ({ page, context }) => {
  await withDeployedCopy(page, async (deployed, before) => {
    // A second tab, opened before the new build: it runs the old one.
    const other = await context.newPage();
    await other.goto(server.baseUrl);
    await expect(other.getByTestId('venue-row').first()).toBeVisible();
    await workerControls(other);
    // The new build no longer has one of the old build's files (its name changed with its content):
    // neither its worker's list nor the server. The records' conversion, which the app asks for only
    // on a phone an older build left: so only the test's own fetches ask for it.
    const { files } = precached(readFileSync(path.join(deployed, 'sw.js'), 'utf8'));
    const gone = files.find((file) => MIGRATE_FILE(new URL(file, server.baseUrl)))!;
    expect(gone, 'the build has a conversion file').toBeDefined();
    const next = await deployNewBuild(page, deployed, before, (worker) => {
      const without = worker.replace(new RegExp(`["']${gone}["'],?`), '');
      expect(without).not.toEqual(worker);
      return without;
    });
    for (const copy of ['', '.br', '.gz']) rmSync(path.join(deployed, `${gone}${copy}`), { force: true });
    // `no-store`: from the worker's caches or the server, never from the browser's HTTP cache.
    const status = (tab: Page) => tab.evaluate(async (file) => (await fetch(file, { cache: 'no-store' })).status, gone);

    // The first tab takes the new build up; the second, now under the new worker, still gets the
    // old build's file (its screens are fetched as the old build names them).
    await page.locator('#inspection-notes').fill('另一个标签页仍是旧版本');
    await page.getByTestId('update-reload').click();
    await expect(page.getByTestId('form-resumed')).toBeVisible({ timeout: RELOADED_MS });
    await expect(page.getByTestId('update-ready')).toHaveCount(0);
    expect(await status(other)).toBe(200);
    expect(await page.evaluate(() => caches.keys())).toContain(`fieldcheck-shell-${before}`);

    // A page the take-over did not see, asking for an old file (as one reloading under the old build
    // at that moment would), is noted then, and keeps the old files after the second tab closes.
    const late = await context.newPage();
    await late.goto(server.baseUrl);
    await expect(late.getByTestId('venue-row').first()).toBeVisible();
    expect(await status(late)).toBe(200);
    await other.close();
    // Past the worker's grace after a take-over (5 s, OLDER_GRACE_MS in public/sw.js), it keeps them.
    await expect.poll(() => askPrune(page), { timeout: 30_000 }).toBe('kept');
    expect(await shellCaches(page)).toContain(`fieldcheck-shell-${before}`);
    expect(await status(late)).toBe(200);

    // Once the last such page closes, the old build's files go at the next fetch.
    await late.close();
    await expect
      .poll(async () => {
        await page.evaluate(() => fetch('/index.html'));
        return shellCaches(page);
      })
      .toEqual([`fieldcheck-shell-${next}`]);
    expect(await status(page)).toBe(404);
  });
});

test('a new build that never takes over still reloads after the prompt, keeping the form, and asks again', async ({ page }) => {
  await withDeployedCopy(page, async (deployed, before) => {
    // The new version's worker ignores the page's word, as one the browser holds back would.
    const next = await deployNewBuild(page, deployed, before, (worker) => {
      const ignored = worker.replace('self.skipWaiting()', 'Promise.resolve()');
      expect(ignored).not.toEqual(worker);
      return ignored;
    });
    await page.locator('#inspection-notes').fill('新版本未接管时输入的内容');
    await page.getByTestId('update-reload').click();
    // Until the page goes, it takes no input: the form is inert under a veil, and the keyboard reaches
    // nothing behind it.
    await expect(page.getByTestId('reload-veil')).toBeVisible();
    await page.screenshot({ path: test.info().outputPath('reload-veil-360.png') });
    await expect(page.locator('#inspection-notes').click({ timeout: 1000 })).rejects.toThrow(/element is inert|reload-veil.*intercepts pointer events/);
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement === document.body || document.activeElement === null)).toBe(true);
    // Only a reload shows it: the form is put back from what was saved before it.
    await expect(page.getByTestId('form-resumed')).toBeVisible({ timeout: RELOADED_MS });
    await expect(page.locator('#inspection-notes')).toHaveValue('新版本未接管时输入的内容');
    // Still the old version, and the new one still waits: the officer is asked again.
    await expect(page.getByTestId('update-ready')).toBeVisible();
    const names = await page.evaluate(() => caches.keys());
    expect(names).toContain(`fieldcheck-shell-${before}`);
    expect(names).toContain(`fieldcheck-shell-${next}`);
  });
});

test('a sync file gone from the server (an older build\'s, after a deploy) offers a reload, which syncs the record once', async ({ browser }) => {
  server = await Server.start();
  const { context, page } = await withoutSyncFile(browser, (route) => route.fulfill({ status: 404, body: 'Not Found' }));
  try {
    const id = await submitInspection(page, 0, '同步代码已不在服务器上时保存');
    const badge = page.getByTestId('sync-badge');
    const banner = page.getByTestId('sync-code-missing');
    // Runs failing in a row with the network up (once or twice says 离线, a poor link) offer a reload.
    await tab(page, '/me');
    await expect
      .poll(async () => {
        await page.getByTestId('sync-now').click();
        return banner.count();
      })
      .toBe(1);
    await expect(banner).toContainText('同步功能未能下载到手机上');
    await expect(badge).toHaveAttribute('data-state', 'error');
    await expect(badge).toContainText('同步未就绪');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: test.info().outputPath('sync-code-missing-360.png') });
    const { token } = await server.login('zhangwei', DEMO_PASSWORD);
    expect((await server.pullAll(token)).filter((change) => change.id === id)).toHaveLength(0);

    // The officer is filling in another venue's form when they tap 重新载入: what they typed is kept.
    await tab(page, '/');
    await page.getByTestId('venue-row').nth(1).click();
    await page.locator('#inspection-notes').fill('重新载入前刚输入的内容');

    // The newest build is there again (here: the file is served): the reload syncs the record, once.
    await page.unroute(SYNC_FILE);
    await banner.getByRole('button', { name: '重新载入' }).click();
    await expect(page.getByTestId('form-resumed')).toBeVisible({ timeout: RELOADED_MS });
    await expect(page.locator('#inspection-notes')).toHaveValue('重新载入前刚输入的内容');
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    await expect(page.getByTestId('sync-code-missing')).toHaveCount(0);
    expect((await server.pullAll(token)).filter((change) => change.id === id)).toHaveLength(1);
  } finally {
    await context.close();
  }
});

test('a screen whose file cannot be fetched says so, keeps the app running, and opens on retry', async ({ browser }) => {
  server = await Server.start();
  // No service worker, so the page's own fetch of the file is the one that fails (as on a first
  // visit that loses its signal before the worker has cached everything).
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const blocked = (url: URL) => /\/split_records-[0-9a-f]{16}\.wasm$/.test(url.pathname);
    await page.route(blocked, (route) => route.abort('internetdisconnected'));
    await logIn(page, server.baseUrl, 'zhangwei');
    await tab(page, '/records');
    const failed = page.getByTestId('screen-load-failed');
    await expect(failed).toBeVisible();
    await expect(failed).toContainText('这个页面还没有下载到手机上');
    // The rest of the app still works: the tab bar takes the officer back to the venue list.
    await tab(page, '/');
    await expect(page.getByTestId('venue-row').first()).toBeVisible();

    // The signal is back: 重试 fetches the file afresh and the screen opens in place.
    await tab(page, '/records');
    await expect(failed).toBeVisible();
    await page.unroute(blocked);
    await page.getByRole('button', { name: '重试' }).click();
    await expect(failed).toHaveCount(0);
    await expect(page.getByText('暂无检查记录')).toBeVisible();
  } finally {
    await context.close();
  }
});

test('the shell\'s parts (tab bar, badge) come with the venue list\'s file, never to 登录 alone; without it a screen offers a retry, and opens by itself with its bars once the shell\'s retries bring it', async ({ browser }) => {
  server = await Server.start();
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const venuesFile = (url: URL) => /\/split_venues-[0-9a-f]{16}\.wasm$/.test(url.pathname);
    let asked = 0;
    await page.route(venuesFile, (route) => {
      asked += 1;
      return route.abort('internetdisconnected');
    });

    // 登录 is drawn and used without them: with nobody logged in they are not asked for.
    await page.goto(`${server.baseUrl}/login`);
    await expect(page.locator('#boot-login')).toHaveCount(0);
    await expect(page.locator('#login-username')).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(asked, 'a phone that only shows 登录 does not fetch them').toBe(0);

    // The login goes through (its code is in the sync run's file); the venue list, whose file holds
    // the parts, offers a retry, and no screen shows without its bars.
    await page.locator('#login-username').fill('zhangwei');
    await page.locator('#login-password').fill(DEMO_PASSWORD);
    await page.locator('button[type="submit"]').click();
    await expect(page).toHaveURL(`${server.baseUrl}/`);
    await expect.poll(() => asked, { message: 'asked for once someone is logged in' }).toBeGreaterThan(0);
    const failed = page.getByTestId('screen-load-failed');
    await expect(failed).toBeVisible({ timeout: 30_000 });
    await expect(page.locator('nav.tabbar')).toHaveCount(0);
    await expect(page.getByTestId('sync-badge')).toHaveCount(0);

    // The file can be fetched again: the shell's next try brings the parts, and the list opens by
    // itself (no 重试 tapped) with its bars; the badge tells the first sync, which ran meanwhile.
    await page.unroute(venuesFile);
    await expect(failed).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    await expect(page.locator('nav.tabbar')).toBeVisible();
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  } finally {
    await context.close();
  }
});

test('a screen left before its file arrives is never made, and opens when the officer comes back', async ({ browser }) => {
  server = await Server.start();
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    // The app's spans on (src/timing.rs): 记录's first read is one, what this test looks for.
    await page.addInitScript(() => {
      (window as unknown as { fieldcheckTiming: boolean }).fieldcheckTiming = true;
    });
    // 记录's file is held on the way, as on a weak signal, until the test lets it through.
    const isRecordsFile = (url: URL) => /\/split_records-[0-9a-f]{16}\.wasm$/.test(url.pathname);
    let letThrough: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    await page.route(isRecordsFile, async (route) => {
      await held;
      await route.continue();
    });
    await logIn(page, server.baseUrl, 'zhangwei');
    await tab(page, '/records');
    // A file still on its way after a moment is said to be coming.
    await expect(page.getByText('正在下载这个页面…')).toBeVisible();
    await tab(page, '/');
    await expect(page.getByTestId('venue-row').first()).toBeVisible();

    const served = page.waitForEvent('requestfinished', (request) => isRecordsFile(new URL(request.url())));
    letThrough();
    await served;
    await settled(page);
    // The officer is on the venue list: 记录 was left, so nothing of it was made or read.
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    const newestReads = () => page.evaluate(() => performance.getEntriesByName('fieldcheck:records-newest', 'measure').length);
    expect(await newestReads()).toBe(0);

    await tab(page, '/records');
    await expect(page.getByText('暂无检查记录')).toBeVisible();
    expect(await newestReads()).toBeGreaterThan(0);
  } finally {
    await context.close();
  }
});

test('code fetched at first use (the sync run and the export) that cannot be fetched says so, keeps the record, and works once it arrives', async ({ browser }) => {
  server = await Server.start();
  // The sync run's file holds the export's code too: unreachable, as on a phone whose worker never
  // cached it.
  let asked = 0;
  const { context, page } = await withoutSyncFile(browser, (route) => {
    asked += 1;
    return route.abort('internetdisconnected');
  });
  try {
    const id = await submitInspection(page, 0, '同步代码未下载时保存');
    // 离线 at first; 同步未就绪 (with a reload offered) once runs have failed a few times in a row.
    const badge = page.getByTestId('sync-badge');
    await expect(badge).toHaveAttribute('data-state', /^(offline|error)$/);
    expect(asked, 'the run asked for its file').toBeGreaterThan(0);
    const { token } = await server.login('zhangwei', DEMO_PASSWORD);
    expect((await server.pullAll(token)).filter((change) => change.id === id)).toHaveLength(0);

    await tab(page, '/me');
    const before = asked;
    await page.getByTestId('export-unsynced').click();
    await expect(page.getByTestId('export-failed')).toContainText('导出功能还没有下载到手机上');
    expect(asked, 'the export asked for the file afresh').toBeGreaterThan(before);

    // 退出登录 cannot read the counts (they come with that file): the button waits, saying so, then
    // the officer is told that whether anything waits cannot be told, and a second tap would log out.
    const logout = page.getByTestId('logout');
    await logout.click();
    await expect(logout).toBeDisabled();
    await expect(logout).toHaveText('正在检查未同步的记录…');
    await expect(page.getByRole('alert').filter({ hasText: '暂时无法确认是否还有未同步的记录' })).toBeVisible();
    await expect(logout).toBeEnabled();
    await expect(logout).toHaveText('确认退出');
    await page.getByRole('button', { name: '取消' }).click();
    await expect(logout).toHaveText('退出登录');

    // The files can be fetched again: the export saves the record to a file, and the next run
    // sends it, once.
    await page.unroute(SYNC_FILE);
    const downloading = page.waitForEvent('download');
    await page.getByTestId('export-unsynced').click();
    const exported = JSON.parse(readFileSync(await (await downloading).path()).toString('utf8'));
    expect(JSON.stringify(exported)).toContain(id);
    await expect(page.getByTestId('export-failed')).toHaveCount(0);
    await syncNow(page);
    await expect(badge).toHaveAttribute('data-state', 'synced');
    expect((await server.pullAll(token)).filter((change) => change.id === id)).toHaveLength(1);
  } finally {
    await context.close();
  }
});

test('登录 asks for its code only once the officer is at the form; without it, or with its download stalled, the login says so, sends nothing, and offers a reload that logs in', async ({ browser }) => {
  server = await Server.start();
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  // The login's code is in the sync run's file: unreachable, as on a weak signal.
  let asked = 0;
  await page.route(SYNC_FILE, (route) => {
    asked += 1;
    return route.abort('internetdisconnected');
  });
  const logins: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/auth/login') logins.push(request.method());
  });
  try {
    await page.goto(`${server.baseUrl}/login`);
    // The app's own 登录 (the page's copy has gone), and nothing more asked for while only shown.
    await expect(page.locator('#boot-login')).toHaveCount(0);
    await expect(page.locator('#login-username')).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(asked, 'a phone that only shows 登录 fetches no more code').toBe(0);

    // (The request made ahead has failed, not merely gone out, before the tap: a tap joins one
    // still on its way.)
    const aheadFailed = page.waitForEvent('console', (message) => message.text().includes('not fetched ahead'));
    await page.locator('#login-username').fill('zhangwei');
    await expect.poll(() => asked, { message: 'the officer at the form asks for the login\'s code' }).toBeGreaterThan(0);
    await aheadFailed;
    await page.locator('#login-password').fill(DEMO_PASSWORD);
    const before = asked;
    await page.locator('button[type="submit"]').click();
    await expect(page.getByRole('alert')).toContainText('登录所需的程序未能下载到手机上');
    await expect(page.getByTestId('login-reload')).toBeVisible();
    expect(asked, 'the tap asked for the file afresh').toBeGreaterThan(before);
    expect(logins, 'nothing was sent to the server').toHaveLength(0);
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.locator('#login-password')).toHaveValue(DEMO_PASSWORD);

    // The file stalls on its way (a weak link): after the app's patience (15 s) the tap is told the
    // same, not that there is no network, and still nothing was sent.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    const stalled = asked;
    await page.route(SYNC_FILE, () => {
      asked += 1; // never answered
    });
    await page.locator('button[type="submit"]').click();
    await expect.poll(() => asked, { message: 'the tap asked for the file afresh' }).toBeGreaterThan(stalled);
    await expect(page.getByTestId('login-reload')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole('alert')).toContainText('登录所需的程序未能下载到手机上');
    expect(logins, 'nothing was sent to the server').toHaveLength(0);

    // The file can be fetched again: the reload the login offers starts afresh, and the login goes
    // through, once, with the first sync.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByTestId('login-reload').click();
    await expect(page.locator('#login-username')).toBeVisible();
    await expect(page.getByTestId('login-reload')).toHaveCount(0);
    await page.locator('#login-username').fill('zhangwei');
    await page.locator('#login-password').fill(DEMO_PASSWORD);
    await page.locator('button[type="submit"]').click();
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    expect(logins).toHaveLength(1);
  } finally {
    await context.close();
  }
});

test('a phone an older build left converts its records with the conversion\'s own file, and a new phone never fetches it', async ({ browser }) => {
  server = await Server.start();
  const officer = await server.login('zhangwei', DEMO_PASSWORD);
  const like = (await server.pullAll(officer.token)).find((change) => change.entity === 'venue')!.body;
  const id = crypto.randomUUID();
  const venue = { ...like, id, name: `${like.name}（旧版离线登记）`, licence_no: '', initials: '' };

  // A new phone: its database is made at this build's layout, so the conversion's file is never asked for.
  const fresh = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await fresh.newPage();
    const asked: string[] = [];
    page.on('request', (request) => {
      if (MIGRATE_FILE(new URL(request.url()))) asked.push(request.url());
    });
    // The database is opened, and converted if need be, before the login form is the app's own.
    await logIn(page, server.baseUrl, 'zhangwei');
    expect(asked, 'a new phone fetched the conversion').toEqual([]);
  } finally {
    await fresh.close();
  }

  // A phone the first layout's build left: database version 1, the officer's session, and a venue
  // registered offline, its change queued in `outbox`.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/robots.txt`);
    await page.evaluate(
      async ({ venue, session }) => {
        const request = <T>(req: IDBRequest<T>) =>
          new Promise<T>((resolve, reject) => {
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
          });
        const opening = indexedDB.open('fieldcheck', 1);
        opening.onupgradeneeded = () => {
          const db = opening.result;
          const venues = db.createObjectStore('venues', { keyPath: 'record.id' });
          venues.createIndex('kind', 'record.kind');
          venues.createIndex('name', 'record.name');
          const inspections = db.createObjectStore('inspections', { keyPath: 'record.id' });
          inspections.createIndex('status', 'record.status');
          inspections.createIndex('venue_id', 'record.venue_id');
          inspections.createIndex('started_at', 'record.started_at');
          inspections.createIndex('sync', 'sync');
          db.createObjectStore('photos', { keyPath: 'sha256' });
          db.createObjectStore('outbox', { autoIncrement: true }).createIndex('record', ['entity', 'id']);
          db.createObjectStore('meta');
        };
        const db = await request(opening);
        const tx = db.transaction(['venues', 'outbox', 'meta'], 'readwrite');
        tx.objectStore('venues').put({ record: venue, rev: 0 });
        tx.objectStore('outbox').put({ op_id: crypto.randomUUID(), entity: 'venue', id: venue.id, body: venue, attempts: 0 });
        tx.objectStore('meta').put(session, 'session');
        await new Promise((resolve, reject) => {
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
        });
        db.close();
      },
      { venue, session: { token: officer.token, user: officer.user } },
    );
    const converting = page.waitForRequest((request) => MIGRATE_FILE(new URL(request.url())));
    await page.goto(server.baseUrl);
    await converting;
    // The venue is on the phone as a record of today's layout, and its queued change goes up, once.
    await page.locator('input[name="q"]').fill(venue.name);
    await expect(page.getByTestId('venue-row')).toHaveCount(1);
    await syncNow(page);
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    expect((await server.pullAll(officer.token)).filter((change) => change.id === id)).toHaveLength(1);
  } finally {
    await context.close();
  }
});
