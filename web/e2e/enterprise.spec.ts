// The enterprise's way through the portal, with the city reviewer: sign up, register with documents, be
// approved, compare institutions, import a summary sheet with an error (the row table), fix it, import,
// upload materials; the institution qualifies the applicant (API), the enterprise orders and uploads a payment
// voucher with the invoice details. A screenshot and an axe check (no serious or critical violation) of every page.
import { expect, test, type Page } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { NOTE_TITLE, PROBLEM_FILL } from '../src/components/enterprise/annotate-xlsx'
import { buildXlsx } from '../src/components/enterprise/problems-export'
import { readZip } from '../src/components/enterprise/unzip'
import { buildZip } from '../src/components/enterprise/zip'
import { ADMIN_PASSWORD, ADMIN_USERNAME, PNG, RUN, axe, createAccount, creditCode, idNumber, login, pdf, until } from './support'

/** The fill colour of a cell of an .xlsx part pair (sheet XML, styles XML), by the cell's style index. */
function cellFill(sheetXml: string, stylesXml: string, ref: string): string {
  const s = new RegExp(`<c r="${ref}"[^>]*?\\ss="(\\d+)"`).exec(sheetXml)?.[1] ?? '0'
  const xfs = /<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(stylesXml)?.[1].match(/<xf\b[^>]*>/g) ?? []
  const fillId = Number(/fillId="(\d+)"/.exec(xfs[Number(s)] ?? '')?.[1] ?? 0)
  const fills = /<fills[^>]*>([\s\S]*?)<\/fills>/.exec(stylesXml)?.[1].split(/<\/fill>/) ?? []
  return /rgb="([0-9A-F]{8})"/.exec(fills[fillId] ?? '')?.[1] ?? ''
}

async function blobBuffer(blob: Blob): Promise<Buffer> {
  return Buffer.from(await blob.arrayBuffer())
}

const HEADER = ['姓名', '性别', '身份证号', '手机号', '学历', '工作单位', '所学专业', '毕业时间', '岗位工作年限']

/** Go to a page through the side menu (client-side: the session stays in memory). */
async function nav(page: Page, title: string, path: string): Promise<void> {
  await page.getByRole('menuitem', { name: title }).click()
  await page.waitForURL(`**${path}`)
}

/** Choose `option` in the Element Plus select inside `scope`. */
async function choose(page: Page, scope: string, option: string): Promise<void> {
  await page.locator(scope).locator('.el-select__wrapper, .el-select').first().click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

// ------------------------------------------------------------------------------------------ the test

test('enterprise: sign up, register, approval, institutions, batch import with problems, materials, order, voucher', async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(600_000)
  expect(ADMIN_PASSWORD, 'ADMIN_PASSWORD must be set').not.toBe('')
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)

  // the city reviewer and two institutions (offers published through the API)
  const reviewerName = `hz-reviewer-${RUN}`
  const reviewerPassword = await createAccount(request, admin, {
    username: reviewerName, role: 'reviewer', city: '杭州', display_name: '杭州市建设局',
  })
  const institutions = [`e2e-inst-a-${RUN}`, `e2e-inst-b-${RUN}`]
  const institutionNames = [`育人学院${RUN}`, `建工培训${RUN}`]
  const institutionPasswords: string[] = []
  for (const [i, id] of institutions.entries()) {
    const pw = await createAccount(request, admin, {
      username: id, role: 'institution', org_id: id, city: '杭州', display_name: institutionNames[i],
    })
    institutionPasswords.push(pw)
    const token = await login(request, id, pw)
    const r = await request.put('/api/enrollment/institutions/me/offer', {
      headers: { authorization: `Bearer ${token}` },
      data: {
        name: institutionNames[i], city: '杭州', features: i ? '线下实训为主' : '线上线下结合',
        offers: [{ position: '施工员', specialisation: '土建施工', fee_online_fen: 60000 + i * 5000, fee_offline_fen: 90000 }],
        exam_locations: ['杭州市西湖区考点'], payment_methods: i ? ['offline'] : ['offline', 'online'],
      },
    })
    expect(r.ok(), await r.text()).toBeTruthy()
  }

  // 1. sign up (the UI), the registration page with the three documents
  const username = `e2e-ent-${RUN}`
  const password = `Jianshe-${RUN}-ok`
  const company = `杭州测试建工${RUN}有限公司`
  await page.goto('/signup')
  await page.waitForLoadState('networkidle')
  await page.getByLabel('企业名称').fill(company)
  await page.getByLabel('登录用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByLabel('再次输入密码').fill(password)
  await page.getByRole('button', { name: '注册并登录' }).click()
  await page.waitForURL('**/enterprise/registration')
  await expect(page.getByRole('heading', { name: '企业注册' })).toBeVisible()
  await axe(page, 'enterprise-registration-form')

  await page.getByLabel('企业全称').fill(company)
  const credit = creditCode()
  await page.getByLabel('统一社会信用代码').fill(credit)
  await choose(page, '.el-form-item:has-text("所在城市")', '杭州')
  await page.getByLabel('法定代表人').fill('王五')
  await page.getByLabel('联系人', { exact: true }).fill('李四')
  await page.getByLabel('联系人手机').fill('13800001111')
  await page.getByLabel('地址').fill('杭州市西湖区文三路1号')
  await page.getByLabel('经营范围').fill('房屋建筑工程施工总承包')
  await page.locator('[data-kind=business_licence] input[type=file]').setInputFiles({ name: 'licence.png', mimeType: 'image/png', buffer: PNG })
  await page.locator('[data-kind=commitment_letter] input[type=file]').setInputFiles({ name: 'letter.pdf', mimeType: 'application/pdf', buffer: pdf() })
  // too large a file is refused before upload
  await page.locator('[data-kind=qualification_certificate] input[type=file]').setInputFiles({
    name: 'big.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(10 * 1024 * 1024 + 1),
  })
  await expect(page.locator('[data-kind=qualification_certificate] .el-alert')).toContainText('超过 10 MB')
  await page.getByTestId('registration-submit').click()
  await expect(page.getByTestId('registration-status')).toHaveText('待审核', { timeout: 30_000 })
  await axe(page, 'enterprise-registration-submitted')

  // 2. the reviewer approves it with the three checks
  const reviewerContext = await browser.newContext()
  const reviewer = await reviewerContext.newPage()
  await reviewer.goto('/login')
  await reviewer.getByLabel('用户名').fill(reviewerName)
  await reviewer.getByLabel('密码').fill(reviewerPassword)
  await reviewer.getByRole('button', { name: /登\s*录/ }).click()
  await reviewer.waitForURL('**/reviewer/queue')
  await until('the reviewer queue to list the enterprise', async () => {
    await reviewer.getByRole('button', { name: '查询' }).click()
    return (await reviewer.getByTestId('review-queue').getByText(company).count()) > 0
  }, 60)
  await axe(reviewer, 'reviewer-queue')
  await reviewer.getByTestId('review-queue').getByRole('button', { name: company }).click()
  await expect(reviewer.getByText('提交的资料')).toBeVisible()
  for (const check of ['local_enterprise', 'construction_enterprise', 'documents_compliant']) {
    await reviewer.getByTestId(`check-${check}`).locator('.el-checkbox').click()
  }
  await axe(reviewer, 'reviewer-enterprise')
  await reviewer.getByTestId('approve').click()
  await expect(reviewer.getByTestId('enterprise-status')).toHaveText('审核通过')
  await reviewerContext.close()

  // 3. the enterprise sees the approval
  await nav(page, '选择培训机构', '/enterprise/institutions')
  await nav(page, '企业注册', '/enterprise/registration')
  await expect(page.getByTestId('registration-status')).toHaveText('审核通过', { timeout: 30_000 })
  await axe(page, 'enterprise-registration-approved')

  // enrollment learns of the approval over Kafka a moment later
  const enterprise = await login(request, username, password)
  await until('enrollment to learn of the approval', async () =>
    (await request.get('/api/enrollment/applicants', { headers: { authorization: `Bearer ${enterprise}` } })).ok(),
  )

  // 4. institutions side by side
  await nav(page, '选择培训机构', '/enterprise/institutions')
  await choose(page, '.el-form-item:has-text("城市")', '杭州')
  await choose(page, '[data-testid=position-filter]', '施工员')
  await page.getByRole('button', { name: '查询' }).click()
  for (const name of institutionNames) {
    await page.getByTestId('institutions').getByLabel(`选择${name}进行比较`).check()
  }
  await page.getByTestId('compare').click()
  await expect(page.getByTestId('comparison')).toContainText(institutionNames[1])
  await expect(page.getByTestId('comparison')).toContainText('¥650.00')
  await axe(page, 'enterprise-institutions')

  // 5. a sheet with an error: the row table, the problems workbook; then the fixed sheet
  const id = idNumber()
  const row = (education: string) => ['张三', '男', id, '13800001111', education, company, '建筑工程技术', '2010-07', '5']
  // two more (the institution rejects 李四, the enterprise corrects him; 王五 is withdrawn)
  let id2 = idNumber()
  while (id2 === id) id2 = idNumber()
  let id3 = idNumber()
  while (id3 === id || id3 === id2) id3 = idNumber()
  const others = [
    ['李四', '男', id2, '13800002222', '高中', company, '', '', '3'],
    ['王五', '男', id3, '13800003333', '专科', company, '工程管理', '2012-06', '2'],
  ]
  await nav(page, '批量报名', '/enterprise/batches')
  await choose(page, '[data-testid=batch-institution]', institutionNames[0])
  await choose(page, '[data-testid=batch-position]', '施工员')
  await choose(page, '[data-testid=batch-specialisation]', '土建施工')
  const sheetInput = page.getByTestId('sheet-upload').locator('input[type=file]')
  await sheetInput.setInputFiles({
    name: '汇总表.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: await blobBuffer(buildXlsx([HEADER, row('初中')])),
  })
  await page.getByTestId('import-sheet').click()
  const problems = page.getByTestId('sheet-problems')
  await expect(problems).toBeVisible({ timeout: 60_000 })
  await expect(problems).toContainText('初中')
  await expect(problems).toContainText('学历')
  // "导出问题表": the uploaded sheet itself, 学历 (E2) in red, the note at the end of the row, a sheet "问题"
  const download = page.waitForEvent('download')
  await page.getByTestId('export-problems').click()
  const annotated = await download
  expect(annotated.suggestedFilename()).toBe('汇总表-问题标注.xlsx')
  const parts = new Map(
    (await readZip(new Uint8Array(readFileSync(await annotated.path())))).map((e) => [e.name, new TextDecoder().decode(e.data)]),
  )
  const sheetXml = parts.get('xl/worksheets/sheet1.xml') ?? ''
  expect(cellFill(sheetXml, parts.get('xl/styles.xml') ?? '', 'E2')).toBe(PROBLEM_FILL)
  expect(cellFill(sheetXml, parts.get('xl/styles.xml') ?? '', 'A2')).not.toBe(PROBLEM_FILL)
  expect(sheetXml).toContain(NOTE_TITLE)
  expect(sheetXml).toContain('“初中”不在可选范围内')
  expect(parts.get('xl/workbook.xml')).toContain('name="问题"')
  await axe(page, 'enterprise-batch-problems')

  await sheetInput.setInputFiles({
    name: '汇总表.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: await blobBuffer(buildXlsx([HEADER, row('大专'), ...others])),
  })
  await page.getByTestId('import-sheet').click()
  await expect(page.getByTestId('import-success')).toContainText('导入成功：3 名学员', { timeout: 60_000 })
  await expect(page.getByTestId('import-success')).toContainText(id, { timeout: 60_000 })

  // 6. the materials zip (the ID card's front side): the per-applicant report lists what is still missing
  const zip = buildZip([{ name: `${id}$身份证正面.png`, data: new Uint8Array(PNG) }])
  await page.getByTestId('zip-upload').locator('input[type=file]').setInputFiles({
    name: 'materials.zip', mimeType: 'application/zip', buffer: await blobBuffer(zip),
  })
  await page.getByTestId('upload-materials').click()
  await expect(page.getByTestId('materials-report')).toContainText('报名资料已保存', { timeout: 60_000 })
  await expect(page.getByTestId('materials-report')).toContainText(id)
  await axe(page, 'enterprise-batch-materials')

  // 7. the other pages
  await nav(page, '报名学员', '/enterprise/applicants')
  await expect(page.getByTestId('applicants')).toContainText(id)
  await axe(page, 'enterprise-applicants')
  await nav(page, '订单缴费', '/enterprise/orders')
  await expect(page.getByRole('heading', { name: '订单缴费' })).toBeVisible()
  await axe(page, 'enterprise-orders')
  await nav(page, '人员与证书', '/enterprise/staff')
  await expect(page.getByRole('heading', { name: '人员与证书' })).toBeVisible()
  await axe(page, 'enterprise-staff')

  // 8. the institution rejects 李四 with a reason (API): the enterprise sees it, corrects him in the dialog and
  // he is back to 待审核; the enterprise withdraws 王五
  const institution = await login(request, institutions[0], institutionPasswords[0])
  const applicantIds: Record<string, string> = {}
  await until('the imported applicants to be listed', async () => {
    const r = await request.get('/api/enrollment/applicants', {
      headers: { authorization: `Bearer ${enterprise}` }, params: { limit: 100 },
    })
    if (!r.ok()) return false
    const items = (await r.json()).items as Array<{ applicant_id: string; id_number: string }>
    for (const a of items) applicantIds[a.id_number] = a.applicant_id
    return [id, id2, id3].every((n) => applicantIds[n])
  }, 60)
  const applicantId = applicantIds[id]
  const reason = '学历证书与所填学历不符，请核对后重新提交'
  const rejected = await request.post(`/api/enrollment/applicants/${applicantIds[id2]}/reject`, {
    headers: { authorization: `Bearer ${institution}` }, data: { reason },
  })
  expect(rejected.ok(), `reject: ${await rejected.text()}`).toBeTruthy()
  await nav(page, '报名学员', '/enterprise/applicants')
  const applicants = page.getByTestId('applicants')
  const rowOf = (name: string) => applicants.locator('.el-table__body tr', { hasText: name }).first()
  await expect(async () => {
    await page.getByRole('button', { name: '查询' }).click()
    await expect(rowOf('李四')).toContainText(reason, { timeout: 3_000 })
  }).toPass({ timeout: 60_000, intervals: [1_000] })
  await expect(rowOf('李四')).toContainText('未通过')
  await axe(page, 'enterprise-applicants-rejected')
  await rowOf('李四').getByRole('button', { name: '修改' }).click()
  const editDialog = page.getByRole('dialog', { name: '修改学员信息并重新提交审核' })
  await expect(editDialog).toContainText(reason)
  await expect(editDialog.getByLabel('身份证号')).toHaveValue(id2)
  await expect(editDialog.getByLabel('工作单位')).toHaveValue(company)
  await choose(page, '[data-testid=edit-education]', '本科')
  await editDialog.getByLabel('所学专业').fill('土木工程')
  await axe(page, 'enterprise-applicant-correct')
  await editDialog.getByTestId('edit-submit').click()
  await expect(editDialog).toBeHidden()
  await expect(rowOf('李四')).toContainText('待审核', { timeout: 60_000 })
  await expect(rowOf('李四')).not.toContainText(reason)
  await expect(rowOf('李四')).toContainText('本科')
  await expect(rowOf('李四').getByRole('button', { name: '修改' })).toHaveCount(0)

  await rowOf('王五').getByRole('button', { name: '撤回' }).click()
  const prompt = page.getByRole('dialog', { name: '撤回报名' })
  await expect(prompt).toContainText('撤回 王五 的报名')
  await prompt.getByRole('textbox').fill('本人已离职')
  await prompt.getByRole('button', { name: '撤回' }).click()
  await expect(rowOf('王五')).toContainText('已结束', { timeout: 60_000 })
  await expect(rowOf('王五').getByRole('button', { name: '撤回' })).toHaveCount(0)
  await axe(page, 'enterprise-applicants-corrected-withdrawn')

  // 9. the institution qualifies 张三 (API); the payment service learns of it from events
  const qualified = await request.post(`/api/enrollment/applicants/${applicantId}/qualify`, {
    headers: { authorization: `Bearer ${institution}` },
  })
  expect(qualified.ok(), `qualify: ${await qualified.text()}`).toBeTruthy()

  // 10. the enterprise orders for the qualified applicant: the fee snapshot in the order's drawer
  const drawer = page.getByRole('dialog')
  const orders = page.getByTestId('orders')
  await expect(async () => {
    await nav(page, '报名学员', '/enterprise/applicants')
    await nav(page, '订单缴费', '/enterprise/orders')
    await expect(page.getByRole('heading', { name: '订单缴费' })).toBeVisible()
    if ((await orders.getByText('待缴费').count()) === 0) {
      await page.getByLabel('选择张三', { exact: true }).check({ timeout: 5_000 })
      await page.getByRole('button', { name: '生成订单' }).click()
    } else {
      await orders.getByRole('button', { name: '详情' }).first().click()
    }
    await expect(drawer).toContainText('收费明细', { timeout: 10_000 })
  }).toPass({ timeout: 150_000, intervals: [2_000] })
  await expect(drawer).toContainText(institutionNames[0])
  await expect(drawer).toContainText('待缴费')
  await expect(drawer).toContainText('¥600.00') // the online fee of the offer, kept with the order
  await expect(drawer.locator('.el-table')).toContainText('张三')
  await expect(drawer.locator('.el-table')).toContainText('施工员（土建施工）')
  await expect(orders).toContainText('¥600.00')
  await expect(orders).toContainText('未上传')

  // 11. the offline voucher with the invoice details (payer and invoiced company: the enterprise itself)
  await drawer.locator('input[type=file]').setInputFiles({ name: 'voucher.png', mimeType: 'image/png', buffer: PNG })
  await expect(drawer).toContainText('voucher.png')
  await drawer.getByLabel('付款单位').fill(company)
  await drawer.getByLabel('金额（元）').fill('600.00')
  await drawer.getByLabel('银行流水号').fill(`SN${RUN}`)
  await drawer.getByLabel('开票单位').fill(company)
  await drawer.getByLabel('纳税人识别号').fill(credit)
  await expect(async () => {
    if ((await drawer.getByText('等待培训机构确认收款').count()) === 0) {
      await drawer.getByRole('button', { name: '上传凭证' }).click()
    }
    await expect(drawer).toContainText('等待培训机构确认收款', { timeout: 10_000 })
  }).toPass({ timeout: 90_000, intervals: [2_000] })
  await expect(drawer).toContainText(company)
  await expect(drawer).toContainText(`SN${RUN}`)
  // the submitted voucher instead of the form: its state, the invoice details, a link to the file
  await expect(drawer.getByTestId('voucher-state')).toHaveText('待确认')
  await expect(drawer.getByTestId('voucher')).toContainText(credit)
  await expect(drawer.getByTestId('voucher')).toContainText('普通发票')
  await expect(drawer.getByTestId('voucher-form')).toHaveCount(0)
  await expect(drawer.getByTestId('voucher-link')).toHaveAttribute('href', /^(https?:)?\//, { timeout: 10_000 })
  await expect(orders).toContainText('待确认', { timeout: 60_000 })
  await axe(page, 'enterprise-order-voucher')

  // 12. the institution returns the voucher with a reason (API): 已退回 with the reason, the form is back
  const orderList = await request.get('/api/payment/orders', { headers: { authorization: `Bearer ${enterprise}` } })
  const orderId = ((await orderList.json()).items as Array<{ order_id: string; status: string }>).find((o) => o.status === 'unpaid')?.order_id
  const returned = '银行流水号与到账记录不符，请重新上传'
  const rejectVoucher = await request.post(`/api/payment/orders/${orderId}/voucher/reject`, {
    headers: { authorization: `Bearer ${institution}` }, data: { reason: returned },
  })
  expect(rejectVoucher.ok(), `reject voucher: ${await rejectVoucher.text()}`).toBeTruthy()
  await expect(async () => {
    await drawer.getByTestId('order-refresh').click()
    await expect(drawer.getByTestId('voucher-alert')).toContainText(returned, { timeout: 3_000 })
  }).toPass({ timeout: 60_000, intervals: [1_000] })
  await expect(drawer.getByTestId('voucher-state')).toHaveText('已退回')
  await expect(drawer.getByTestId('voucher-link')).toHaveCount(0)
  await expect(orders).toContainText('已退回')
  await expect(drawer.getByTestId('voucher-form')).toBeVisible()
  await axe(page, 'enterprise-order-voucher-returned')

  // a new voucher: 待确认 again; the institution confirms it: 已确认
  await drawer.locator('input[type=file]').setInputFiles({ name: 'voucher2.png', mimeType: 'image/png', buffer: PNG })
  await expect(drawer).toContainText('voucher2.png')
  await expect(drawer.getByLabel('付款单位')).toHaveValue(company)
  await drawer.getByLabel('银行流水号').fill(`SN${RUN}B`)
  await drawer.getByRole('button', { name: '上传凭证' }).click()
  await expect(drawer.getByTestId('voucher-state')).toHaveText('待确认', { timeout: 30_000 })
  await expect(drawer.getByTestId('voucher')).toContainText(`SN${RUN}B`)
  await expect(drawer.getByTestId('voucher-form')).toHaveCount(0)
  await expect(orders).toContainText('待确认', { timeout: 60_000 })
  const confirmed = await request.post(`/api/payment/orders/${orderId}/confirm`, { headers: { authorization: `Bearer ${institution}` } })
  expect(confirmed.ok(), `confirm: ${await confirmed.text()}`).toBeTruthy()
  await drawer.getByTestId('order-refresh').click()
  await expect(drawer.getByTestId('voucher-state')).toHaveText('已确认', { timeout: 30_000 })
  await expect(drawer.getByTestId('voucher-alert')).toContainText('培训机构已确认收款')
  await expect(orders).toContainText('已确认', { timeout: 60_000 })
  await axe(page, 'enterprise-order-voucher-confirmed')
})
