// Two phones, another user on the same phone, a colleague and a supervisor: nothing lost, nothing forged.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { Server, DEMO_PASSWORD } from './server';
import { NA, ONLINE_WAIT_MS, editRecord, logIn, openRecord, sessionToken, submitInspection, syncNow, tab } from './phone';

let server: Server;

test.beforeEach(async () => {
  server = await Server.start();
});

test.afterEach(async () => {
  await server.stop();
});

async function recordOnServer(token: string, id: string) {
  const record = (await server.pullAll(token)).find((change) => change.id === id);
  if (!record) throw new Error(`record ${id} is not on the server`);
  return record;
}

test('an edit made offline on one phone meets a newer edit from another: shown side by side, merged, nothing lost', async ({ browser }) => {
  const phoneA = await browser.newContext();
  const phoneB = await browser.newContext();
  const a = await phoneA.newPage();
  const b = await phoneB.newPage();

  // The officer records online on phone A, then opens the app on phone B too.
  await logIn(a, server.baseUrl, 'zhangwei');
  const id = await submitInspection(a, 0);
  await expect(a.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
  await logIn(b, server.baseUrl, 'zhangwei');
  await tab(b, '/records');
  await expect(b.getByTestId('record-row')).toHaveCount(1);

  // Phone A loses the signal and adds a note.
  await phoneA.setOffline(true);
  await editRecord(a, id);
  await a.locator('#inspection-notes').fill('A：离线补充，现场已责令整改');
  await a.getByTestId('submit-inspection').click();
  await expect(a.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'pending');

  // Meanwhile phone B, online, marks the second item 不适用.
  await editRecord(b, id);
  await b.locator('[data-item]').nth(1).getByRole('button', { name: NA }).click();
  await b.getByTestId('submit-inspection').click();
  await expect(b.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');

  // Back online: the push meets the newer rev, and the pull of the same run must not erase A's edit.
  await phoneA.setOffline(false);
  const badgeA = a.getByTestId('sync-badge');
  // Untouched, the app syncs a random moment (up to ONLINE_SPREAD_MS, 30 s) after coming online.
  await expect(badgeA).toHaveAttribute('data-state', 'attention', { timeout: ONLINE_WAIT_MS });
  await expect(badgeA).toHaveAttribute('data-waiting', '1');
  await expect(a.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'conflict');
  await openRecord(a, id);
  const conflict = a.getByTestId('conflict');
  await expect(conflict).toBeVisible();
  // B's answer is shown as B's: this phone left that item unchanged, not "Pass" by choice.
  await expect(conflict.getByTestId('conflict-table').locator('tbody tr')).toHaveCount(2);
  await expect(conflict.locator('tr[data-field="answers"]')).toHaveAttribute('data-unchanged', 'true');
  await expect(conflict.locator('tr[data-field="answers"] .diff-mine')).toContainText('（未改动）');
  await expect(conflict.locator('tr[data-field="notes"]')).toHaveAttribute('data-unchanged', 'false');
  await expect(conflict).toContainText('A：离线补充');
  await a.screenshot({ path: test.info().outputPath('conflict-360.png'), fullPage: true });
  await conflict.getByTestId('keep-merged').click();
  await expect(a.getByTestId('record-sync')).toHaveAttribute('data-sync', 'synced');
  await expect(badgeA).toHaveAttribute('data-state', 'synced');

  // The server holds both edits, in one record at rev 3.
  const officer = await server.login('zhangwei', DEMO_PASSWORD);
  const record = await recordOnServer(officer.token, id);
  expect(record.rev).toBe(3);
  expect(record.body.notes).toBe('A：离线补充，现场已责令整改');
  expect(record.body.answers[1].result).toBe('na');
  // And phone B hears of it.
  await syncNow(b);
  await openRecord(b, id);
  await expect(b.locator('.notes')).toContainText('A：离线补充');

  // Again, and now both change the notes: no merge. Keeping A's edit keeps A's notes and B's
  // answer to the third item, which A never touched.
  await phoneA.setOffline(true);
  await editRecord(a, id);
  await a.locator('#inspection-notes').fill('A：第二次离线补充');
  await a.getByTestId('submit-inspection').click();
  await expect(a.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'pending');
  await editRecord(b, id);
  await b.locator('[data-item]').nth(2).getByRole('button', { name: NA }).click();
  await b.locator('#inspection-notes').fill('B：复查');
  await b.getByTestId('submit-inspection').click();
  await expect(b.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
  await phoneA.setOffline(false);
  await syncNow(a);
  await openRecord(a, id);
  await expect(conflict.locator('tr[data-field="notes"]')).toHaveAttribute('data-unchanged', 'false');
  await expect(conflict.locator('tr[data-field="answers"]')).toHaveAttribute('data-unchanged', 'true');
  await expect(conflict.getByTestId('keep-merged')).toHaveCount(0);
  await conflict.getByTestId('keep-mine').click();
  await expect(a.getByTestId('record-sync')).toHaveAttribute('data-sync', 'synced');
  const kept = await recordOnServer(officer.token, id);
  expect(kept.rev).toBe(5);
  expect(kept.body.notes).toBe('A：第二次离线补充');
  expect([kept.body.answers[1].result, kept.body.answers[2].result]).toEqual(['na', 'na']);
  await phoneA.close();
  await phoneB.close();
});

test('another user cannot log in over unsynced work: the owner syncs it, or it is exported first; logout revokes the token', async ({ page, context }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  const zhangweiToken = await sessionToken(page);
  await context.setOffline(true);
  const offlineId = await submitInspection(page, 1, '张伟的离线记录');
  await expect(page.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'pending');

  // Logging out warns that the record stays for its owner.
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await expect(page.getByRole('alert').filter({ hasText: '其他人无法在本机登录' })).toBeVisible();
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);

  // Signal returns: the logout reaches the server, so the old token is dead.
  await context.setOffline(false);
  await expect.poll(() => server.pullStatus(zhangweiToken)).toBe(401);

  // A colleague tries to log in on this phone: refused before anything is sent.
  await page.locator('input[name="username"]').fill('liqiang');
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  const blocked = page.getByTestId('other-users-work');
  await expect(blocked).toContainText('zhangwei');
  await page.screenshot({ path: test.info().outputPath('other-users-work-360.png'), fullPage: true });

  // The owner signs back in: the record goes up under their name.
  await blocked.getByTestId('login-as-owner').click();
  await expect(page.locator('input[name="username"]')).toHaveValue('zhangwei');
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  const colleague = await server.login('liqiang', DEMO_PASSWORD);
  const zhangwei = await server.login('zhangwei', DEMO_PASSWORD);
  // The record reaching the server is what counts; the badge can read "synced" for a moment after
  // the login, before the phone has counted what waits.
  await expect
    .poll(async () => (await server.pullAll(colleague.token)).some((change) => change.id === offlineId))
    .toBe(true);
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  const synced = await recordOnServer(colleague.token, offlineId);
  expect(synced.body.created_by).toBe(zhangwei.user.id);
  expect(synced.body.notes).toBe('张伟的离线记录');

  // Now the colleague may take the phone: nothing of zhangwei's is left unsynced.
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  // Until liqiang's first run has pulled, the badge says nothing of zhangwei's 已同步.
  let releasePull = () => {};
  const released = new Promise<void>((release) => (releasePull = release));
  const pullHeld = new Promise<void>((held) => {
    void page.route('**/api/sync/pull*', async (route) => {
      held();
      await released;
      await route.continue();
    });
  });
  await page.locator('input[name="username"]').fill('liqiang');
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  await pullHeld;
  const badge = page.getByTestId('sync-badge');
  await expect(badge).toHaveAttribute('data-state', 'idle');
  await expect(badge).not.toContainText('已同步');
  releasePull();
  await expect(badge).toHaveAttribute('data-state', 'synced');
  await tab(page, '/records');
  await expect(page.getByTestId('record-row')).toHaveCount(0);

  // liqiang works offline and logs out; an officer of another unit must export it before logging in.
  // (The badge can read "synced" while liqiang's first run still pulls the unit's venues: the
  // signal goes only once they are on the phone.)
  await tab(page, '/');
  await expect(page.getByTestId('venue-row').nth(2)).toBeVisible();
  await context.setOffline(true);
  const exportedId = await submitInspection(page, 2, '李强未同步的记录');
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await page.getByTestId('logout').click();
  await context.setOffline(false);
  await page.locator('input[name="username"]').fill('zhaolei');
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('other-users-work')).toContainText('liqiang');
  const downloading = page.waitForEvent('download');
  await page.getByTestId('other-users-work').getByTestId('export-unsynced').click();
  const download = await downloading;
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(exported.owner.username).toBe('liqiang');
  expect(exported.records.map((record: { id: string }) => record.id)).toContain(exportedId);
  // Only once the person confirms the file is kept are the records dropped from the phone.
  await page.getByTestId('discard-and-continue').click();
  await expect(page.getByTestId('sync-badge')).toHaveAttribute('data-state', 'synced');
  await tab(page, '/records');
  await expect(page.getByTestId('record-row')).toHaveCount(0);
  // It never went up under zhaolei's name (nor anyone's).
  const stillColleague = await server.login('liqiang', DEMO_PASSWORD);
  expect((await server.pullAll(stillColleague.token)).some((change) => change.id === exportedId)).toBe(false);
});

test('logouts the server did not take are sent again on their own, with nobody logged in, until every token is revoked', async ({ page }) => {
  await logIn(page, server.baseUrl, 'zhangwei');
  const token = await sessionToken(page);
  // The browser is online, but the logout does not get through (a captive portal, a server away).
  let refusing = true;
  let attempts = 0;
  await page.route('**/api/auth/logout', async (route) => {
    attempts += 1;
    if (refusing) await route.abort('connectionrefused');
    else await route.continue();
  });
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  // Nothing else happens on the phone: the retries come from the backoff alone.
  await expect.poll(() => attempts, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  expect(await server.pullStatus(token)).toBe(200);
  // A colleague logs in on the phone meanwhile and out again, that logout refused too: both tokens
  // wait, and both are revoked once the server can be reached.
  await logIn(page, server.baseUrl, 'liqiang');
  const second = await sessionToken(page);
  await tab(page, '/me');
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await server.pullStatus(second)).toBe(200);
  refusing = false;
  await expect.poll(() => server.pullStatus(token), { timeout: 60_000 }).toBe(401);
  await expect.poll(() => server.pullStatus(second), { timeout: 60_000 }).toBe(401);
});

test('a colleague cannot rewrite a submitted record; a review on the rev seen reaches the phone and locks it', async ({ browser }) => {
  const author = await (await browser.newContext()).newPage();
  const colleague = await (await browser.newContext()).newPage();
  await logIn(author, server.baseUrl, 'zhangwei');
  const id = await submitInspection(author, 0, '原始记录');
  await expect(author.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');

  // The colleague's phone has the record (same unit) but offers no edit.
  await logIn(colleague, server.baseUrl, 'liqiang');
  await colleague.goto(`${server.baseUrl}/records/${id}`);
  await expect(colleague.getByTestId('record-sync')).toHaveAttribute('data-sync', 'synced');
  await expect(colleague.getByTestId('edit-record')).toHaveCount(0);

  // The supervisor returns it with a comment, on the rev they read.
  const supervisor = await server.login('wangfang', DEMO_PASSWORD);
  const returned = await server.review(supervisor.token, id, 'return', 1, '缺少当事人签名');
  expect(returned.status).toBe(200);
  const firstFinish = (await returned.json()).finished_at;

  // The author's phone shows the comment; the fix is resubmitted without moving the finish time.
  await syncNow(author);
  await openRecord(author, id);
  await expect(author.getByTestId('review-comment')).toContainText('缺少当事人签名');
  await author.getByTestId('edit-record').click();
  // The comment stays in sight while the record is fixed.
  await expect(author.getByTestId('form-review-comment')).toContainText('缺少当事人签名');
  await author.locator('#inspection-notes').fill('已补充当事人签名');
  await author.getByTestId('submit-inspection').click();
  await expect(author.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');
  const resubmitted = await recordOnServer(supervisor.token, id);
  expect([resubmitted.rev, resubmitted.body.status, resubmitted.body.finished_at]).toEqual([3, 'submitted', firstFinish]);

  // With no signal the author changes the submitted record once more; meanwhile it is approved.
  await author.context().setOffline(true);
  await openRecord(author, id);
  await author.getByTestId('edit-record').click();
  await author.locator('#inspection-notes').fill('审核后又改的内容');
  await author.getByTestId('submit-inspection').click();
  await expect(author).toHaveURL(/\/records(\?|$)/);

  // A review of what the supervisor has not seen is refused; of rev 3 it locks the record.
  expect((await server.review(supervisor.token, id, 'approve', 2)).status).toBe(409);
  expect((await server.review(supervisor.token, id, 'approve', 3)).status).toBe(200);

  // Back online, the late change is refused as locked: said in Chinese, with no way to send it
  // again or edit it, only the server's copy (new facts go in an amendment).
  await author.context().setOffline(false);
  await syncNow(author);
  await openRecord(author, id);
  const refused = author.getByTestId('rejected');
  await expect(refused).toContainText('此记录已审核通过并锁定');
  // The server's English-only words are not shown to a Chinese reader; its code is, for whoever helps.
  await expect(refused).toContainText('(locked)');
  await expect(refused).not.toContainText('approved and locked');
  await expect(refused.getByTestId('send-again')).toHaveCount(0);
  // What taking the server's copy drops is shown first, to carry into an amendment.
  await expect(refused.getByTestId('conflict-table')).toContainText('审核后又改的内容');
  // Only the officer's own changes: not the approval the server made meanwhile.
  await expect(refused.getByTestId('conflict-table').locator('tbody th')).toHaveText(['备注']);
  await expect(author.getByTestId('edit-record')).toHaveCount(0);
  // Printed now, the phone's copy says it is not the record of the inspection.
  await author.getByTestId('print-record').click();
  await expect(author.getByTestId('print-not-final')).toContainText('本机版本未被服务器接受');
  await openRecord(author, id);
  // It drops the officer's change: the first tap only asks for a second.
  await refused.getByTestId('take-theirs').click();
  await expect(refused.getByTestId('take-theirs')).toHaveText('再点一次确认放弃');
  await expect(author.getByTestId('record-sync')).toHaveAttribute('data-sync', 'rejected');
  await refused.getByTestId('take-theirs').click();
  await expect(author.getByTestId('record-sync')).toHaveAttribute('data-sync', 'synced');
  await openRecord(author, id);
  await expect(author.locator('.chip-approved')).toContainText('已通过');
  await expect(author.getByTestId('edit-record')).toHaveCount(0);
  const approved = await recordOnServer(supervisor.token, id);
  expect(approved.body.reviews.map((review: { decision: string }) => review.decision)).toEqual(['return', 'approve']);
});
