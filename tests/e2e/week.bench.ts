// A week with no signal, measured: 500 complete records and 1 000 photos of about 200 KiB waiting on
// one phone (brought in as backup files through 我的 → 导入备份文件), from the signal coming back to
// "synced", then every photo checked on the server byte for byte: on loopback, and over a link
// with a mobile network's round trip (150 ms) where the waiting per request shows. Prints figures only.
import { test, expect, type Page } from '@playwright/test';
import { Server } from './server';
import { logIn } from './phone';
import { backlog, importOffline, LINK_RTT_MS, mobileLink, sha256, timeSyncOnline, type ExportedPhoto } from './backlog';

/** Records per backup file: they differ so that each import's banner can be told from the last (sum 500). */
const FILES = [45, 46, 47, 48, 49, 51, 52, 53, 54, 55];
const PHOTOS_PER_RECORD = 2;

/** A 1600 × 1200 JPEG of about 200 KiB with grain, as the app stores a camera picture, drawn in the page. */
async function scenePhoto(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 1600;
    canvas.height = 1200;
    const pen = canvas.getContext('2d')!;
    const gradient = pen.createLinearGradient(0, 0, 1600, 1200);
    gradient.addColorStop(0, 'hsl(30 40% 35%)');
    gradient.addColorStop(1, 'hsl(200 45% 60%)');
    pen.fillStyle = gradient;
    pen.fillRect(0, 0, 1600, 1200);
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let idx = 0; idx < 200; idx++) {
      pen.fillStyle = `hsla(${random() * 360} 50% ${20 + random() * 60}% / 0.6)`;
      pen.fillRect(random() * 1600, random() * 1200, 20 + random() * 300, 20 + random() * 200);
    }
    const grain = pen.getImageData(0, 0, 1600, 1200);
    for (let idx = 0; idx < grain.data.length; idx += 4) {
      const noise = (random() - 0.5) * 16;
      grain.data[idx] += noise;
      grain.data[idx + 1] += noise;
      grain.data[idx + 2] += noise;
    }
    pen.putImageData(grain, 0, 0);
    // The lowest quality that reaches 200 KiB, as a camera picture the app has shrunk weighs.
    let url = '';
    for (let quality = 0.5; quality < 0.97; quality += 0.05) {
      url = canvas.toDataURL('image/jpeg', quality);
      if (url.length * 0.75 >= 200 * 1024) break;
    }
    return url.split(',')[1];
  });
  return Buffer.from(base64, 'base64');
}

/** The same picture made distinct by a JPEG comment segment right after the start marker. */
function variant(jpeg: Buffer, idx: number): Buffer {
  const text = Buffer.from(`fieldcheck week bench ${idx}`);
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(2 + text.length, 2);
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

async function weekOffline(page: Page, link: 'loopback' | 'mobile'): Promise<void> {
  const server = await Server.start();
  try {
    const work = await backlog(server);
    await logIn(page, server.baseUrl, 'zhangwei');
    const picture = await scenePhoto(page);
    const photos: Buffer[] = [];
    const files = [];
    let first = 0;
    for (const count of FILES) {
      const names: ExportedPhoto[] = [];
      const records = work.records(first, count, (idx) => {
        const named = [];
        for (let n = 0; n < PHOTOS_PER_RECORD; n++) {
          const bytes = variant(picture, idx * PHOTOS_PER_RECORD + n);
          photos.push(bytes);
          const name = sha256(bytes);
          names.push({ sha256: name, content_type: 'image/jpeg', taken_at: '2026-11-01T10:00:00+08:00', base64: bytes.toString('base64') });
          named.push(name);
        }
        return named;
      });
      files.push({ file: work.file(records, names), records: count });
      first += count;
    }
    const records = first;
    const bytes = photos.reduce((sum, photo) => sum + photo.length, 0);

    const { goOffline, goOnline } = link === 'mobile' ? await mobileLink(page) : {};
    await importOffline(page, files, goOffline);
    const elapsed = await timeSyncOnline(page, goOnline);

    const onServer = (await server.pullAll(work.author.token)).filter((change) => change.entity === 'inspection');
    expect(onServer).toHaveLength(records);
    for (const photo of photos) {
      const response = await fetch(`${server.baseUrl}/api/photos/${sha256(photo)}`, {
        headers: { authorization: `Bearer ${work.author.token}` },
      });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(photo)).toBe(true);
    }
    console.log(
      `FIGURE a week offline: ${records} records and ${photos.length} photos ` +
        `(${(bytes / photos.length / 1024).toFixed(0)} KiB each, ${(bytes / 1024 / 1024).toFixed(0)} MiB), ` +
        `${link === 'mobile' ? `${LINK_RTT_MS} ms round trip` : 'loopback'}, to "synced": ` +
        `${(elapsed / 1000).toFixed(2)} s`,
    );
  } finally {
    await server.stop();
  }
}

test('sync: a week offline, 500 records and 1 000 photos, loopback', async ({ page }) => weekOffline(page, 'loopback'));
test(`sync: a week offline, over a ${LINK_RTT_MS} ms round trip`, async ({ page }) => weekOffline(page, 'mobile'));
