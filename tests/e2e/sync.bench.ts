// One phone sending a backlog, measured: 1 000 complete records waiting on the phone (brought in as
// a backup file through 我的 → 导入备份文件, as a phone after a week with no signal would hold them),
// from the signal coming back to "synced". Prints figures only.
import { test, expect } from '@playwright/test';
import { createHash, randomUUID } from 'node:crypto';
import { Server, DEMO_PASSWORD } from './server';
import { logIn, tab } from './phone';

const N_RECORDS = 1_000;

/** A 1×1 grey PNG: the signatures of the generated records (uploaded once, named by all). */
const SIGNATURE = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010800000000' +
    '3a7e9b550000000a4944415478da6360000000020001e527defc0000000049454e44ae426082',
  'hex',
);

async function api(server: Server, token: string, path: string): Promise<any> {
  const response = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return response.json();
}

test(`sync: ${N_RECORDS} records waiting on one phone`, async ({ page }) => {
  const server = await Server.start();
  try {
    const author = await server.login('zhangwei', DEMO_PASSWORD);
    const partner = (await api(server, author.token, '/api/users')).users.find(
      (user: { username: string }) => user.username === 'chenjing',
    );
    const templates = new Map<string, string[]>(
      (await api(server, author.token, '/api/templates')).templates.map(
        (template: { kind: string; items: Array<{ code: string }> }) => [template.kind, template.items.map((item) => item.code)],
      ),
    );
    const venues = (await server.pullAll(author.token)).filter((change) => change.entity === 'venue').map((change) => change.body);
    const signature = createHash('sha256').update(SIGNATURE).digest('hex');
    const records = [];
    for (let idx = 0; idx < N_RECORDS; idx++) {
      const venue = venues[idx % venues.length];
      const at = `2026-11-${String(1 + (idx % 28)).padStart(2, '0')}T10:00:00+08:00`;
      const id = randomUUID();
      const body = {
        id, venue_id: venue.id, kind: 'routine', template: `${venue.kind}@1`, started_at: at, finished_at: at,
        inspectors: [author.user.id, partner.id],
        answers: (templates.get(venue.kind) ?? []).map((code) => ({ item: code, result: 'pass' })),
        party: { name: '刘建军', title: '负责人', signature, refused: false },
        officer_signatures: [
          { officer: author.user.id, signature },
          { officer: partner.id, signature },
        ],
        notes: '', status: 'submitted',
      };
      records.push({
        entity: 'inspection',
        id,
        stored: { record: body, local: { state: 'queued', order: idx + 1, base: null, mine: body, newer: null }, queue: idx + 1 },
      });
    }
    const backup = {
      app: 'fieldcheck', kind: 'unsynced-export', owner: author.user, records, forms: [],
      photos: [{ sha256: signature, content_type: 'image/png', taken_at: '2026-11-01T10:00:00+08:00', base64: SIGNATURE.toString('base64') }],
    };

    await logIn(page, server.baseUrl, 'zhangwei');
    await tab(page, '/me');
    // Offline while importing, so that the import's own sync does not start the clock early.
    await page.context().setOffline(true);
    await page
      .getByTestId('import-unsynced')
      .locator('input[type="file"]')
      .setInputFiles({ name: 'backlog.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(backup)) });
    await expect(page.getByTestId('import-done')).toContainText(`已导入 ${N_RECORDS} 条记录`, { timeout: 120_000 });
    // The signal returns: the app syncs on its own. Timed in the page, from the browser's `online`
    // event to the badge turning "synced" (Playwright's polling would add up to a second).
    await page.evaluate(() => {
      (window as any).fieldcheckSynced = new Promise<number>((resolve) => {
        let begun: number | undefined;
        window.addEventListener('online', () => (begun = performance.now()), { once: true });
        const observer = new MutationObserver(() => {
          const state = document.querySelector('[data-testid="sync-badge"]')?.getAttribute('data-state');
          if (begun !== undefined && state === 'synced') {
            observer.disconnect();
            resolve(performance.now() - begun);
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      });
    });
    await page.context().setOffline(false);
    const elapsed: number = await page.evaluate(() => (window as any).fieldcheckSynced);
    await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
    const onServer = (await server.pullAll(author.token)).filter((change) => change.entity === 'inspection');
    expect(onServer).toHaveLength(N_RECORDS);
    console.log(`FIGURE sync of ${N_RECORDS} complete records from one phone, loopback, to "synced": ${(elapsed / 1000).toFixed(2)} s`);
  } finally {
    await server.stop();
  }
});
