import { expect, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'

/** The administrator the test harness created (tests/integration/test_browser_it.py passes it on). */
export const admin = {
  username: process.env.ADMIN_USERNAME ?? 'root-admin',
  password: process.env.ADMIN_PASSWORD ?? '',
}

/** Sign in through the login page and wait for the layout. */
export async function loginAs(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByTestId('layout-user')).toBeVisible()
}

/** axe's serious and critical violations of the current page (an empty list is the goal). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
}
