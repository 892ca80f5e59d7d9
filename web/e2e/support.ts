import { expect, type APIRequestContext, type Page } from '@playwright/test'
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

// ------------------------------------------------------------ set-up through the API (shared by the specs)

export const ADMIN_USERNAME = process.env.ADMIN_USERNAME ?? 'admin'
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? ''
export const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`

/** A screenshot (test-results/screens/<name>.png), then axe: no serious or critical violation. */
export async function axe(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
  await page.mouse.move(0, 0)
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  const results = await new AxeBuilder({ page }).exclude('.el-message').analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${(n.failureSummary ?? '').split('\n').slice(1, 2).join('')}`).slice(0, 3).join(' | ')}`),
    `axe on ${name}`,
  ).toEqual([])
}

export async function login(request: APIRequestContext, username: string, password: string): Promise<string> {
  const r = await request.post('/api/gateway/auth/login', { data: { username, password } })
  expect(r.ok(), `login ${username}: ${await r.text()}`).toBeTruthy()
  return (await r.json()).access_token as string
}

export async function createAccount(request: APIRequestContext, admin: string, body: Record<string, string>): Promise<string> {
  const r = await request.post('/api/gateway/accounts', { data: body, headers: { authorization: `Bearer ${admin}` } })
  expect(r.ok(), `create ${body.username}: ${await r.text()}`).toBeTruthy()
  return (await r.json()).generated_password as string
}

/** Ask again every second until `check` passes (another service learns of an event a moment later). */
export async function until(what: string, check: () => Promise<boolean>, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`gave up waiting for ${what}`)
}

const CREDIT = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
export function creditCode(): string {
  let body = '91330106'
  for (let i = 0; i < 9; i++) body += CREDIT[Math.floor(Math.random() * 31)]
  const total = [...body].reduce((n, ch, i) => n + CREDIT.indexOf(ch) * CREDIT_WEIGHTS[i], 0)
  return body + CREDIT[(31 - (total % 31)) % 31]
}

export function idNumber(): string {
  const year = 1985 + Math.floor(Math.random() * 10)
  const month = String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')
  const day = String(1 + Math.floor(Math.random() * 28)).padStart(2, '0')
  const seq = String(Math.floor(Math.random() * 500) * 2 + 1).padStart(3, '0')
  const body = `330106${year}${month}${day}${seq}`
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const total = [...body].reduce((n, ch, i) => n + Number(ch) * weights[i], 0)
  return body + '10X98765432'[total % 11]
}

export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

export function pdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((o, i) => {
    offsets.push(out.length)
    out += `${i + 1} 0 obj\n${o}\nendobj\n`
  })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}
