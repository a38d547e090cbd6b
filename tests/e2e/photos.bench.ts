// Photos on the phone, measured: the time to process a camera picture (median of 10), the size of a
// stored photo, and the time for a record with 10 photos to sync on loopback. Prints figures only.
import { test, expect, type Page } from '@playwright/test';
import { Server } from './server';
import { PASS, completeRecord, logIn } from './phone';

const RUNS = 10;

/** A 4032 × 3024 camera-sized JPEG with texture (gradients and grain), drawn in the page. */
async function cameraJpeg(page: Page, seed: number): Promise<Buffer> {
  const base64 = await page.evaluate((seed) => {
    const width = 4032;
    const height = 3024;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const pen = canvas.getContext('2d')!;
    const gradient = pen.createLinearGradient(0, 0, width, height);
    gradient.addColorStop(0, `hsl(${seed * 37 % 360} 40% 35%)`);
    gradient.addColorStop(1, `hsl(${(seed * 37 + 120) % 360} 45% 60%)`);
    pen.fillStyle = gradient;
    pen.fillRect(0, 0, width, height);
    // Objects and grain, as a room photographed in poor light has.
    let state = seed + 1;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let idx = 0; idx < 400; idx++) {
      pen.fillStyle = `hsla(${random() * 360} 50% ${20 + random() * 60}% / 0.6)`;
      pen.fillRect(random() * width, random() * height, 40 + random() * 600, 40 + random() * 400);
    }
    const grain = pen.getImageData(0, 0, width, height);
    for (let idx = 0; idx < grain.data.length; idx += 4) {
      const noise = (random() - 0.5) * 24;
      grain.data[idx] += noise;
      grain.data[idx + 1] += noise;
      grain.data[idx + 2] += noise;
    }
    pen.putImageData(grain, 0, 0);
    return canvas.toDataURL('image/jpeg', 0.92).split(',')[1];
  }, seed);
  return Buffer.from(base64, 'base64');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

test('photos: processing time, stored size, and a 10-photo record syncing on loopback', async ({ page }) => {
  const server = await Server.start();
  try {
    await logIn(page, server.baseUrl, 'zhangwei');
    const pictures: Buffer[] = [];
    for (let seed = 0; seed < RUNS; seed++) pictures.push(await cameraJpeg(page, seed));

    await page.getByTestId('venue-row').first().click();
    const items = page.locator('[data-item]');
    await expect(items.first()).toBeVisible();
    const count = await items.count();
    for (let idx = 0; idx < count; idx++) {
      await items.nth(idx).getByRole('button', { name: PASS }).click();
    }
    const strip = page.getByTestId('record-photos');
    const thumbs = strip.locator('.photo-thumb');
    const input = strip.getByTestId('photo-file');
    const times: number[] = [];
    for (let idx = 0; idx < RUNS; idx++) {
      const started = Date.now();
      await input.setInputFiles({ name: `scene-${idx}.jpg`, mimeType: 'image/jpeg', buffer: pictures[idx] });
      await expect(thumbs).toHaveCount(idx + 1, { timeout: 60_000 });
      times.push(Date.now() - started);
    }
    const sizes: number[] = await page.evaluate(
      () =>
        new Promise<number[]>((resolve, reject) => {
          const open = indexedDB.open('fieldcheck');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('photos').objectStore('photos').getAll();
            all.onsuccess = () => resolve(all.result.filter((p: { content_type: string }) => p.content_type === 'image/jpeg').map((p: { size: number }) => p.size));
            all.onerror = () => reject(all.error);
          };
        }),
    );

    // Submit online and time until the record (after its 10 photos and 3 signatures) is synced.
    await completeRecord(page);
    const submitted = Date.now();
    await page.getByTestId('submit-inspection').click();
    await expect(page.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced', { timeout: 120_000 });
    const syncMs = Date.now() - submitted;

    const inputSizes = pictures.map((picture) => picture.length);
    console.log(`FIGURE camera picture in: ${(median(inputSizes) / 1024).toFixed(0)} KiB median (4032 × 3024 synthetic JPEG)`);
    console.log(`FIGURE photo processing (decode, orient, downscale to 1600 px, watermark, JPEG, SHA-256, keep): median ${median(times)} ms of ${RUNS}, min ${Math.min(...times)} ms, max ${Math.max(...times)} ms`);
    console.log(`FIGURE stored photo: median ${(median(sizes) / 1024).toFixed(0)} KiB (${sizes.length} photos, 1600 × 1200 JPEG q 0.85)`);
    console.log(`FIGURE record with ${RUNS} photos and 3 signatures, submit tap to synced on loopback: ${syncMs} ms`);
  } finally {
    await server.stop();
  }
});
