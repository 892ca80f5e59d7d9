// The city reviewer's desk: the queue of the own city with its counts, an enterprise's file with the
// documents inline, the business-scope hint, rejection with a reason; the enterprise sees the reason and
// resubmits a corrected field; the reviewer sees the second submission and the history. Screenshots and
// axe (no serious or critical violation) on each page.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'

const ADMIN_USERNAME = process.env.ADMIN_USERNAME ?? 'admin'
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? ''
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`

async function axe(page: Page, name: string): Promise<void> {
  await page.mouse.move(0, 0)
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
  const results = await new AxeBuilder({ page }).exclude('.el-message').analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`), `axe on ${name}`).toEqual([])
}

async function login(request: APIRequestContext, username: string, password: string): Promise<string> {
  const r = await request.post('/api/gateway/auth/login', { data: { username, password } })
  expect(r.ok(), `login ${username}: ${await r.text()}`).toBeTruthy()
  return (await r.json()).access_token as string
}

async function uiLogin(page: Page, username: string, password: string, landing: string): Promise<void> {
  await page.goto('/login')
  await page.waitForLoadState('networkidle')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByRole('button', { name: /登\s*录/ }).click()
  await page.waitForURL(`**${landing}`)
}

const CREDIT = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
function creditCode(): string {
  let body = '91330106'
  for (let i = 0; i < 9; i++) body += CREDIT[Math.floor(Math.random() * 31)]
  const total = [...body].reduce((n, ch, i) => n + CREDIT.indexOf(ch) * WEIGHTS[i], 0)
  return body + CREDIT[(31 - (total % 31)) % 31]
}
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

test('reviewer: queue, documents inline, scope hint, reject with a reason, resubmission, history', async ({ browser, request }) => {
  test.setTimeout(180_000)
  expect(ADMIN_PASSWORD, 'ADMIN_PASSWORD must be set').not.toBe('')
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)
  const reviewerName = `hz-rev-${RUN}`
  const created = await request.post('/api/gateway/accounts', {
    headers: { authorization: `Bearer ${admin}` },
    data: { username: reviewerName, role: 'reviewer', city: '杭州', display_name: '杭州市建设局' },
  })
  expect(created.ok(), await created.text()).toBeTruthy()
  const reviewerPassword = (await created.json()).generated_password as string

  // an enterprise registers through the API; its business scope names no construction activity (a hint)
  const username = `e2e-rev-ent-${RUN}`
  const password = `Jianshe-${RUN}-ok`
  const company = `杭州审核测试${RUN}有限公司`
  const signup = await request.post('/api/gateway/auth/signup/enterprise', { data: { username, password, display_name: company } })
  expect(signup.ok(), await signup.text()).toBeTruthy()
  const token = (await signup.json()).access_token as string
  const registered = await request.post('/api/registration/enterprises', {
    headers: { authorization: `Bearer ${token}` },
    multipart: {
      credit_code: creditCode(), name: company, city: '杭州', legal_representative: '王五', contact_name: '李四',
      contact_mobile: '13800001111', address: '杭州市西湖区文三路1号', business_scope: '软件开发；信息咨询',
      business_licence: { name: 'licence.png', mimeType: 'image/png', buffer: PNG },
      commitment_letter: { name: 'letter.png', mimeType: 'image/png', buffer: PNG },
    },
  })
  expect(registered.ok(), await registered.text()).toBeTruthy()

  // the reviewer: the queue (counts), the file with the documents inline and the hint, rejection
  const reviewerContext = await browser.newContext()
  const reviewer = await reviewerContext.newPage()
  await uiLogin(reviewer, reviewerName, reviewerPassword, '/reviewer/queue')
  await reviewer.getByLabel('企业名称').fill(company)
  await reviewer.getByRole('button', { name: '查询' }).click()
  await expect(reviewer.getByTestId('review-queue')).toContainText(company)
  await expect(reviewer.getByTestId('review-queue')).toContainText('经营范围未提及')
  await axe(reviewer, 'reviewer-queue-filtered')
  await reviewer.getByTestId('review-queue').getByRole('button', { name: company }).click()
  await expect(reviewer.locator('.doc img').first()).toBeVisible()
  await expect(reviewer.getByText('经营范围未提及住房城乡建设领域施工活动')).toBeVisible()
  await reviewer.getByTestId('check-local_enterprise').locator('.el-checkbox').click()
  await reviewer.getByTestId('check-documents_compliant').locator('.el-checkbox').click()
  await expect(reviewer.getByTestId('approve')).toBeDisabled()
  await reviewer.getByLabel('不通过的原因').fill('经营范围不含施工活动，请补充资质证书')
  await axe(reviewer, 'reviewer-enterprise-reject')
  await reviewer.getByTestId('reject').click()
  await expect(reviewer.getByTestId('enterprise-status')).toHaveText('审核不通过')

  // the enterprise sees the reason and resubmits the corrected business scope
  const enterpriseContext = await browser.newContext()
  const page = await enterpriseContext.newPage()
  await uiLogin(page, username, password, '/enterprise/registration')
  await expect(page.getByTestId('registration-status')).toHaveText('审核不通过')
  await expect(page.getByText('经营范围不含施工活动，请补充资质证书').first()).toBeVisible()
  await axe(page, 'enterprise-registration-rejected')
  await page.getByRole('button', { name: '修改并重新提交' }).click()
  await page.getByLabel('经营范围').fill('房屋建筑工程施工总承包；软件开发')
  await page.locator('[data-kind=qualification_certificate] input[type=file]').setInputFiles({ name: 'qualification.png', mimeType: 'image/png', buffer: PNG })
  await page.getByTestId('registration-submit').click()
  await expect(page.getByTestId('registration-status')).toHaveText('待审核', { timeout: 30_000 })

  // the reviewer sees the second submission, the history keeps the rejection; approves
  await reviewer.getByRole('menuitem', { name: '企业注册审核' }).click()
  await reviewer.waitForURL('**/reviewer/queue')
  await reviewer.getByLabel('企业名称').fill(company)
  await reviewer.getByRole('button', { name: '查询' }).click()
  await expect(reviewer.getByTestId('review-queue')).toContainText('第 2 次')
  await reviewer.getByTestId('review-queue').getByRole('button', { name: company }).click()
  await expect(reviewer.getByText('资质证书（')).toBeVisible()
  await expect(reviewer.locator('.el-timeline')).toContainText('经营范围不含施工活动')
  for (const check of ['local_enterprise', 'construction_enterprise', 'documents_compliant']) {
    await reviewer.getByTestId(`check-${check}`).locator('.el-checkbox').click()
  }
  await reviewer.getByTestId('approve').click()
  await expect(reviewer.getByTestId('enterprise-status')).toHaveText('审核通过')
  await axe(reviewer, 'reviewer-enterprise-history')
  await reviewerContext.close()
  await enterpriseContext.close()
})
