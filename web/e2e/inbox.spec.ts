// 站内消息: an enterprise whose registration was rejected sees the bell's unread count, opens the inbox, reads
// the reason (the message is then read, the bell empty) — set up through the API (signup, registration, a
// reviewer's rejection); the notifications consumer builds the message from the RegistrationRejected event.
import { expect, test } from '@playwright/test'
import { ADMIN_PASSWORD, ADMIN_USERNAME, PNG, RUN, axe, createAccount, creditCode, login, loginAs, pdf, until } from './support'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

test('an enterprise reads the rejection of its registration in its inbox', async ({ page, request }) => {
  const username = `e2e-inbox-${RUN}`
  const password = `Jianshe-${RUN}-inbox`
  const signup = await request.post('/api/gateway/auth/signup/enterprise', {
    data: { username, password, display_name: `杭州站内消息${RUN}建工有限公司` },
  })
  expect(signup.ok(), await signup.text()).toBeTruthy()
  const { access_token: token, org_id: enterpriseId } = (await signup.json()) as { access_token: string; org_id: string }
  const registered = await request.post('/api/registration/enterprises', {
    headers: bearer(token),
    multipart: {
      credit_code: creditCode(), name: `杭州站内消息${RUN}建工有限公司`, city: '杭州', legal_representative: '王五',
      contact_name: '李四', contact_mobile: '13800001111', address: '杭州市西湖区文三路1号', business_scope: '房屋建筑工程施工总承包',
      business_licence: { name: 'licence.png', mimeType: 'image/png', buffer: PNG },
      commitment_letter: { name: 'letter.pdf', mimeType: 'application/pdf', buffer: pdf() },
    },
  })
  expect(registered.ok(), await registered.text()).toBeTruthy()
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)
  const reviewerName = `hz-inbox-rev-${RUN}`
  const reviewerPassword = await createAccount(request, admin, { username: reviewerName, role: 'reviewer', city: '杭州', display_name: '杭州市建设局' })
  const reviewer = await login(request, reviewerName, reviewerPassword)
  const checks = [
    { check: 'local_enterprise', passed: true },
    { check: 'construction_enterprise', passed: true },
    { check: 'documents_compliant', passed: false, note: '承诺书无公章' },
  ]
  const rejected = await request.post(`/api/registration/enterprises/${enterpriseId}/reject`, {
    headers: bearer(reviewer),
    data: { checks, reason: '承诺书未加盖公章，请重新上传' },
  })
  expect(rejected.ok(), await rejected.text()).toBeTruthy()
  await until('the rejection in the inbox', async () => {
    const r = await request.get('/api/notifications/inbox/unread-count', { headers: bearer(token) })
    return r.ok() && (await r.json()).unread === 1
  }, 30)

  await loginAs(page, username, password)
  const bell = page.getByTestId('inbox-bell')
  await expect(bell).toContainText('1')
  await bell.getByRole('button', { name: '站内消息，1 条未读' }).click()
  await expect(page).toHaveURL(/\/inbox$/)
  await expect(page.getByRole('heading', { name: '站内消息' })).toBeVisible()
  const item = page.getByTestId('inbox-item')
  await expect(item).toHaveCount(1)
  await expect(item).toContainText('企业注册审核未通过')
  await expect(item.getByTestId('inbox-unread')).toBeVisible()
  await axe(page, 'inbox')

  await item.getByRole('button', { name: /企业注册审核未通过/ }).click()
  await expect(item.getByTestId('inbox-body')).toContainText('承诺书未加盖公章，请重新上传')
  await expect(item.getByTestId('inbox-unread')).toHaveCount(0)
  await expect(bell.getByRole('button', { name: '站内消息' })).toBeVisible()
  await page.getByTestId('inbox-filter').getByText('未读').click()
  await expect(page.getByText('没有未读消息')).toBeVisible()
})
