// The supervisor's week: return a record with a comment that reaches the officer's phone, approve the
// fix (then it is locked and takes amendments), follow an overdue hazard to its 复查, read and copy the
// period's paragraph and export it.
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { Server, DEMO_PASSWORD } from './server';
import { PASS, completeRecord, logIn, openRecord, submitInspection, syncNow, tab } from './phone';

const FAIL = /^(✓ )?不合格$/;
const DAY_MS = 86_400_000;

let server: Server;

test.beforeAll(async () => {
  server = await Server.start();
});

test.afterAll(async () => {
  await server.stop();
});

/** A day as the inspectors' calendar shows it (Luoyang time), `YYYY-MM-DD`. */
function chinaDay(ms: number): string {
  return new Date(ms).toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}

/** Records, on a phone whose clock says `at`, a visit with a fire-exit hazard to be fixed within three days. */
async function hazardVisit(page: Page, at: number): Promise<void> {
  await page.getByTestId('venue-row').nth(2).click();
  const items = page.locator('[data-item]');
  await expect(items.first()).toBeVisible();
  const count = await items.count();
  for (let idx = 0; idx < count; idx++) {
    await items.nth(idx).getByRole('button', { name: PASS }).click();
  }
  const exit = page.locator('[data-item="common.fire_exits"]');
  await exit.getByRole('button', { name: FAIL }).click();
  await exit.locator('textarea[id$="-hazard"]').fill('消防通道堆放杂物');
  await exit.getByRole('button', { name: '限期整改' }).click();
  await exit.locator('input[type="date"]').fill(chinaDay(at + 3 * DAY_MS));
  await completeRecord(page);
  await page.getByTestId('submit-inspection').click();
  await expect(page).toHaveURL(/\/records(\?|$)/);
  await expect(page.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
}

test('a supervisor returns, approves, follows an overdue hazard and copies the period paragraph', async ({ browser }) => {
  // Ten days ago liqiang found a blocked fire exit and ordered it cleared within three days.
  const tenDaysAgo = Date.now() - 10 * DAY_MS;
  const past = await (await browser.newContext()).newPage();
  await past.clock.setSystemTime(tenDaysAgo);
  await logIn(past, server.baseUrl, 'liqiang');
  await hazardVisit(past, tenDaysAgo);

  // Today zhangwei submits a record.
  const officer = await (await browser.newContext()).newPage();
  await logIn(officer, server.baseUrl, 'zhangwei');
  const id = await submitInspection(officer, 0, '原始记录');
  await expect(officer.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');

  // The supervisor, at a desk: 我的 shows the bureau's word for the role and the way to the queue.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false });
  await desk.grantPermissions(['clipboard-read', 'clipboard-write']);
  const supervisor = await desk.newPage();
  await logIn(supervisor, server.baseUrl, 'wangfang');
  // The queue from 记录's own button is an address too: a tap on 记录 leaves it for every record.
  await tab(supervisor, '/records');
  await supervisor.getByTestId('review-queue').click();
  await expect(supervisor).toHaveURL(/\/records\?status=submitted/);
  await expect(supervisor.locator('.filters summary')).toContainText('已选 1 项');
  await tab(supervisor, '/records');
  await expect(supervisor).toHaveURL(/\/records$/);
  await expect(supervisor.locator('.filters summary')).not.toContainText('已选');
  await tab(supervisor, '/me');
  await expect(supervisor.locator('.cell', { hasText: '角色' })).toContainText('队长');
  await supervisor.getByTestId('link-review').click();
  const queued = supervisor.locator(`[data-testid="record-row"][href="/records/${id}"]`);
  await expect(queued).toHaveAttribute('data-status', 'submitted');
  await queued.click();
  await expect(supervisor.getByTestId('record-officer')).toHaveCount(2);
  // Returning needs a comment.
  await supervisor.getByTestId('review-return').click();
  await expect(supervisor.getByTestId('review-panel').getByRole('alert')).toContainText('写明');
  await supervisor.getByTestId('review-comment-input').fill('请补充现场照片');
  await supervisor.getByTestId('review-return').click();
  await expect(supervisor.getByTestId('review-done')).toContainText('已退回');

  // The officer's phone shows it on top of 记录 with the comment; fixed and resubmitted.
  await syncNow(officer);
  await tab(officer, '/records');
  const returned = officer.getByTestId('returned-records');
  await expect(returned).toContainText('请补充现场照片');
  await returned.getByTestId('record-row').click();
  await officer.getByTestId('edit-record').click();
  await officer.locator('#inspection-notes').fill('已补充现场照片');
  await officer.getByTestId('submit-inspection').click();
  await expect(officer.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
  await expect(officer.getByTestId('returned-records')).toHaveCount(0);

  // The supervisor sees the resubmission and approves it.
  await syncNow(supervisor);
  await openRecord(supervisor, id);
  await expect(supervisor.getByTestId('review-panel')).toBeVisible();
  await supervisor.getByTestId('review-approve').click();
  await expect(supervisor.getByTestId('review-done')).toContainText('已通过');
  // The pull after the decision redraws the record without its panel; the decision stays said, and
  // the way back leads to a queue without it.
  await expect(supervisor.getByTestId('review-panel')).toHaveCount(0);
  await expect(supervisor.getByTestId('review-done')).toContainText('已通过');
  await expect(supervisor.getByTestId('review-done')).toBeInViewport();
  await supervisor.getByTestId('back-to-queue').click();
  await expect(supervisor).toHaveURL(/status=submitted/);
  await expect(supervisor.getByTestId('records-count')).toBeVisible();
  await expect(supervisor.locator(`[data-testid="record-row"][href="/records/${id}"]`)).toHaveCount(0);
  // 记录 from the queue lists every record again: the queue's filter went with its address.
  await tab(supervisor, '/records');
  await expect(supervisor.locator(`[data-testid="record-row"][href="/records/${id}"]`)).toHaveCount(1);

  // Approved: the officer can no longer edit it; later facts go in as an amendment shown on it.
  await syncNow(officer);
  await openRecord(officer, id);
  await expect(officer.locator('.chip-approved')).toContainText('已通过');
  await expect(officer.getByTestId('edit-record')).toHaveCount(0);
  await officer.getByTestId('amend').click();
  await officer.getByTestId('amend-notes').fill('经营者次日补交了消防检查合格证明');
  await officer.getByTestId('amend-save').click();
  await expect(officer.getByTestId('amendments')).toContainText('补交了消防检查合格证明');
  // The printout of the approved record carries it, and says nothing of a draft.
  await officer.getByTestId('print-record').click();
  await expect(officer.getByTestId('print-amendments')).toContainText('张伟：经营者次日补交了消防检查合格证明');
  await expect(officer.getByTestId('print-not-final')).toHaveCount(0);
  await syncNow(officer);
  const token = (await server.login('wangfang', DEMO_PASSWORD)).token;
  const onServer = await server.pullAll(token);
  const approved = onServer.find((change) => change.id === id);
  expect(approved?.body.reviews.map((review: { decision: string }) => review.decision)).toEqual(['return', 'approve']);
  expect(onServer.some((change) => change.body?.amends === id)).toBe(true);

  // The hazard board: the overdue hazard stands out; one tap starts its 复查.
  await syncNow(supervisor);
  await tab(supervisor, '/me');
  await supervisor.getByTestId('link-hazards').click();
  const overdue = supervisor.locator('[data-testid="open-hazard"][data-overdue="true"]');
  await expect(overdue).toHaveCount(1);
  await expect(overdue).toContainText('消防通道堆放杂物');
  await expect(overdue).toContainText('逾期 7 天');
  await overdue.getByTestId('start-reinspection').click();
  await expect(supervisor).toHaveURL(/\/inspect\/.+\?follows=/);
  await expect(supervisor.locator('#inspection-kind')).toHaveValue('reinspection');

  // The figures of this half year, in the report's words, copied in one tap, and the export.
  await tab(supervisor, '/me');
  await supervisor.getByTestId('link-stats').click();
  // The period shown is the one marked, this half year.
  await expect(supervisor.locator('.period-presets [aria-pressed="true"]')).toHaveCount(1);
  await expect(supervisor.locator('.period-presets [aria-pressed="true"]')).toContainText('半年');
  const summary = supervisor.getByTestId('stats-summary');
  await expect(summary).toContainText('共检查各类场所2家次，出动检查人员4人次。');
  await expect(summary).toContainText('日常检查');
  await expect(summary).toContainText('共发现隐患1处，已整改0处');
  await supervisor.getByTestId('copy-summary').click();
  await expect(supervisor.getByTestId('copy-summary')).toHaveText('已复制');
  const copied = await supervisor.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await summary.textContent());
  const downloading = supervisor.waitForEvent('download');
  await supervisor.getByTestId('export-xlsx').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^fieldcheck-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.xlsx$/);
  // An XLSX is a zip: it starts with "PK".
  expect(readFileSync(await download.path()).subarray(0, 2).toString()).toBe('PK');
  // A period that ends before it starts is said so on the phone, and nothing is exported for it.
  await supervisor.getByTestId('stats-to').fill('2020-01-01');
  await expect(supervisor.getByRole('alert').filter({ hasText: '结束日期早于开始日期，请重新选择' })).toBeVisible();
  await expect(supervisor.getByTestId('export-xlsx')).toBeDisabled();
  await expect(supervisor.getByTestId('stats-summary')).toHaveCount(0);
  // A preset brings the figures back.
  const half = Number(chinaDay(Date.now()).slice(5, 7)) <= 6 ? '上半年' : '下半年';
  await supervisor.locator('.period-presets button').filter({ hasText: half }).click();
  await expect(summary).toContainText('共检查各类场所2家次');
  await expect(supervisor.getByTestId('export-xlsx')).toBeEnabled();

  // An officer has no statistics or administration to reach.
  await tab(officer, '/me');
  await expect(officer.getByTestId('link-hazards')).toBeVisible();
  await expect(officer.getByTestId('link-stats')).toHaveCount(0);
  await expect(officer.getByTestId('link-admin')).toHaveCount(0);
  // Nor by typing the address: the screens say whose they are, and show no forms.
  for (const path of ['/stats', '/admin']) {
    await officer.goto(`${server.baseUrl}${path}`);
    await expect(officer.getByTestId('reviewers-only')).toContainText('此页面仅供队长和管理员使用');
    await expect(officer.getByTestId('add-officer')).toHaveCount(0);
    await expect(officer.getByTestId('export-xlsx')).toHaveCount(0);
  }
  // A record address the phone holds nothing for says so, with a way back rather than a dead end.
  const nothing = '0192f3a4-5b6c-7d8e-9f00-000000000000';
  for (const path of [`/records/${nothing}`, `/records/${nothing}/print`]) {
    await officer.goto(`${server.baseUrl}${path}`);
    await expect(officer.getByRole('alert').filter({ hasText: '本机没有这条记录' })).toBeVisible();
    await officer.getByRole('link', { name: '返回首页' }).click();
    await expect(officer.getByTestId('venue-row').first()).toBeVisible();
  }
  // A record whose venue the phone lacks: its printout says the venue is missing, not the record.
  await officer.evaluate(
    (id) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('fieldcheck');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction(['inspections', 'venues'], 'readwrite');
          const get = tx.objectStore('inspections').get(id);
          get.onsuccess = () => tx.objectStore('venues').delete(get.result.record.venue_id);
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    id,
  );
  await officer.goto(`${server.baseUrl}/records/${id}/print`);
  await expect(officer.getByRole('alert').filter({ hasText: '本机还没有这条记录所检查场所的信息。请同步后再打印' })).toBeVisible();
  await expect(officer.getByText('本机没有这条记录')).toHaveCount(0);
});
