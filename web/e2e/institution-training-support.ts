// Set-up through the API for the institution's training pages: an institution with an offer, an approved
// enterprise, a batch whose applicants are qualified, ordered, paid (voucher confirmed) and so 已报名; a
// legacy certificate. The common helpers are in support.ts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, type APIRequestContext, type Page } from '@playwright/test'
import { buildZip } from '../src/components/enterprise/zip'
import { ADMIN_USERNAME, ADMIN_PASSWORD, RUN, axe, login, createAccount, until, creditCode, idNumber, PNG, pdf } from './support'

export { ADMIN_USERNAME, ADMIN_PASSWORD, RUN, axe, login, createAccount, until, creditCode, idNumber, PNG, pdf }


export function chinaDay(days = 0): string {
  return new Date(Date.now() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10)
}

/**
 * A head photo that passes enrollment's rules (295×413, white background, < 80 KB), made in the browser's
 * canvas from tests/fixtures/faces/obama.jpg like tests/integration/exam_support.py's `head_photo`: the face
 * (dlib's box (349, 142, 617, 409) in that picture) with some margin, centred on white. Also a small white
 * JPEG for the other documents.
 */
export async function photos(page: Page): Promise<{ head: Buffer; small: Buffer }> {
  const face = readFileSync(join(process.cwd(), '..', 'tests', 'fixtures', 'faces', 'obama.jpg')).toString('base64')
  const [head, small] = await page.evaluate(async (data) => {
    const image = new Image()
    image.src = `data:image/jpeg;base64,${data}`
    await image.decode()
    const [left, top, right, bottom] = [349, 142, 617, 409]
    const cx = (left + right) / 2
    const cy = (top + bottom) / 2
    const width = (right - left) * 1.9
    const height = (width * 7) / 5
    const sx = Math.trunc(cx - width / 2)
    const sy = Math.trunc(cy - height * 0.45)
    const sw = Math.trunc(cx + width / 2) - sx
    const sh = Math.trunc(cy + height * 0.55) - sy
    // the part above the picture's top edge stays white (PIL pads it black: both leave the borders white)
    const inner = document.createElement('canvas')
    inner.width = 245
    inner.height = 343
    const ic = inner.getContext('2d')!
    ic.fillStyle = '#fff'
    ic.fillRect(0, 0, 245, 343)
    ic.drawImage(image, sx, sy, sw, sh, 0, 0, 245, 343)
    const canvas = document.createElement('canvas')
    canvas.width = 295
    canvas.height = 413
    const c = canvas.getContext('2d')!
    c.fillStyle = '#fff'
    c.fillRect(0, 0, 295, 413)
    c.drawImage(inner, 25, 45)
    const tiny = document.createElement('canvas')
    tiny.width = 40
    tiny.height = 40
    const t = tiny.getContext('2d')!
    t.fillStyle = '#fff'
    t.fillRect(0, 0, 40, 40)
    return [canvas.toDataURL('image/jpeg', 0.88).split(',')[1], tiny.toDataURL('image/jpeg', 0.6).split(',')[1]]
  }, face)
  return { head: Buffer.from(head, 'base64'), small: Buffer.from(small, 'base64') }
}

export interface Setup {
  institutionUser: string
  institutionPassword: string
  institutionName: string
  company: string
  applicants: Array<{ name: string; id: string; applicantId: string; photo: boolean }>
  certificate: { number: string; holder: string; id: string; issuedOn: string }
}

const OTHER_DOCUMENTS = ['报名表', '身份证正面', '身份证反面', '工作年限证明', '学历证书']

/** Everything before the browser: see the module's comment. `people`: name and whether a head photo is sent. */
export async function setUp(request: APIRequestContext, page: Page, people: Array<{ name: string; photo: boolean }>): Promise<Setup> {
  expect(ADMIN_PASSWORD, 'ADMIN_PASSWORD must be set').not.toBe('')
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)
  const auth = (token: string) => ({ authorization: `Bearer ${token}` })

  // the institution and its offer
  const institutionUser = `e2e-train-${RUN}`
  const institutionName = `培训测试学校${RUN}`
  const institutionPassword = await createAccount(request, admin, {
    username: institutionUser, role: 'institution', org_id: institutionUser, city: '杭州', display_name: institutionName,
  })
  const institution = await login(request, institutionUser, institutionPassword)
  const offer = await request.put('/api/enrollment/institutions/me/offer', {
    headers: auth(institution),
    data: {
      name: institutionName, city: '杭州', features: '理论与实操结合',
      offers: [{ position: '施工员', specialisation: '土建施工', fee_online_fen: 60000, fee_offline_fen: 90000 }],
      exam_locations: ['杭州市西湖区考点'], payment_methods: ['offline'],
    },
  })
  expect(offer.ok(), await offer.text()).toBeTruthy()

  // an approved enterprise
  const company = `杭州培训测试建工${RUN}有限公司`
  const credit = creditCode()
  const signup = await request.post('/api/gateway/auth/signup/enterprise', {
    data: { username: `e2e-tent-${RUN}`, password: `Jianshe-${RUN}-ok`, display_name: company },
  })
  expect(signup.ok(), await signup.text()).toBeTruthy()
  const { access_token: enterprise, org_id: enterpriseId } = (await signup.json()) as { access_token: string; org_id: string }
  const registered = await request.post('/api/registration/enterprises', {
    headers: auth(enterprise),
    multipart: {
      credit_code: credit, name: company, city: '杭州', legal_representative: '王五', contact_name: '李四',
      contact_mobile: '13800001111', address: '杭州市西湖区文三路 1 号', business_scope: '房屋建筑工程施工总承包',
      business_licence: { name: 'licence.png', mimeType: 'image/png', buffer: PNG },
      commitment_letter: { name: 'letter.pdf', mimeType: 'application/pdf', buffer: pdf() },
    },
  })
  expect(registered.ok(), await registered.text()).toBeTruthy()
  const reviewerName = `e2e-trev-${RUN}`
  const reviewer = await login(request, reviewerName, await createAccount(request, admin, {
    username: reviewerName, role: 'reviewer', city: '杭州', display_name: '杭州市建设局',
  }))
  const approved = await request.post(`/api/registration/enterprises/${enterpriseId}/approve`, {
    headers: auth(reviewer),
    data: { checks: ['local_enterprise', 'construction_enterprise', 'documents_compliant'].map((check) => ({ check, passed: true })) },
  })
  expect(approved.ok(), await approved.text()).toBeTruthy()

  // the batch (JSON), accepted once enrollment learns of the approval
  const applicants = people.map((p) => ({ ...p, id: idNumber(), applicantId: '' }))
  let batchId = ''
  await until('enrollment to accept the approved enterprise', async () => {
    const r = await request.post('/api/enrollment/batches', {
      headers: auth(enterprise),
      data: {
        institution_id: institutionUser, position: '施工员', specialisation: '土建施工', training_mode: 'offline',
        applicants: applicants.map((a, i) => ({
          name: a.name, gender: '男', id_number: a.id, mobile: `139${String(10_000_000 + i).slice(-8)}`,
          education: '大专', employer: company,
        })),
      },
    })
    if (r.status() === 403) return false
    expect(r.status(), await r.text()).toBe(201)
    const body = (await r.json()) as { batch_id: string; applicant_ids: string[] }
    batchId = body.batch_id
    body.applicant_ids.forEach((id, i) => (applicants[i].applicantId = id))
    return true
  })

  // the materials: head photos (made in the browser) for those with `photo`, the other documents for all
  const { head, small } = await photos(page)
  const entries = applicants.flatMap((a) => [
    ...(a.photo ? [{ name: `${a.id}$头像.jpg`, data: new Uint8Array(head) }] : []),
    ...OTHER_DOCUMENTS.map((d) => ({ name: `${a.id}$${d}.jpg`, data: new Uint8Array(small) })),
  ])
  const zip = Buffer.from(await buildZip(entries).arrayBuffer())
  const upload = await request.post(`/api/enrollment/batches/${batchId}/materials`, {
    headers: auth(enterprise),
    multipart: { file: { name: 'materials.zip', mimeType: 'application/zip', buffer: zip } },
  })
  expect(upload.status(), await upload.text()).toBe(202)
  const statusUrl = ((await upload.json()) as { status_url: string }).status_url
  let job: { state: string; result?: { photo_failures?: number } } = { state: 'running' }
  await until('the materials job', async () => {
    job = await (await request.get(statusUrl, { headers: auth(enterprise) })).json()
    return job.state !== 'running'
  })
  expect(job.state, JSON.stringify(job)).toBe('succeeded')
  expect(job.result?.photo_failures ?? 0, JSON.stringify(job.result)).toBe(0)

  // qualified, ordered, paid offline and confirmed: 已报名
  for (const a of applicants) {
    const r = await request.post(`/api/enrollment/applicants/${a.applicantId}/qualify`, { headers: auth(institution) })
    expect(r.status(), await r.text()).toBe(204)
  }
  let order: { order_id: string; amount_fen: number } = { order_id: '', amount_fen: 0 }
  await until('an order for the qualified applicants', async () => {
    const r = await request.post('/api/payment/orders', {
      headers: auth(enterprise),
      data: { institution_id: institutionUser, applicant_ids: applicants.map((a) => a.applicantId) },
    })
    if (r.status() !== 201) return false
    order = await r.json()
    return true
  })
  order = await (await request.get(`/api/payment/orders/${order.order_id}`, { headers: auth(enterprise) })).json()
  expect(order.amount_fen, JSON.stringify(order)).toBeGreaterThan(0)
  await until('the voucher to be accepted', async () => {
    const r = await request.post(`/api/payment/orders/${order.order_id}/voucher`, {
      headers: auth(enterprise),
      multipart: {
        payer_name: company, amount: (order.amount_fen / 100).toFixed(2), paid_on: chinaDay(-1),
        bank_serial: `SN${RUN}`, note: '培训费', invoice_type: 'ordinary', company_name: company, tax_number: credit,
        file: { name: 'voucher.png', mimeType: 'image/png', buffer: PNG },
      },
    })
    expect([201, 409], await r.text()).toContain(r.status())
    return r.status() === 201
  })
  const confirmed = await request.post(`/api/payment/orders/${order.order_id}/confirm`, { headers: auth(institution) })
  expect(confirmed.status(), await confirmed.text()).toBe(204)
  await until('the applicants to be 已报名', async () => {
    for (const a of applicants) {
      const r = await request.get(`/api/enrollment/applicants/${a.applicantId}`, { headers: auth(institution) })
      if ((await r.json()).status !== 'enrolled') return false
    }
    return true
  })

  // a legacy certificate the institution imports (its holder's hours are the institution's to record)
  const certificate = { number: `JS-${RUN}`.toUpperCase(), holder: '赵六', id: idNumber(), issuedOn: chinaDay(-480) }
  const legacy = await request.post('/api/certification/legacy', {
    headers: auth(institution),
    data: {
      certificate_number: certificate.number, holder_name: certificate.holder, gender: '男', id_number: certificate.id,
      position: '施工员', specialisation: '土建施工', issued_on: certificate.issuedOn, issuer: '浙江省住房和城乡建设厅',
    },
  })
  expect(legacy.status(), await legacy.text()).toBe(201)

  return { institutionUser, institutionPassword, institutionName, company, applicants, certificate }
}
