import { expect, test } from '@playwright/test'
import { admin, screenshot, seriousViolations } from './support'

test.describe('login', () => {
  test('the login page is in Chinese and accessible', async ({ page }) => {
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    const response = await page.goto('/login')
    const headers = response!.headers()
    expect(headers['content-security-policy']).toContain("script-src 'self'")
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(headers['x-content-type-options']).toBe('nosniff')
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN')
    await expect(page.getByRole('heading', { name: '浙江省建筑施工现场专业人员证书平台' })).toBeVisible()
    await expect(page.getByLabel('用户名')).toBeVisible()
    await expect(page.getByRole('button', { name: '登录' })).toBeVisible()
    await expect(page.getByRole('link', { name: '企业注册账号' })).toBeVisible()
    await screenshot(page, 'login')
    expect(await seriousViolations(page)).toEqual([])
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([])
  })

  test('an anonymous visitor is sent to the login page', async ({ page }) => {
    await page.goto('/admin')
    await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)admin$/)
  })

  test('a wrong password shows the problem in Chinese', async ({ page }) => {
    await page.goto('/login')
    await page.getByLabel('用户名').fill(admin.username)
    await page.getByLabel('密码', { exact: true }).fill('not-the-password-123')
    await page.getByRole('button', { name: '登录' }).click()
    await expect(page.getByTestId('login-problem')).toContainText('用户名或密码不正确')
    await screenshot(page, 'login-wrong-password')
  })

  test('the administrator logs in, keeps the session over a reload, and logs out', async ({ page, context }) => {
    expect(admin.password, 'ADMIN_PASSWORD must be set').not.toBe('')
    await page.goto('/login')
    await page.getByLabel('用户名').fill(admin.username)
    await page.getByLabel('密码', { exact: true }).fill(admin.password)
    await page.getByRole('button', { name: '登录' }).click()

    await expect(page).toHaveURL(/\/admin$/)
    const user = page.getByTestId('layout-user')
    await expect(user).toContainText('省级管理员')
    await expect(user).toContainText('管理员')
    await expect(page.getByRole('menuitem', { name: '平台概况' })).toBeVisible()
    await expect(page.getByTestId('dashboard-figures')).toBeVisible()
    await screenshot(page, 'admin-home')
    expect(await seriousViolations(page)).toEqual([]) // the layout

    // no token where a script could read it: the refresh token is an HttpOnly cookie on the auth path
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    expect(stored).not.toMatch(/eyJ|token/i) // no JWT in web storage
    expect(await page.evaluate(() => document.cookie)).not.toContain('zj_refresh')
    const cookie = (await context.cookies()).find((c) => c.name === 'zj_refresh')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/gateway/auth' })

    await page.reload()
    await expect(page).toHaveURL(/\/admin$/)
    await expect(page.getByTestId('layout-user')).toContainText('省级管理员')

    await page.getByTestId('logout').click()
    await expect(page).toHaveURL(/\/login/)
    await page.goto('/admin')
    await expect(page).toHaveURL(/\/login/)
  })
})

test.describe('enterprise sign-up', () => {
  test('an enterprise signs up from the login page and lands in its layout', async ({ page }) => {
    await page.goto('/login')
    await page.getByRole('link', { name: '企业注册账号' }).click()
    await expect(page).toHaveURL(/\/signup$/)
    await expect(page.getByRole('heading', { name: '企业注册账号' })).toBeVisible()
    expect(await seriousViolations(page)).toEqual([])

    const username = `e2e-${Date.now()}`
    await page.getByLabel('企业名称').fill('杭州浏览器测试建设有限公司')
    await page.getByLabel('登录用户名').fill(username)
    await page.getByLabel('密码', { exact: true }).fill('Jianshe-2026-e2e')
    await page.getByLabel('再次输入密码').fill('Jianshe-2026-xx')
    await page.getByRole('button', { name: '注册并登录' }).click()
    await expect(page.getByText('两次输入的密码不一致')).toBeVisible()

    await page.getByLabel('再次输入密码').fill('Jianshe-2026-e2e')
    await page.getByRole('button', { name: '注册并登录' }).click()
    await expect(page).toHaveURL(/\/enterprise\/registration$/)
    await expect(page.getByTestId('layout-user')).toContainText('杭州浏览器测试建设有限公司')
    await expect(page.getByTestId('layout-user')).toContainText('企业')
    await screenshot(page, 'enterprise-after-signup')
  })
})
