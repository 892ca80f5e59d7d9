// The training institution's back office in the browser: its offer edited (problems shown before sending,
// the enterprises' view previewed and then shown), the review queue with an applicant's whole file, qualify
// one, reject one with a reason, a bulk approval refused as a whole (its failure listed) then done, and the
// payment: the enterprise orders and uploads a voucher (API), the institution checks the received amount
// (a wrong one is refused before sending), confirms, registers the invoice and downloads the report. Every page
// is screenshotted (test-results/screens/institution-*.png) and checked with axe (a page seen again in another
// state is only screenshotted).
import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import {
  ADMIN_PASSWORD, ADMIN_USERNAME, approvedEnterprise, axe, bearer, shot, createAccount, idNumber, importBatch, login,
  orderWithVoucher, RUN, until, type Person,
} from './institution-support'

const FACE = new Uint8Array(readFileSync(new URL('../../tests/fixtures/faces/obama.jpg', import.meta.url)))

async function nav(page: Page, title: string, path: string): Promise<void> {
  await page.getByRole('menuitem', { name: title }).click()
  await page.waitForURL(`**${path}`)
}

/** Choose `option` in the Element Plus select inside `scope`. */
async function choose(page: Page, scope: string, option: string): Promise<void> {
  await page.locator(scope).locator('.el-select__wrapper, .el-select').first().click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

test('institution: offer, qualification review (file, qualify, reject, bulk), voucher confirmed', async ({ page, request }) => {
  test.setTimeout(480_000)
  expect(ADMIN_PASSWORD, 'ADMIN_PASSWORD must be set').not.toBe('')
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)

  // ---- set-up through the API: the institution with an offer, an approved enterprise, a batch of five
  const institutionId = `e2e-inst-${RUN}`
  const institutionName = `之江建设培训学校${RUN}`
  const institutionPassword = await createAccount(request, admin, {
    username: institutionId, role: 'institution', org_id: institutionId, city: '杭州', display_name: institutionName,
  })
  const institution = await login(request, institutionId, institutionPassword)
  const published = await request.put('/api/enrollment/institutions/me/offer', {
    headers: bearer(institution),
    data: {
      name: institutionName, city: '杭州', features: '理论与实操结合',
      offers: [{ position: '施工员', specialisation: '土建施工', fee_online_fen: 60000, fee_offline_fen: 90000 }],
      exam_locations: ['杭州市西湖区考点'], payment_methods: ['offline'],
    },
  })
  expect(published.ok(), await published.text()).toBeTruthy()
  const enterprise = await approvedEnterprise(request, admin)
  const people: Person[] = [
    { name: '王建国', id: idNumber(), education: '大专', major: '建筑工程技术', years: '5' },
    { name: '李卫东', id: idNumber(), education: '本科', major: '市场营销', years: '1' },
    { name: '赵志强', id: idNumber(), education: '本科', major: '土木工程', years: '4' },
    { name: '钱海明', id: idNumber(), education: '专科', major: '工程造价', years: '6' },
    { name: '孙立新', id: idNumber(), education: '本科', major: '工程管理', years: '3' },
  ]
  const [a, b, c, d, e] = people
  await importBatch(request, enterprise.token, institutionId, enterprise.company, people, FACE)
  const ids: Record<string, string> = {}
  await until('the institution to see the five applicants', async () => {
    const r = await request.get('/api/enrollment/review-queue', { headers: bearer(institution), params: { limit: 100 } })
    const items = ((await r.json()).items ?? []) as Array<{ applicant_id: string; name: string; materials?: object }>
    for (const x of items) ids[x.name] = x.applicant_id
    return items.length === 5 && items.every((x) => Object.keys(x.materials ?? {}).length >= 4)
  }, 90)

  // ---- the institution signs in: the overview
  await page.goto('/login')
  await page.getByLabel('用户名').fill(institutionId)
  await page.getByLabel('密码', { exact: true }).fill(institutionPassword)
  await page.getByRole('button', { name: /登\s*录/ }).click()
  await page.waitForURL('**/institution')
  await expect(page.getByRole('heading', { name: '培训机构工作台' })).toBeVisible()
  await expect(page.getByTestId('home-pending')).toHaveText('5')
  await axe(page, 'institution-home')

  // ---- the offer: a new line without a fee is refused before sending; fixed, it is published
  await nav(page, '招生信息', '/institution/offer')
  await expect(page.getByTestId('offer-state')).toHaveText('已发布')
  await expect(page.getByLabel('机构名称')).toHaveValue(institutionName)
  await page.getByTestId('add-line').click()
  await choose(page, '[data-row="2"]', '安全员')
  await page.getByTestId('publish-offer').click()
  await expect(page.getByTestId('offer-problems')).toContainText('第 2 行（安全员）：请至少填写线上或线下一种培训方式的收费')
  await axe(page, 'institution-offer-problems')
  await page.getByLabel('第 2 行线下收费（元）').fill('850')
  await page.getByLabel('第 1 行线上收费（元）').fill('650')
  await page.getByText('线上支付', { exact: true }).click()
  await page.getByTestId('add-location').click()
  await page.getByLabel('考试地点 2', { exact: true }).fill('杭州市拱墅区考点')
  await page.getByLabel('机构特色').fill('理论与实操结合，周末班')
  await expect(page.getByTestId('offer-problems')).toHaveCount(0)
  await expect(page.getByText('有未发布的修改')).toBeVisible()
  const preview = page.getByTestId('offer-preview')
  await expect(preview).toContainText('施工员（土建施工） 线上¥650.00 线下¥900.00')
  await expect(preview).toContainText('安全员 线上— 线下¥850.00')
  await expect(preview).toContainText('杭州市拱墅区考点')
  await page.getByTestId('publish-offer').click()
  await expect(page.getByTestId('offer-sync')).toHaveText('企业端已显示新的招生信息', { timeout: 60_000 })
  await expect(page.getByText('有未发布的修改')).toHaveCount(0)
  await shot(page, 'institution-offer')
  const seen = await (await request.get(`/api/enrollment/institutions/${institutionId}`, { headers: bearer(enterprise.token) })).json()
  expect(seen.payment_methods).toEqual(['online', 'offline'])

  // ---- the review queue and one applicant's whole file: qualify
  await nav(page, '资格审核', '/institution/review')
  const queue = page.getByTestId('review-queue')
  for (const p of people) await expect(queue).toContainText(p.name)
  await axe(page, 'institution-review-queue')
  await queue.getByRole('link', { name: a.name }).click()
  await page.waitForURL(`**/institution/review/${ids[a.name]}`)
  await expect(page.getByTestId('eligibility')).toContainText('建筑工程技术')
  await expect(page.getByTestId('eligibility')).toContainText('5 年')
  await expect(page.getByTestId('sheet-row')).toContainText(a.id)
  await expect(page.getByTestId('photo-rules')).toContainText('文件大小')
  await expect(page.getByTestId('documents').locator('img')).toHaveCount(3) // ID card front and back, diploma
  await expect(page.getByTestId('documents')).toContainText('打开 PDF（工作年限证明）')
  await expect
    .poll(() => page.getByTestId('documents').locator('img').first().evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBeGreaterThan(0)
  await axe(page, 'institution-applicant')
  await page.getByTestId('qualify').click()
  await expect(page.getByTestId('applicant-status')).toHaveText('已审核')

  // ---- back in the queue: reject one with a reason
  await page.getByRole('link', { name: '返回审核队列' }).click()
  await page.waitForURL('**/institution/review')
  await expect(queue).not.toContainText(a.name, { timeout: 30_000 })
  await queue.getByRole('button', { name: `${b.name}审核不通过` }).click()
  const dialog = page.getByRole('dialog', { name: /审核不通过/ })
  await expect(page.getByTestId('reason-confirm')).toBeDisabled()
  await dialog.getByLabel('不通过的原因（企业可见）').fill('所学专业与报考岗位不符，工作年限不足')
  await axe(page, 'institution-review-reject')
  await page.getByTestId('reason-confirm').click()
  await expect(queue).not.toContainText(b.name, { timeout: 30_000 })

  // ---- bulk: one of the three was qualified meanwhile (elsewhere): the whole approval is refused, listed
  for (const p of [c, d, e]) await page.getByLabel(`选择${p.name}`, { exact: true }).check()
  const elsewhere = await request.post(`/api/enrollment/applicants/${ids[c.name]}/qualify`, { headers: bearer(institution) })
  expect(elsewhere.ok(), await elsewhere.text()).toBeTruthy()
  await page.getByTestId('bulk-approve').click()
  const refusals = page.getByTestId('bulk-refusals')
  await expect(refusals).toContainText('本次未做任何修改')
  await expect(refusals).toContainText(c.name)
  await expect(queue).toContainText(d.name)
  await axe(page, 'institution-review-bulk-refused')
  await page.getByLabel(`选择${c.name}`, { exact: true }).uncheck()
  await page.getByTestId('bulk-approve').click()
  await expect(refusals).toHaveCount(0)
  for (const p of [c, d, e]) await expect(queue).not.toContainText(p.name, { timeout: 30_000 })
  await expect(queue).toContainText('没有符合条件的学员')

  // the rejected applicant with the reason, under 未通过
  await choose(page, '.el-form-item:has-text("状态")', '未通过')
  await page.getByRole('button', { name: '查询' }).click()
  await expect(queue).toContainText(b.name)
  await expect(queue).toContainText('所学专业与报考岗位不符')
  await shot(page, 'institution-review-rejected')

  // ---- payment: the enterprise orders for four and uploads a voucher (API); the institution confirms
  const order = await orderWithVoucher(request, enterprise, institutionId, [a, c, d, e].map((p) => ids[p.name]))
  expect(order.amount_yuan).toBe('2600.00') // 4 × the new online fee
  await nav(page, '缴费确认', '/institution/payments')
  const orders = page.getByTestId('institution-orders')
  await expect(async () => {
    await page.getByRole('button', { name: '查询' }).click()
    await expect(orders).toContainText(order.order_number, { timeout: 3_000 })
  }).toPass({ timeout: 60_000, intervals: [1_000] })
  await expect(orders).toContainText(enterprise.company)
  await expect(orders).toContainText('待确认')
  await axe(page, 'institution-payments')
  await orders.getByRole('link', { name: order.order_number }).click()
  await page.waitForURL(`**/institution/payments/${order.order_id}`)
  await expect(page.getByTestId('voucher-details')).toContainText(enterprise.company)
  await expect(page.getByTestId('voucher-details')).toContainText(enterprise.credit)
  await expect(page.getByTestId('voucher-details')).toContainText(`SN${RUN}`)
  await expect(page.getByTestId('voucher-image').locator('img')).toBeVisible()
  await expect(page.locator('.el-table')).toContainText(a.name)
  await page.getByLabel('实收金额（元）').fill('2000')
  await page.getByTestId('confirm-payment').click()
  await expect(page.locator('.el-form-item__error')).toContainText('与订单金额 2600.00 元不符')
  await expect(page.getByTestId('order-status')).toHaveText('待缴费')
  await axe(page, 'institution-order')
  await page.getByLabel('实收金额（元）').fill('2600.00')
  await page.getByTestId('confirm-payment').click()
  await expect(page.getByTestId('order-status')).toHaveText('已缴费（已报名）')
  await page.getByLabel('发票号码').fill(`FP${RUN}`)
  await page.getByTestId('issue-invoice').click()
  await expect(page.getByText(`FP${RUN}`)).toBeVisible()
  await shot(page, 'institution-order-paid')

  // the list: the order is confirmed (processing until the list's read model has it), the report
  await page.getByRole('link', { name: '返回订单列表' }).click()
  await choose(page, '.el-form-item:has-text("凭证")', '已确认')
  await expect(async () => {
    await page.getByRole('button', { name: '查询' }).click()
    await expect(orders).toContainText(order.order_number, { timeout: 3_000 })
    await expect(orders).toContainText('已缴费（已报名）', { timeout: 3_000 })
  }).toPass({ timeout: 60_000, intervals: [1_000] })
  const download = page.waitForEvent('download')
  await page.getByTestId('download-report').click()
  expect((await download).suggestedFilename()).toMatch(/\.xlsx$/)
  await shot(page, 'institution-payments-confirmed')
})
