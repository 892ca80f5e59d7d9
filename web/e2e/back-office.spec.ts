// 数据对接: a city authority's reviewer registers a webhook endpoint in the UI (the secret shown once) and
// removes it; an endpoint that refuses connections gets a failed delivery for an enterprise of its city, which
// the administrator finds on 数据对接 / Webhook and replays (the row says 处理中 at once).
import { expect, test } from '@playwright/test'
import { ADMIN_PASSWORD, ADMIN_USERNAME, PNG, RUN, axe, createAccount, creditCode, login, loginAs, pdf, until } from './support'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const CITY = '衢州'

test('a reviewer registers an endpoint and the administrator replays a failed delivery', async ({ page, request }) => {
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)
  const reviewerName = `qz-bo-${RUN}`
  const reviewerPassword = await createAccount(request, admin, { username: reviewerName, role: 'reviewer', city: CITY, display_name: '衢州市建设局' })
  const reviewer = await login(request, reviewerName, reviewerPassword)

  // The reviewer's own page: register (secret generated, shown once), then remove.
  await loginAs(page, reviewerName, reviewerPassword)
  await page.getByRole('menuitem', { name: '数据对接' }).click()
  await expect(page.getByRole('heading', { name: '数据对接' })).toBeVisible()
  await page.getByTestId('webhook-url').fill('http://127.0.0.1:9/ui-hook')
  await page.getByTestId('create-webhook').click()
  await expect(page.getByTestId('shown-secret')).toHaveText(/^\S{32,}$/)
  const row = page.getByTestId('my-webhooks').locator('.el-table__body tr', { hasText: 'http://127.0.0.1:9/ui-hook' })
  await expect(row).toContainText('衢州市企业及其人员')
  await axe(page, 'back-office-webhooks')
  await row.getByRole('button', { name: '删除' }).click()
  await page.getByRole('button', { name: '删除', exact: true }).last().click()
  await expect(row).toHaveCount(0)

  // An endpoint nothing listens on, one attempt per event; an enterprise of 衢州 registers.
  const created = await request.post('/api/feeds/webhooks', {
    headers: bearer(reviewer),
    data: { url: 'http://127.0.0.1:9/dead-hook', max_attempts: 1 },
  })
  expect(created.ok(), await created.text()).toBeTruthy()
  const hookId = (await created.json()).webhook.id as string
  try {
    const signup = await request.post('/api/gateway/auth/signup/enterprise', {
      data: { username: `e2e-bo-${RUN}`, password: `Jianshe-${RUN}-bo`, display_name: `衢州数据对接${RUN}建工有限公司` },
    })
    expect(signup.ok(), await signup.text()).toBeTruthy()
    const registered = await request.post('/api/registration/enterprises', {
      headers: bearer((await signup.json()).access_token as string),
      multipart: {
        credit_code: creditCode(), name: `衢州数据对接${RUN}建工有限公司`, city: CITY, legal_representative: '王五',
        contact_name: '李四', contact_mobile: '13800001111', address: '衢州市柯城区1号', business_scope: '房屋建筑工程施工总承包',
        business_licence: { name: 'licence.png', mimeType: 'image/png', buffer: PNG },
        commitment_letter: { name: 'letter.pdf', mimeType: 'application/pdf', buffer: pdf() },
      },
    })
    expect(registered.ok(), await registered.text()).toBeTruthy()
    await until('a failed delivery', async () => {
      const r = await request.get(`/api/feeds/webhooks/${hookId}/deliveries`, { headers: bearer(reviewer), params: { status: 'failed' } })
      return r.ok() && (await r.json()).deliveries.length > 0
    }, 20)

    // The administrator's console: the subscription with its owner and failure; replay.
    await page.getByRole('button', { name: '退出登录' }).click()
    await expect(page).toHaveURL(/\/login/)
    const adminPage = page
    await loginAs(adminPage, ADMIN_USERNAME, ADMIN_PASSWORD)
    await adminPage.getByRole('menuitem', { name: '数据对接 / Webhook' }).click()
    const hookRow = adminPage.getByTestId('admin-webhooks').locator('.el-table__body tr', { hasText: 'http://127.0.0.1:9/dead-hook' })
    await expect(hookRow).toContainText(reviewerName)
    await expect(hookRow).toContainText('投递失败')
    await hookRow.getByTestId('show-deliveries').click()
    const failed = adminPage.getByTestId('webhook-deliveries').locator('.el-table__body tr', { hasText: '失败' }).first()
    await expect(failed).toContainText('registration.EnterpriseRegistered.v1')
    await axe(adminPage, 'admin-webhooks')
    await failed.getByTestId('replay-delivery').click()
    await expect(adminPage.getByTestId('webhook-deliveries')).toContainText('处理中')
  } finally {
    await request.delete(`/api/feeds/webhooks/${hookId}`, { headers: bearer(admin) })
  }
})
