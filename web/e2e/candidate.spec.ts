// The candidate's (学员) way through the portal: the administrator imports an old-style certificate for a person
// and records continuing-education hours (API); the person activates the account with the one-time code,
// signs in with the ID number, is refused a photo that is not 一寸 in the browser, uploads a real head photo
// (the platform checks it), sees 我的资料, continuing education and the certificate, renews the old certificate
// into an electronic one, downloads its PDF, opens the public verification page (the QR's link) on a phone
// and checks the old certificate by number and name there. A screenshot and an axe check of every page.
import { expect, test, type Page } from '@playwright/test'
import { ADMIN_PASSWORD, ADMIN_USERNAME, PNG, RUN, axe, idNumber, login, until } from './support'
import { chinaDay, photos } from './institution-training-support'

const auth = (token: string) => ({ authorization: `Bearer ${token}` })

async function nav(page: Page, title: string, path: string): Promise<void> {
  await page.getByRole('menuitem', { name: title }).click()
  await page.waitForURL(`**${path}`)
}

test('candidate: activate, sign in with the ID number, head photo, certificate, CE progress, renewal, PDF, public verification on a phone', async ({
  page,
  browser,
  request,
  baseURL,
}) => {
  test.setTimeout(240_000)
  expect(ADMIN_PASSWORD, 'ADMIN_PASSWORD must be set').not.toBe('')
  const admin = await login(request, ADMIN_USERNAME, ADMIN_PASSWORD)

  // an old-style certificate for the person, and hours enough to renew it (the last 12 months: 32, 24 professional)
  const person = { name: '钱学员', id: idNumber(), password: `Xueyuan-${RUN}-2026` }
  const legacyNumber = `ZJ-${RUN}`.toUpperCase()
  const imported = await request.post('/api/certification/legacy', {
    headers: auth(admin),
    data: {
      certificate_number: legacyNumber, holder_name: person.name, gender: '男', id_number: person.id,
      position: '施工员', specialisation: '土建施工', issued_on: chinaDay(-480), issuer: '浙江省住房和城乡建设厅',
    },
  })
  expect(imported.status(), await imported.text()).toBe(201)
  const legacyId = ((await imported.json()) as { certificate_id: string }).certificate_id
  for (const [days, hours, kind, course] of [
    [-40, 12, 'professional', '建筑施工技术规范'], [-30, 12, 'professional', '施工质量验收'], [-20, 8, 'general', '安全生产法规'],
  ] as const) {
    const r = await request.post(`/api/certification/certificates/${legacyId}/hours`, {
      headers: auth(admin), data: { studied_on: chinaDay(days), hours, kind, course },
    })
    expect(r.status(), await r.text()).toBe(201)
  }
  // the one-time code (the gateway learns of the holder from the certificate's event a moment later)
  let code = ''
  await until('the gateway to know the holder', async () => {
    const r = await request.post(`/api/gateway/persons/${person.id}/activation-code`, { headers: auth(admin) })
    if (r.ok()) code = ((await r.json()) as { code: string }).code
    return r.ok()
  }, 60)

  // 1. the login page leads to the activation; the account is activated and signed in
  await page.goto('/login')
  await expect(page.getByText('学员请用身份证号登录')).toBeVisible()
  await page.getByRole('link', { name: '学员激活账号' }).click()
  await page.waitForURL('**/activate')
  await axe(page, 'candidate-activate')
  await page.getByLabel('身份证号').fill(person.id)
  await page.getByLabel('激活码').fill('00000000')
  await page.getByLabel('设置密码').fill(person.password)
  await page.getByLabel('确认密码').fill(person.password)
  await page.getByRole('button', { name: '激活并登录' }).click()
  await expect(page.getByTestId('activate-problem')).toBeVisible() // a wrong code: refused in Chinese
  await expect(page.getByTestId('activate-problem')).toContainText(/激活码/)
  await page.getByLabel('激活码').fill(code)
  await page.getByRole('button', { name: '激活并登录' }).click()
  await page.waitForURL('**/person')

  // 2. signing in again with the ID number (a fresh session)
  await page.getByTestId('logout').click()
  await page.waitForURL('**/login')
  await page.getByLabel('用户名').fill(person.id)
  await page.getByLabel('密码', { exact: true }).fill(person.password)
  await page.getByRole('button', { name: '登录' }).click()
  await page.waitForURL('**/person')
  await expect(page.getByTestId('layout-user')).toContainText('学员')

  // 3. 我的资料: the masked ID number; a picture that is not 一寸 is refused in the browser; a real one passes
  await expect(page.getByTestId('person-facts')).toContainText(person.id.slice(-4))
  await expect(page.getByTestId('person-facts')).not.toContainText(person.id)
  await expect(page.getByTestId('person-facts')).toContainText(person.name)
  const { head, small } = await photos(page)
  await page.getByTestId('photo-input').setInputFiles({ name: 'small.jpg', mimeType: 'image/jpeg', buffer: small })
  await expect(page.getByTestId('photo-local-problems')).toContainText('小于一寸照的最低 295×413 像素')
  await page.getByTestId('photo-input').setInputFiles({ name: 'head.jpg', mimeType: 'image/jpeg', buffer: head })
  await expect(page.getByTestId('photo-verdict')).toContainText('平台检查通过', { timeout: 30_000 })
  await expect(page.getByTestId('head-photo').locator('img')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('head-photo')).toContainText('本人上传')
  await page.getByTestId('id-input-front').setInputFiles({ name: 'front.png', mimeType: 'image/png', buffer: PNG })
  await expect(page.getByTestId('id-card-front').locator('img')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('id-card-front')).toContainText('本人上传')
  await axe(page, 'candidate-profile')

  // a holder of an old certificate only: no enrollment and no exam yet (the pages say how they come)
  await nav(page, '报名与培训', '/person/enrollments')
  await expect(page.getByText('报名由您所在的企业统一办理')).toBeVisible()
  await nav(page, '考试与成绩', '/person/exams')
  await expect(page.getByText('培训完成后由培训机构为您申请考试')).toBeVisible()
  await axe(page, 'candidate-exams')

  // 4. continuing education: the cycle's hours and the renewal it allows
  await nav(page, '继续教育', '/person/education')
  const ce = page.getByTestId('ce-certificate').first()
  await expect(ce).toContainText(legacyNumber)
  await expect(ce.getByTestId('ce-cycles')).toContainText('32 / 32')
  await expect(ce.getByTestId('ce-renewal')).toContainText('可以更新')
  await axe(page, 'candidate-education')

  // 5. the certificate: renew the old one into an electronic certificate, with its QR and PDF
  await nav(page, '我的证书', '/person/certificates')
  const old = page.getByTestId('certificate').filter({ hasText: legacyNumber, hasNot: page.getByTestId('certificate-pdf') })
  await expect(old.getByTestId('certificate-state')).toHaveText('有效')
  await axe(page, 'candidate-certificates-legacy')
  await old.getByTestId('certificate-renew').click()
  await page.getByRole('button', { name: '确定更新' }).click()
  // the new certificate is the one with a PDF (the old one is 已更新 and has none)
  const renewed = page.getByTestId('certificate').filter({ has: page.getByTestId('certificate-pdf') })
  await expect(renewed).toBeVisible({ timeout: 60_000 })
  await expect(renewed.getByTestId('certificate-state')).toHaveText('有效')
  const newNumber = (await renewed.getByTestId('certificate-number').textContent())?.trim() ?? ''
  expect(newNumber).not.toBe('')
  await expect(renewed.getByTestId('certificate-qr').locator('img')).toBeVisible()
  await expect(renewed).toContainText(legacyNumber) // 由旧证更新
  await expect(old.getByTestId('certificate-state')).toHaveText('已更新')
  const download = page.waitForEvent('download')
  await renewed.getByTestId('certificate-pdf').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/\.pdf$/)
  const chunks: Buffer[] = []
  for await (const chunk of (await file.createReadStream())!) chunks.push(chunk as Buffer)
  expect(Buffer.concat(chunks).subarray(0, 5).toString('latin1')).toBe('%PDF-')
  await axe(page, 'candidate-certificates')
  const verifyHref = await renewed.getByTestId('certificate-verify-link').getAttribute('href')
  expect(verifyHref).toMatch(/^\/verify\?token=/)

  // 6. the head photo is locked now that an electronic certificate exists (enrollment learns of it)
  await until('the head photo to be locked', async () => {
    await nav(page, '报名与培训', '/person/enrollments')
    await nav(page, '我的资料', '/person')
    await expect(page.getByTestId('person-facts')).toBeVisible()
    return page.getByTestId('photo-locked').isVisible()
  }, 60)
  await expect(page.getByTestId('photo-locked')).toContainText('已取得证书')

  // 7. the public verification page on a phone: no login, large state, masked data; then by number and name
  const phone = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 }, locale: 'zh-CN', isMobile: true, hasTouch: true })
  const mobile = await phone.newPage()
  const errors: string[] = []
  mobile.on('pageerror', (e) => errors.push(e.message))
  // script errors only: the browser also logs the answers it got as errors (the silent session refresh's
  // 401 on a public page, the 404 of a name that does not match), which are expected here
  mobile.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text())
  })
  await mobile.goto(verifyHref!)
  const state = mobile.getByTestId('verify-state')
  await expect(state).toHaveText('有效')
  expect(await state.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(32)
  await expect(mobile.getByTestId('verify-signature')).toBeVisible()
  await expect(mobile.getByTestId('verify-number')).toHaveText(newNumber)
  await expect(mobile.getByTestId('verify-holder')).toHaveText(/^钱\*+$/)
  await expect(mobile.getByTestId('verify-id')).toHaveText(`${person.id.slice(0, 6)}********${person.id.slice(-4)}`)
  expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await axe(mobile, 'verify-phone-qr')

  await mobile.getByLabel('证书编号').fill(legacyNumber)
  await mobile.getByLabel('持证人姓名').fill('钱学')
  await mobile.getByRole('button', { name: '查验' }).click()
  await expect(mobile.getByTestId('verify-problem')).toContainText('姓名不一致')
  await mobile.getByLabel('持证人姓名').fill(person.name)
  await mobile.getByRole('button', { name: '查验' }).click()
  await expect(mobile.getByTestId('verify-state')).toHaveText('已更新')
  await expect(mobile.getByTestId('verify-result')).toContainText('以更新后的证书为准')
  await mobile.getByTestId('verify-related').click()
  await expect(mobile.getByTestId('verify-number')).toHaveText(newNumber)
  await expect(mobile.getByTestId('verify-state')).toHaveText('有效')
  await axe(mobile, 'verify-phone-number')
  expect(errors).toEqual([])
  await phone.close()
})
