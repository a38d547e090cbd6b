import { test, expect } from '@playwright/test';
import { Server } from './server';
import { logIn } from './phone';
test('timeline', async ({ browser }) => {
  const server = await Server.start();
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const first = await context.newPage();
  await logIn(first, server.baseUrl, 'zhangwei');
  await first.evaluate(() => navigator.serviceWorker.ready);
  await first.close();
  await context.addInitScript(() => {
    (window as any).__t = {};
    window.addEventListener('TrunkApplicationStarted', () => ((window as any).__t.started = performance.now()));
    new MutationObserver(() => {
      const t = (window as any).__t;
      if (!t.shell && document.querySelector('.topbar')) t.shell = performance.now();
      if (!t.rows && document.querySelector('[data-testid="venue-row"]')) t.rows = performance.now();
    }).observe(document, { subtree: true, childList: true });
  });
  for (let run = 0; run < 3; run++) {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await page.goto(`${server.baseUrl}/`, { waitUntil: 'commit' });
    await expect(page.getByTestId('venue-row').first()).toBeVisible();
    const out = await page.evaluate(() => {
      const t = (window as any).__t;
      const res = performance.getEntriesByType('resource').map((e: any) => `${e.name.split('/').pop().slice(0, 28)} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`);
      const nav = performance.getEntriesByType('navigation')[0] as any;
      return { nav: `${nav.responseStart.toFixed(0)}/${nav.domContentLoadedEventEnd.toFixed(0)}`, started: t.started?.toFixed(0), shell: t.shell?.toFixed(0), rows: t.rows?.toFixed(0), res };
    });
    console.log(JSON.stringify(out, null, 1));
    await page.close();
  }
  await server.stop();
});
