// Institution sanctions in the browser: the administrator opens 培训机构 → 处理 for an institution, sees the
// server's refusal of a too-long suspension, records a suspension of new enrollments (执行中 at once; the list
// tags the institution 暂停招生至 … once it has caught up) and a warning, lifts the suspension with a reason
// (the history keeps both); the institution's home page then shows the warning. Screenshots and axe of the dialog and of the home page.
import { expect, test } from '@playwright/test'
import { chinaToday } from '../src/components/admin/sanctions'
import { RUN, axe, createAccount, login, loginAs, admin as adminAccount, until } from './support'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** `days` after the China date `day` (YYYY-MM-DD). */
function plusDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

test('administrator sanctions an institution; the institution sees it', async ({ page, browser, request }) => {
  test.setTimeout(120_000)
  expect(adminAccount.password, 'ADMIN_PASSWORD must be set').not.toBe('')
  const adminToken = await login(request, adminAccount.username, adminAccount.password)
  const institutionId = `e2e-sanc-${RUN}`
  const name = `处理演示培训学校${RUN}`
  const username = `e2e-sanc-${RUN}`
  const password = await createAccount(request, adminToken, { username, role: 'institution', org_id: institutionId, city: '衢州', display_name: name })
  const published = await request.put(`/api/enrollment/institutions/${institutionId}/offer`, {
    headers: bearer(adminToken),
    data: { name, city: '衢州', offers: [{ position: '安全员', fee_offline_fen: 90000 }], payment_methods: ['offline'] },
  })
  expect(published.ok(), await published.text()).toBeTruthy()
  await until('the offer in the institutions list', async () => {
    const r = await request.get('/api/enrollment/institutions', { headers: bearer(adminToken), params: { city: '衢州' } })
    return ((await r.json()).items as Array<{ institution_id: string }>).some((i) => i.institution_id === institutionId)
  }, 30)

  await loginAs(page, adminAccount.username, adminAccount.password)
  await page.getByRole('menuitem', { name: '培训机构', exact: true }).click()
  await page.waitForURL('**/admin/institutions')
  await page.getByTestId(`sanction-${institutionId}`).click()
  const dialog = page.getByRole('dialog', { name: `处理培训机构：${name}` })
  await expect(dialog.getByTestId('sanctions')).toContainText('暂无处理记录')

  // a suspension longer than the longest period: the server's refusal is shown
  const today = chinaToday()
  await dialog.getByText('暂停招生（不能新报名', { exact: false }).click()
  await dialog.getByTestId('sanction-reason').fill('放松考试纪律，纵容替考')
  await dialog.getByPlaceholder('开始日期').fill(today)
  await dialog.getByPlaceholder('结束日期（含当天）').fill(plusDays(today, 400))
  await dialog.getByPlaceholder('结束日期（含当天）').press('Enter')
  await dialog.getByTestId('sanction-submit').click()
  await expect(dialog.getByTestId('sanction-problem')).toContainText('暂停期限最长 365 天')

  // a week's suspension: in the history at once
  await dialog.getByPlaceholder('开始日期').fill(today)
  await dialog.getByPlaceholder('结束日期（含当天）').fill(plusDays(today, 6))
  await dialog.getByPlaceholder('结束日期（含当天）').press('Enter')
  await dialog.getByTestId('sanction-submit').click()
  const rows = dialog.getByTestId('sanctions').locator('.el-table__row')
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('执行中')
  await expect(rows.first()).toContainText(`${today} 至 ${plusDays(today, 6)}`)
  // closed: the list tags the institution once its read model has the suspension (处理中 until then)
  await dialog.getByRole('button', { name: 'Close' }).or(dialog.locator('.el-dialog__headerbtn')).first().click()
  const listed = page.getByTestId('institutions').locator('.el-table__row', { hasText: name })
  await expect(listed).toContainText(`暂停招生至 ${plusDays(today, 6)}`, { timeout: 20_000 })
  await page.getByTestId(`sanction-${institutionId}`).click()
  await expect(rows).toHaveCount(1)

  // a warning, then the suspension lifted with a reason
  await dialog.getByText('警告（记录在案', { exact: false }).click()
  await dialog.getByTestId('sanction-reason').fill('考场巡查发现监考松散')
  await dialog.getByTestId('sanction-submit').click()
  await expect(rows).toHaveCount(2)
  await expect(rows.first()).toContainText('已记录')
  await axe(page, 'admin-institution-sanctions')
  await rows.nth(1).getByRole('button', { name: '解除' }).click()
  await page.getByTestId('sanction-lift-reason').fill('已整改到位，恢复招生')
  await page.getByTestId('sanction-lift-confirm').click()
  await expect(rows.nth(1)).toContainText('已解除')
  await expect(rows.nth(1)).toContainText('已整改到位，恢复招生')

  // the institution's home page shows the warning on record
  const context = await browser.newContext()
  const own = await context.newPage()
  await loginAs(own, username, password)
  const alert = own.getByTestId('home-sanction')
  await expect(alert).toHaveCount(1)
  await expect(alert).toContainText('考场巡查发现监考松散')
  await axe(own, 'institution-home-sanction')
  await context.close()
})
