// Opening the app on a cheap phone over a weak signal, measured: the first load throttled (CPU and
// network, through the DevTools protocol), a warm open from the service worker, and Lighthouse's
// mobile audit. Prints figures only; nothing here passes or fails on a time.
import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEMO_PASSWORD, Server } from './server';
import { chromiumArgs } from './playwright.config';
import { logIn } from './phone';

const RUNS = 3;

function figure(what: string, value: string): void {
  console.log(`FIGURE ${what}: ${value}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Network as a phone gets it: `kbps` down, a third of it up, `latency` ms added per request. */
async function throttle(page: Page, context: BrowserContext, kbps: number, latency: number, cpu: number): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency,
    downloadThroughput: (kbps * 1000) / 8,
    uploadThroughput: (kbps * 1000) / 8 / 3,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu });
}

/** Milliseconds from asking for /login on a fresh phone to a login form that takes typing (the
 * page's own, index.html), to the app's login form (the app started: a tap on 登录 is sent at once),
 * and to the first thing on screen (the browser's first contentful paint); then from a tap on the
 * app's 登录, with name and password filled in at once (the login's code, in the sync run's file, gets
 * no head start from the officer's typing), to the venue list drawn with the first sync's venues. */
async function firstLoad(browser: import('@playwright/test').Browser, server: Server, kbps: number, latency: number, cpu: number): Promise<{ form: number; app: number; paint: number; login: number }> {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  await throttle(page, context, kbps, latency, cpu);
  const started = Date.now();
  await page.goto(`${server.baseUrl}/login`, { waitUntil: 'commit', timeout: 120_000 });
  await expect(page.locator('input[name="username"]')).toBeEditable({ timeout: 120_000 });
  const form = Date.now() - started;
  await expect(page.locator('#login-username')).toBeEditable({ timeout: 120_000 });
  const app = Date.now() - started;
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
  await page.locator('#login-username').fill('zhangwei');
  await page.locator('#login-password').fill(DEMO_PASSWORD);
  const tapped = Date.now();
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('venue-row').first()).toBeVisible({ timeout: 120_000 });
  const login = Date.now() - tapped;
  await context.close();
  return { form, app, paint, login };
}

test('first load over a weak signal, and a warm open from the service worker', async ({ browser }) => {
  const server = await Server.start();
  try {
    const loads: Array<{ form: number; app: number; paint: number; login: number }> = [];
    for (let run = 0; run < RUNS; run++) loads.push(await firstLoad(browser, server, 1600, 150, 4));
    const weak = loads.map((load) => load.form);
    const started = loads.map((load) => load.app);
    const painted = loads.map((load) => load.paint);
    figure('first load to a usable login form, 1.6 Mbps / 150 ms, 4× CPU slowdown (median of 3)', `${seconds(median(weak))} (${weak.map(seconds).join(', ')})`);
    figure('first load to the app\'s own login form (the app started), same link (median of 3)', `${seconds(median(started))} (${started.map(seconds).join(', ')})`);
    figure('first load to the first thing on screen (first contentful paint), same link (median of 3)', `${seconds(median(painted))} (${painted.map(seconds).join(', ')})`);
    const logins = loads.map((load) => load.login);
    figure('first visit: 登录 tapped at once to the venue list with the first sync\'s venues, same link (median of 3)', `${seconds(median(logins))} (${logins.map(seconds).join(', ')})`);
    // DevTools' "Slow 3G": 400 kbps at 80 % and 400 ms round trips times five.
    const slow = await firstLoad(browser, server, 400, 2000, 4);
    figure('first load to a usable login form, slow 3G, 4× CPU slowdown', seconds(slow.form));
    figure('first load to the app\'s own login form, slow 3G, 4× CPU slowdown', seconds(slow.app));
    figure('first load to the first thing on screen, slow 3G, 4× CPU slowdown', seconds(slow.paint));
    figure('first visit: 登录 tapped at once to the venue list, slow 3G, 4× CPU slowdown', seconds(slow.login));

    // A logged-in officer opens the app again: everything comes from the service worker's cache.
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const first = await context.newPage();
    await logIn(first, server.baseUrl, 'zhangwei');
    await first.evaluate(() => navigator.serviceWorker.ready);
    await expect.poll(() => first.evaluate(() => localStorage.getItem('fieldcheck-snapshot') !== null)).toBe(true);
    await first.close();
    // Timed in the page, from the navigation's start to the first venue row in the DOM: the copy of
    // the list the page shows while the app starts (src/boot_snapshot.rs), the first paint, and the
    // app's own row. Playwright's own waiting parses its injected script (110 ms at 4× CPU) and polls
    // on the same main thread.
    await context.addInitScript(() => {
      const seen = (selector: string) =>
        new Promise<number>((resolve) => {
          const observer = new MutationObserver(() => {
            if (document.querySelector(selector)) {
              observer.disconnect();
              resolve(performance.now());
            }
          });
          observer.observe(document, { subtree: true, childList: true });
        });
      (window as unknown as { fieldcheckSeen: Promise<number[]> }).fieldcheckSeen = Promise.all([
        seen('#boot-snapshot .venue-row'),
        seen('[data-testid="venue-row"]'),
      ]);
    });
    const copies: number[] = [];
    const paints: number[] = [];
    const warm: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const page = await context.newPage();
      await throttle(page, context, 1600, 150, 4);
      await page.goto(`${server.baseUrl}/`, { waitUntil: 'commit' });
      const [copy, row] = await page.evaluate(() => (window as unknown as { fieldcheckSeen: Promise<number[]> }).fieldcheckSeen);
      copies.push(copy);
      warm.push(row);
      paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
      await page.close();
    }
    figure('warm open from the service worker to the venue list as last drawn (the page\'s copy), 4× CPU slowdown, timed in the page (median of 3)', `${seconds(median(copies))} (${copies.map(seconds).join(', ')})`);
    figure('the same open to its first paint (median of 3)', `${seconds(median(paints))} (${paints.map(seconds).join(', ')})`);
    figure('the same open to the app\'s own venue list (median of 3)', `${seconds(median(warm))} (${warm.map(seconds).join(', ')})`);
    // As measured before, for comparison: from Playwright's side, waiting with its own locator.
    const seenByPlaywright: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const page = await context.newPage();
      await throttle(page, context, 1600, 150, 4);
      const started = Date.now();
      await page.goto(`${server.baseUrl}/`, { waitUntil: 'commit' });
      await expect(page.getByTestId('venue-row').first()).toBeVisible();
      seenByPlaywright.push(Date.now() - started);
      await page.close();
    }
    figure('the same, timed from Playwright with its locator (median of 3)', `${seconds(median(seenByPlaywright))} (${seenByPlaywright.map(seconds).join(', ')})`);
    await context.close();
  } finally {
    await server.stop();
  }
});

test('Lighthouse 12.8 mobile audit of the login page', async () => {
  const server = await Server.start();
  const run = promisify(execFile);
  const lighthouse = path.join(__dirname, 'node_modules/.bin/lighthouse');
  const scores: Array<{ performance: number; accessibility: number; practices: number; interactive: number; lcp: number }> = [];
  try {
    for (let idx = 0; idx < RUNS; idx++) {
      const out = mkdtempSync(path.join(tmpdir(), 'fieldcheck-lighthouse-'));
      const report = path.join(out, 'report.json');
      await run(
        lighthouse,
        [
          `${server.baseUrl}/login`,
          '--quiet',
          '--output=json',
          `--output-path=${report}`,
          '--only-categories=performance,accessibility,best-practices',
          // A value with spaces is quoted, as lighthouse's flag parser reads it.
          `--chrome-flags=${chromiumArgs.map((arg) => arg.replace(/=(.* .*)$/, "='$1'")).join(' ')}`,
        ],
        { env: { ...process.env, CHROME_PATH: process.env.CHROMIUM ?? '/usr/bin/chromium' }, timeout: 180_000 },
      );
      const result = JSON.parse(readFileSync(report, 'utf8'));
      rmSync(out, { recursive: true, force: true });
      // What the score is made of, run by run: each metric's value (ms) and its score.
      figure(`Lighthouse metrics, run ${idx + 1}`, ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index', 'interactive'].map((id) => `${id} ${Math.round(result.audits[id].numericValue)} (${result.audits[id].score})`).join('; '));
      // Which paint was the largest, when it was seen (not simulated), and when the main module was
      // asked for: a request begun before that paint counts in the estimate of its time.
      const observed = result.audits.metrics.details?.items?.[0];
      const wasm = (result.audits['network-requests'].details?.items ?? []).find((request: { url: string }) => request.url.endsWith('_bg.wasm'));
      figure(
        `Lighthouse run ${idx + 1}: largest paint`,
        `${result.audits['largest-contentful-paint-element'].details?.items?.[0]?.items?.[0]?.node?.nodeLabel ?? '(not named)'} seen at ${Math.round(observed?.observedLargestContentfulPaint ?? NaN)} ms; main module asked for at ${Math.round(wasm?.networkRequestTime ?? NaN)} ms`,
      );
      // Best practices below 100: which audit, and what it found.
      const practices = result.categories['best-practices'].auditRefs
        .filter((ref: { weight: number }) => ref.weight > 0)
        .map((ref: { id: string }) => result.audits[ref.id])
        .filter((audit: { score: number | null }) => audit.score !== null && audit.score < 1);
      for (const audit of practices) {
        figure(`Lighthouse run ${idx + 1}: best practice missed`, `${audit.id}: ${JSON.stringify(audit.details?.items ?? []).slice(0, 400)}`);
      }
      scores.push({
        performance: Math.round(result.categories.performance.score * 100),
        accessibility: Math.round(result.categories.accessibility.score * 100),
        practices: Math.round(result.categories['best-practices'].score * 100),
        interactive: result.audits.interactive.numericValue,
        lcp: result.audits['largest-contentful-paint'].numericValue,
      });
    }
  } finally {
    await server.stop();
  }
  const pick = (key: keyof (typeof scores)[number]) => median(scores.map((score) => score[key]));
  figure(
    'Lighthouse 12.8 mobile, login page (median of 3): performance / accessibility / best practices',
    `${pick('performance')} / ${pick('accessibility')} / ${pick('practices')}`,
  );
  figure('Lighthouse time to interactive (median of 3)', seconds(pick('interactive')));
  figure('Lighthouse largest contentful paint (median of 3)', seconds(pick('lcp')));
});
