// Work that waited on a phone with no signal, for the sync benchmarks: complete records of one
// officer and a colleague, written as the export file 我的 → 导入备份文件 reads, and imported on the
// phone while it is offline (so that no sync starts before the clock does).
import { expect, type Page } from '@playwright/test';
import { createHash, randomUUID } from 'node:crypto';
import { Server, DEMO_PASSWORD } from './server';
import { tab } from './phone';

/** A 1×1 grey PNG: the signatures of the generated records (uploaded once, named by all). */
export const SIGNATURE = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010800000000' +
    '3a7e9b550000000a4944415478da6360000000020001e527defc0000000049454e44ae426082',
  'hex',
);

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function api(server: Server, token: string, path: string): Promise<any> {
  const response = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return response.json();
}

/** A photo as the export file carries it. */
export interface ExportedPhoto {
  sha256: string;
  content_type: string;
  taken_at: string;
  base64: string;
}

/** What the backlog's records are written from: the officer (zhangwei), the partner, the templates and venues. */
export interface Backlog {
  author: { token: string; user: { id: string; unit_id: string } };
  /** `n` complete queued records, numbered from `first` in the queue; record `idx` names `photosOf(idx)` as its scene photos. */
  records(first: number, n: number, photosOf?: (idx: number) => string[]): unknown[];
  /** An export file holding `records` and `photos` (the signature always among them). */
  file(records: unknown[], photos: ExportedPhoto[]): Buffer;
}

export async function backlog(server: Server): Promise<Backlog> {
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
  const signature = sha256(SIGNATURE);
  return {
    author,
    records(first, n, photosOf = () => []) {
      const records = [];
      for (let idx = first; idx < first + n; idx++) {
        const venue = venues[idx % venues.length];
        const at = `2026-11-${String(1 + (idx % 28)).padStart(2, '0')}T10:00:00+08:00`;
        const id = randomUUID();
        const body = {
          id, venue_id: venue.id, kind: 'routine', template: `${venue.kind}@1`, started_at: at, finished_at: at,
          inspectors: [author.user.id, partner.id],
          answers: (templates.get(venue.kind) ?? []).map((code) => ({ item: code, result: 'pass' })),
          photos: photosOf(idx),
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
      return records;
    },
    file(records, photos) {
      const all = [
        { sha256: signature, content_type: 'image/png', taken_at: '2026-11-01T10:00:00+08:00', base64: SIGNATURE.toString('base64') },
        ...photos,
      ];
      return Buffer.from(JSON.stringify({ app: 'fieldcheck', kind: 'unsynced-export', owner: author.user, records, forms: [], photos: all }));
    },
  };
}

/**
 * Takes the phone offline (`goOffline`, by default Playwright's) and imports `files` through 我的 → 导入备份文件, one after the other. The
 * banner keeps the last file's count until the next import ends, so files in a row must differ in
 * their number of records.
 */
export async function importOffline(
  page: Page,
  files: Array<{ file: Buffer; records: number }>,
  goOffline = () => page.context().setOffline(true),
): Promise<void> {
  await tab(page, '/me');
  await goOffline();
  for (const [idx, { file, records }] of files.entries()) {
    await page
      .getByTestId('import-unsynced')
      .locator('input[type="file"]')
      .setInputFiles({ name: `backlog-${idx}.json`, mimeType: 'application/json', buffer: file });
    await expect(page.getByTestId('import-done')).toContainText(`已导入 ${records} 条记录`, { timeout: 300_000 });
  }
}

/** The round trip of a 4G link in a county town (the bandwidth is left unlimited: it is the waits that show). */
export const LINK_RTT_MS = 150;

/**
 * Switches for a phone on a mobile link: offline, then back online with `LINK_RTT_MS` on every
 * request. Set through one CDP session throughout: Playwright's own offline switch is a second
 * session's emulation, which would stay offline under this one's.
 */
export async function mobileLink(page: Page): Promise<{ goOffline: () => Promise<void>; goOnline: () => Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  const emulate = async (offline: boolean) => {
    await cdp.send('Network.emulateNetworkConditions', { offline, latency: LINK_RTT_MS, downloadThroughput: -1, uploadThroughput: -1 });
  };
  return { goOffline: () => emulate(true), goOnline: () => emulate(false) };
}

/**
 * Brings the signal back (`goOnline`, by default Playwright's) and answers the milliseconds from
 * the start of the run that follows — the badge turning busy, after the app's random wait of up to
 * `ONLINE_SPREAD_MS` (crates/fieldcheck-core/src/sync.rs), which is not the sync's cost — to the
 * badge turning "synced", timed in the page (Playwright's polling would add up to a second).
 */
export async function timeSyncOnline(page: Page, goOnline = () => page.context().setOffline(false)): Promise<number> {
  await page.evaluate(() => {
    (window as any).fieldcheckSynced = new Promise<number>((resolve) => {
      let online = false;
      let begun: number | undefined;
      window.addEventListener('online', () => (online = true), { once: true });
      const observer = new MutationObserver(() => {
        const badge = document.querySelector('[data-testid="sync-badge"]');
        if (online && begun === undefined && badge?.classList.contains('badge-busy')) {
          begun = performance.now();
        }
        if (begun !== undefined && badge?.getAttribute('data-state') === 'synced') {
          observer.disconnect();
          resolve(performance.now() - begun);
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    });
  });
  await goOnline();
  const elapsed: number = await page.evaluate(() => (window as any).fieldcheckSynced);
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  return elapsed;
}
