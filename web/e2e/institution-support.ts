// Set-up helpers of the institution's browser test (through the API): accounts, an approved enterprise, a
// batch imported from a sheet with its materials, an order with a voucher. Small copies of enterprise.spec.ts'
// helpers (the common ones are in support.ts).
import { expect, type APIRequestContext, type Page } from '@playwright/test'
import { buildXlsx } from '../src/components/enterprise/problems-export'
import { buildZip, type ZipEntry } from '../src/components/enterprise/zip'
import { ADMIN_USERNAME, ADMIN_PASSWORD, RUN, axe, login, createAccount, until, creditCode, idNumber, PNG, pdf } from './support'

export { ADMIN_USERNAME, ADMIN_PASSWORD, RUN, axe, login, createAccount, until, creditCode, idNumber, PNG, pdf }

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
}

const blobBuffer = async (blob: Blob) => Buffer.from(await blob.arrayBuffer())

/** An enterprise signed up, registered and approved by a new city reviewer; enrollment knows of it. */
export async function approvedEnterprise(request: APIRequestContext, admin: string) {
  const username = `e2e-inst-ent-${RUN}`
  const password = `Jianshe-${RUN}-ok`
  const company = `杭州机构测试${RUN}建工有限公司`
  const credit = creditCode()
  const signup = await request.post('/api/gateway/auth/signup/enterprise', { data: { username, password, display_name: company } })
  expect(signup.ok(), await signup.text()).toBeTruthy()
  const { access_token: token, org_id: enterpriseId } = (await signup.json()) as { access_token: string; org_id: string }
  const registered = await request.post('/api/registration/enterprises', {
    headers: bearer(token),
    multipart: {
      credit_code: credit, name: company, city: '杭州', legal_representative: '王五', contact_name: '李四',
      contact_mobile: '13800001111', address: '杭州市西湖区文三路1号', business_scope: '房屋建筑工程施工总承包',
      business_licence: { name: 'licence.png', mimeType: 'image/png', buffer: PNG },
      commitment_letter: { name: 'letter.pdf', mimeType: 'application/pdf', buffer: pdf() },
    },
  })
  expect(registered.ok(), await registered.text()).toBeTruthy()
  const reviewerName = `hz-inst-rev-${RUN}`
  const reviewerPassword = await createAccount(request, admin, { username: reviewerName, role: 'reviewer', city: '杭州', display_name: '杭州市建设局' })
  const reviewer = await login(request, reviewerName, reviewerPassword)
  const checks = ['local_enterprise', 'construction_enterprise', 'documents_compliant'].map((check) => ({ check, passed: true }))
  const approved = await request.post(`/api/registration/enterprises/${enterpriseId}/approve`, { headers: bearer(reviewer), data: { checks } })
  expect(approved.ok(), await approved.text()).toBeTruthy()
  await until('enrollment to learn of the approval', async () =>
    (await request.get('/api/enrollment/applicants', { headers: bearer(token) })).ok(),
  )
  return { token, enterpriseId, company, credit }
}

const HEADER = ['姓名', '性别', '身份证号', '手机号', '学历', '工作单位', '所学专业', '毕业时间', '岗位工作年限']

export interface Person { name: string; id: string; education: string; major: string; years: string }

async function job(request: APIRequestContext, token: string, url: string): Promise<Record<string, unknown>> {
  let answer: Record<string, unknown> = {}
  await until(`job ${url}`, async () => {
    answer = await (await request.get(url, { headers: bearer(token) })).json()
    return answer.state !== 'running'
  }, 120)
  expect(answer.state, JSON.stringify(answer)).toBe('succeeded')
  return answer
}

/** A sheet of `people` imported for 施工员（土建施工）online, then a materials zip; returns the batch id. */
export async function importBatch(
  request: APIRequestContext,
  token: string,
  institutionId: string,
  company: string,
  people: Person[],
  headPhoto: Uint8Array,
): Promise<string> {
  const rows = people.map((p) => [p.name, '男', p.id, '13800001111', p.education, company, p.major, '2010-07', p.years])
  const sheet = await blobBuffer(buildXlsx([HEADER, ...rows]))
  let started: Record<string, string> = {}
  // enrollment learns the enterprise's registered name (工作单位) from registration's events
  await until('the sheet to be accepted', async () => {
    const r = await request.post('/api/enrollment/batches/import', {
      headers: bearer(token),
      multipart: {
        file: { name: '汇总表.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: sheet },
        institution_id: institutionId, position: '施工员', specialisation: '土建施工', training_mode: 'online',
        continuing_education: 'false',
      },
    })
    if (r.ok()) started = await r.json()
    return r.ok()
  }, 60)
  const imported = await job(request, token, started.status_url)
  const batchId = (imported.result as { batch_id: string }).batch_id
  const entries: ZipEntry[] = []
  people.forEach((p, i) => {
    entries.push({ name: `${p.id}$身份证正面.png`, data: new Uint8Array(PNG) })
    entries.push({ name: `${p.id}$身份证反面.png`, data: new Uint8Array(PNG) })
    entries.push({ name: `${p.id}$学历证书.png`, data: new Uint8Array(PNG) })
    entries.push({ name: `${p.id}$工作年限证明.pdf`, data: new Uint8Array(pdf()) })
    if (i === 0) entries.push({ name: `${p.id}$头像.jpg`, data: headPhoto })
  })
  const zip = await blobBuffer(buildZip(entries))
  const upload = await request.post(`/api/enrollment/batches/${batchId}/materials`, {
    headers: bearer(token),
    multipart: { file: { name: 'materials.zip', mimeType: 'application/zip', buffer: zip } },
  })
  expect(upload.ok(), await upload.text()).toBeTruthy()
  await job(request, token, (await upload.json()).status_url)
  return batchId
}

/** The enterprise orders for `applicantIds` (payment learns of the qualifications a moment later) and uploads
 * an offline voucher of the order's amount with its invoice details; returns the order. */
export async function orderWithVoucher(
  request: APIRequestContext,
  enterprise: { token: string; company: string; credit: string },
  institutionId: string,
  applicantIds: string[],
): Promise<{ order_id: string; order_number: string; amount_yuan: string }> {
  let created: { order_id: string; order_number: string } | null = null
  const key = `e2e-order-${RUN}`
  await until('payment to accept the order', async () => {
    const r = await request.post('/api/payment/orders', {
      headers: { ...bearer(enterprise.token), 'Idempotency-Key': key },
      data: { institution_id: institutionId, applicant_ids: applicantIds },
    })
    if (r.ok()) created = await r.json()
    return r.ok()
  }, 90)
  const order = created as unknown as { order_id: string; order_number: string }
  const detail = await (await request.get(`/api/payment/orders/${order.order_id}`, { headers: bearer(enterprise.token) })).json()
  await until('payment to accept the voucher', async () => {
    const r = await request.post(`/api/payment/orders/${order.order_id}/voucher`, {
      headers: bearer(enterprise.token),
      multipart: {
        file: { name: 'voucher.png', mimeType: 'image/png', buffer: PNG },
        payer_name: enterprise.company, amount: detail.amount_yuan as string, paid_on: new Date().toISOString().slice(0, 10),
        bank_serial: `SN${RUN}`, invoice_type: 'ordinary', company_name: enterprise.company, tax_number: enterprise.credit,
      },
    })
    return r.ok()
  }, 60)
  return { ...order, amount_yuan: detail.amount_yuan as string }
}
