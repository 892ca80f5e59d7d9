// The provincial administrator's console in the browser: the dashboard of counts, an account created (its
// one-time password shown once), locked and unlocked; a person blacklisted for a period and lifted (with the
// history); a legacy certificate sheet with an error (the row table), then the fixed sheet, and the imported
// certificate revoked with a reason; the dead letters of a service. A screenshot and an axe check (no serious
// or critical violation) of every page.
import { expect, test, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { buildXlsx } from '../src/components/enterprise/problems-export'
import { admin } from './support'

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

// ------------------------------------------------------------------------------------------ helpers

async function axe(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
  await page.mouse.move(0, 0) // no hover colours
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  // toasts (ElMessage) are transient and belong to the shared layout's theme
  const results = await new AxeBuilder({ page }).exclude('.el-message').analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${(n.failureSummary ?? '').split('\n').slice(1, 2).join('')}`).slice(0, 3).join(' | ')}`),
    `axe on ${name}`,
  ).toEqual([])
}

/** A Hangzhou ID number (GB 11643-1999) of a man born 1985–1994, new on each run. */
function idNumber(): string {
  const year = 1985 + Math.floor(Math.random() * 10)
  const month = String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')
  const day = String(1 + Math.floor(Math.random() * 28)).padStart(2, '0')
  const seq = String(Math.floor(Math.random() * 500) * 2 + 1).padStart(3, '0') // odd: 男
  const body = `330106${year}${month}${day}${seq}`
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const total = [...body].reduce((n, ch, i) => n + Number(ch) * weights[i], 0)
  return body + '10X98765432'[total % 11]
}

/** The same ID number with a wrong check character. */
function wrongCheck(id: string): string {
  const right = id[17]
  return id.slice(0, 17) + (right === '0' ? '1' : '0')
}

async function blobBuffer(blob: Blob): Promise<Buffer> {
  return Buffer.from(await blob.arrayBuffer())
}

/** Go to a page through the side menu (client-side: the session stays in memory). */
async function nav(page: Page, title: string, path: string): Promise<void> {
  await page.getByRole('menuitem', { name: title, exact: true }).click()
  await page.waitForURL(`**${path}`)
}

/** Choose `option` in the Element Plus select inside `scope`. */
async function choose(page: Page, scope: string, option: string): Promise<void> {
  await page.locator(scope).locator('.el-select__wrapper, .el-select').first().click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

/** Confirm the Element Plus message box with its `button`. */
async function confirmBox(page: Page, button: string): Promise<void> {
  const box = page.locator('.el-message-box')
  await expect(box).toBeVisible()
  await box.getByRole('button', { name: button, exact: true }).click()
  await expect(box).toBeHidden()
}

/** Sign in through the login page (as support.ts's loginAs, with room for a slow password check on a busy
 * machine). */
async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByTestId('layout-user')).toBeVisible({ timeout: 60_000 })
}

const LEGACY_HEADER = ['证书编号', '姓名', '性别', '身份证号', '岗位', '发证日期', '专业方向', '发证机关']

// ------------------------------------------------------------------------------------------ the test

test('administrator: dashboard, accounts, blacklist, legacy import with problems, revocation, dead letters', async ({ page }) => {
  test.setTimeout(420_000)
  expect(admin.password, 'ADMIN_PASSWORD must be set').not.toBe('')
  await signIn(page, admin.username, admin.password)

  // 1. the dashboard: every service's counts
  await page.waitForURL('**/admin')
  await expect(page.getByRole('heading', { name: '平台概况' })).toBeVisible()
  await expect(page.getByTestId('stats-registration-0')).toContainText('企业注册审核')
  await expect(page.getByTestId('stats-enrollment-0')).toContainText('学员报名状态')
  await expect(page.getByTestId('stats-exam-1')).toContainText('合格率')
  await expect(page.getByTestId('stats-certification-0')).toContainText('证书状态')
  await axe(page, 'admin-dashboard')

  // 2. an account: created with a generated password shown once, locked, unlocked
  const username = `e2e-rev-${RUN}`
  await nav(page, '账号管理', '/admin/accounts')
  await page.getByTestId('open-create-account').click()
  const dialog = page.getByRole('dialog', { name: '创建账号' })
  await dialog.getByTestId('new-account-username').fill(username) // an el-input passes its attributes to the input
  await page.getByTestId('create-account').click()
  await expect(dialog.getByTestId('account-form-problem')).toHaveText('审核员账号须选择所属城市')
  await choose(page, '[data-testid=new-account-city]', '杭州')
  await page.getByTestId('create-account').click()
  await expect(dialog.getByTestId('generated-password')).toHaveText(/\S{10,}/)
  await axe(page, 'admin-account-created')
  await dialog.getByRole('button', { name: '关闭', exact: true }).click()
  const accounts = page.getByTestId('accounts')
  const row = accounts.locator('.el-table__row', { hasText: username })
  await expect(row).toHaveCount(1)
  await expect(row.getByTestId('account-status')).toHaveText('正常')
  await row.getByRole('button', { name: '停用' }).click()
  await confirmBox(page, '停用')
  await expect(row.getByTestId('account-status')).toHaveText('已停用')
  await axe(page, 'admin-accounts')
  await row.getByRole('button', { name: '恢复' }).click()
  await confirmBox(page, '恢复')
  await expect(row.getByTestId('account-status')).toHaveText('正常')

  // 3. the blacklist: a person for 30 days, then lifted with a reason; the history keeps both
  const id = idNumber()
  await nav(page, '考试黑名单', '/admin/blacklist')
  await page.getByTestId('blacklist-id-number').fill(wrongCheck(id))
  await page.getByTestId('blacklist-reason').fill('考试中由他人代考')
  await page.getByTestId('blacklist-add').click()
  await expect(page.getByText('请填写正确的 18 位身份证号（含校验位）')).toBeVisible()
  await page.getByTestId('blacklist-id-number').fill(id)
  await page.getByTestId('blacklist-name').fill('王小二')
  await expect(page.getByText(/天（含今天，至 \d{4}-\d{2}-\d{2}）/)).toBeVisible() // a period: 365 days by default
  await page.getByTestId('blacklist-add').click()
  const entry = page.getByTestId('blacklist').locator('.el-table__row', { hasText: id })
  await expect(entry.getByTestId('blacklist-state')).toHaveText('生效中', { timeout: 30_000 })
  await expect(entry).toContainText('考试中由他人代考')
  await axe(page, 'admin-blacklist')
  await entry.getByRole('button', { name: '解除' }).click()
  await page.getByTestId('lift-reason').fill('经复核，代考事实不成立')
  await page.getByTestId('lift-confirm').click()
  await expect(entry.getByTestId('blacklist-state')).toHaveText('已解除', { timeout: 30_000 })
  await expect(entry).toContainText('经复核，代考事实不成立')
  await axe(page, 'admin-blacklist-lifted')

  // 4. a legacy certificate sheet with an error: the row table, nothing imported; then the fixed sheet
  const holder = idNumber()
  const number = `LEG-${RUN}`.toUpperCase()
  const legacyRow = (idNo: string) => [number, '赵六', '男', idNo, '安全员', '2016-05-20', '', '浙江省建设厅']
  await nav(page, '旧版证书导入', '/admin/legacy')
  const input = page.getByTestId('legacy-upload').locator('input[type=file]')
  await input.setInputFiles({ name: '旧版证书.xlsx', mimeType: XLSX, buffer: await blobBuffer(buildXlsx([LEGACY_HEADER, legacyRow(wrongCheck(holder))])) })
  await page.getByTestId('legacy-import').click()
  const problems = page.getByTestId('legacy-problems')
  await expect(problems).toBeVisible({ timeout: 30_000 })
  await expect(problems).toContainText('第 2 行')
  await expect(problems).toContainText('身份证号')
  await expect(problems).toContainText('校验位')
  await axe(page, 'admin-legacy-problems')
  await input.setInputFiles({ name: '旧版证书.xlsx', mimeType: XLSX, buffer: await blobBuffer(buildXlsx([LEGACY_HEADER, legacyRow(holder)])) })
  await page.getByTestId('legacy-import').click()
  await expect(page.getByTestId('legacy-imported')).toContainText('导入成功：1 张旧版证书', { timeout: 30_000 })
  await expect(page.getByTestId('legacy-imported')).toContainText(number)

  // 5. the imported certificate revoked with a reason
  await nav(page, '证书管理', '/admin/certificates')
  await page.getByTestId('certificate-number').fill(number)
  const certificate = page.getByTestId('certificates').locator('.el-table__row', { hasText: number })
  await expect(async () => {
    await page.getByRole('button', { name: '查询' }).click()
    await expect(certificate).toContainText('有效', { timeout: 2_000 })
  }).toPass({ timeout: 30_000, intervals: [1_000] })
  await axe(page, 'admin-certificates')
  await certificate.getByRole('button', { name: '注销' }).click()
  const revokeDialog = page.getByRole('dialog', { name: '注销证书' })
  await revokeDialog.getByRole('button', { name: '注销' }).click()
  await expect(revokeDialog.getByText('请填写注销原因')).toBeVisible()
  await revokeDialog.getByLabel('注销原因').fill('证书信息与档案不符')
  await revokeDialog.getByRole('button', { name: '注销' }).click()
  await expect(certificate).toContainText('已注销', { timeout: 30_000 })
  await expect(certificate).toContainText('证书信息与档案不符')

  // 6. the institutions and the dead letters of every service
  await nav(page, '培训机构', '/admin/institutions')
  await expect(page.getByRole('heading', { name: '培训机构', exact: true })).toBeVisible()
  await axe(page, 'admin-institutions')
  await nav(page, '死信与重放', '/admin/dead-letters')
  await expect(page.getByRole('heading', { name: '死信与重放' })).toBeVisible()
  for (const service of ['证书', '网关（账号与登录）']) {
    await choose(page, '[data-testid=dead-letter-service]', service)
    await expect(page.getByTestId('dead-letters')).toBeVisible()
  }
  await expect(page.getByTestId('dead-letters').locator('.el-table__row, .el-table__empty-text').first()).toBeVisible()
  await axe(page, 'admin-dead-letters')
})
