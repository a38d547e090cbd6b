// The team leader's administration and campaign screens at 360 px: a venue register imported from a
// CSV whose bad rows are named in the screen's language (with the kinds a cell may name), a file
// that is no register said as such, and each action's outcome beside its own form — a password
// reset in the officer's row, refused on the phone when too short; a campaign's missing name and
// kinds said beside its buttons, and ending it asked twice.
import { test, expect, type Page } from '@playwright/test';
import { DEMO_PASSWORD, Server } from './server';
import { logIn, submitInspection, tab } from './phone';

async function openAdmin(page: Page): Promise<void> {
  await tab(page, '/me');
  await page.getByTestId('link-admin').click();
  await expect(page.getByTestId('officers')).toBeVisible();
}

async function pick(page: Page, name: string, body: Buffer): Promise<void> {
  await page.getByTestId('import-file').setInputFiles({ name, mimeType: 'text/csv', buffer: body });
}

const REGISTER = [
  '场所名称,场所类型,许可证号,地址',
  '星河网咖,网吧,41030299001,中州东路9号',
  '金色年华,舞厅,41030299002,',
  ',景区,41030299003,',
].join('\r\n');

test('a team leader imports a register in English and in Chinese, and resets a password in its row', async ({ page }) => {
  const server = await Server.start();
  try {
    await logIn(page, server.baseUrl, 'wangfang');
    await openAdmin(page);

    // In Chinese: the kinds listed above the picker, each bad row in Chinese only.
    await expect(page.getByTestId('import-kinds')).toContainText('网吧、歌舞娱乐场所');
    await pick(page, 'register.csv', Buffer.from(REGISTER, 'utf8'));
    const rows = page.getByTestId('import-row');
    await expect(rows).toHaveCount(3);
    await expect(rows.nth(1)).toContainText('场所类型“舞厅”无法识别，应为：网吧、歌舞娱乐场所');
    await expect(rows.nth(1)).not.toContainText('is not one of');
    await expect(rows.nth(2)).toContainText('场所名称为空');

    // A CSV saved by Excel as plain "CSV" (GBK): said in the officer's words, under the import.
    await pick(page, 'gbk.csv', Buffer.from([0xb3, 0xa1, 0xcb, 0xf9, 0xc3, 0xfb, 0xb3, 0xc6, 0x0d, 0x0a]));
    const importError = page.locator('[data-testid="admin-error"]');
    await expect(importError).toContainText('CSV 文件不是 UTF-8 编码');
    await expect(rows).toHaveCount(0);

    // In English: the same register's problems in English only, the kinds by their English names.
    await tab(page, '/me');
    await page.getByTestId('lang-switch').click();
    await openAdmin(page);
    await expect(page.getByTestId('import-kinds')).toContainText('Internet café, KTV / dance hall');
    await pick(page, 'register.csv', Buffer.from(REGISTER, 'utf8'));
    await expect(rows).toHaveCount(3);
    await expect(rows.nth(1)).toContainText('The kind "舞厅" is not one of: Internet café, KTV / dance hall');
    await expect(rows.nth(1)).not.toContainText('无法识别');
    await expect(rows.nth(2)).toContainText('The name is empty');
    await page.getByTestId('import-commit').click();
    await expect(page.getByTestId('admin-ok')).toContainText('Imported: 1 new, 0 updated.');

    // A password too short is refused in the officer's row before anything is sent; a good one is
    // reset, and said in that row.
    const officer = page.locator('[data-testid="officer"][data-username="zhangwei"]');
    await officer.getByTestId('edit-officer').click();
    await officer.locator('input[type="password"]').fill('short');
    await officer.getByTestId('reset-password').click();
    await expect(officer.getByTestId('admin-error')).toContainText('The password needs 8 or more characters');
    await expect(officer.locator('input[type="password"]')).toHaveValue('short');
    await officer.locator('input[type="password"]').fill('a new password');
    await officer.getByTestId('reset-password').click();
    await expect(officer.getByTestId('admin-ok')).toContainText('Password reset');
    await page.screenshot({ path: test.info().outputPath('admin-en.png'), fullPage: true });
  } finally {
    await server.stop();
  }
});

test('a team leader starts a campaign, told beside the form what is missing, and ends it with a second tap', async ({ page }) => {
  const server = await Server.start();
  try {
    await logIn(page, server.baseUrl, 'wangfang');
    await tab(page, '/me');
    await page.getByTestId('lang-switch').click();
    await page.getByTestId('link-campaigns').click();
    await page.getByTestId('new-campaign').click();
    await page.getByTestId('save-campaign').click();
    // Said beside the buttons, one sentence per problem, in English only.
    const problem = page.getByTestId('campaign-problem');
    await expect(problem).toHaveText('The campaign needs a name. The campaign must cover at least one venue kind.');
    await expect(problem).toBeInViewport();
    await page.getByTestId('campaign-name').fill('2026年冬季网吧专项检查');
    await page.locator('[data-testid="campaign-form"] input[data-kind="internet_cafe"]').check();
    await page.getByTestId('save-campaign').click();
    const campaign = page.getByTestId('campaign').filter({ hasText: '2026年冬季网吧专项检查' });
    await expect(campaign).toHaveAttribute('data-active', 'true');
    // The first tap only asks; the second ends it.
    await campaign.getByTestId('close-campaign').click();
    await expect(campaign.getByTestId('close-campaign')).toHaveText('Tap again to end it');
    await expect(campaign).toHaveAttribute('data-active', 'true');
    await campaign.getByTestId('close-campaign').click();
    await expect(page.getByRole('status').filter({ hasText: 'The campaign is closed.' })).toBeVisible();
  } finally {
    await server.stop();
  }
});

test("an administrator prints another unit's record under that unit's name, never their own", async ({ browser }) => {
  const server = await Server.start();
  try {
    const officer = await (await browser.newContext()).newPage();
    await logIn(officer, server.baseUrl, 'zhaolei');
    // 周敏 is 赵磊's partner in the second unit.
    const id = await submitInspection(officer, 0, '西工区的检查', '周敏');
    await expect(officer.getByTestId('record-row').first()).toHaveAttribute('data-sync', 'synced');

    const admin = await (await browser.newContext()).newPage();
    await logIn(admin, server.baseUrl, 'admin');
    await admin.goto(`${server.baseUrl}/records/${id}/print`);
    const unit = admin.getByTestId('print-minutes').locator('.sheet-unit');
    await expect(unit).toHaveText('洛阳市西工区文化市场综合执法大队');
    await expect(admin.getByTestId('print-not-final')).toHaveCount(0);
    // The administrator's phone knows every officer with their certificate: nothing is missing.
    await expect(admin.getByTestId('print-incomplete')).toHaveCount(0);
  } finally {
    await server.stop();
  }
});

test('an administrator adds officers: each field labelled, and the unit shown is the unit they are filed in', async ({ page }) => {
  const server = await Server.start();
  try {
    const admin = await server.login('admin', DEMO_PASSWORD);
    const second = (await server.login('zhaolei', DEMO_PASSWORD)).user.unit_id;
    // A unit whose name sorts before the administrator's own: first in the list.
    const added = await fetch(`${server.baseUrl}/api/units`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ name: '一号测试执法大队' }),
    });
    expect(added.status).toBe(201);

    await logIn(page, server.baseUrl, 'admin');
    await openAdmin(page);
    const addOfficer = async (username: string, unitId?: string) => {
      await page.getByTestId('add-officer').click();
      await page.getByLabel('登录名').fill(username);
      await page.getByLabel('姓名').fill(`新同事${username}`);
      await page.getByLabel('执法证号').fill('豫C-0109999');
      const unit = page.getByLabel('所属单位');
      // Untouched, it shows the administrator's own unit, which the server files the officer in.
      await expect(unit).toHaveValue(admin.user.unit_id);
      if (unitId) await unit.selectOption(unitId);
      await page.getByLabel('初始密码').fill('password 123');
      await page.getByTestId('save-officer').click();
      await expect(page.getByTestId('admin-ok').first()).toContainText(`已添加：新同事${username}`);
    };
    await addOfficer('xintongshi1');
    await addOfficer('xintongshi2', second);
    expect((await server.login('xintongshi1', 'password 123')).user.unit_id).toBe(admin.user.unit_id);
    expect((await server.login('xintongshi2', 'password 123')).user.unit_id).toBe(second);
    await page.screenshot({ path: test.info().outputPath('admin-officers.png'), fullPage: true });
  } finally {
    await server.stop();
  }
});
