// The institution's exam pages and the check-in desk with Chromium's fake camera. Prepared by
// tests/integration/test_browser_checkin_it.py (a cohort that applied for the exam, two candidates seated, a
// proctor's login, and one `.y4m` video per camera made from tests/fixtures/faces/); skipped without it.
// One Chromium launch has one fake video file: each camera test launches its own browser with its camera
// (`use({ launchOptions })` cannot differ between describe groups of one file).
import { expect, test, type BrowserType, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { buildXlsx } from '../src/components/enterprise/problems-export'

const env = process.env
const fixture = {
  username: env.CHECKIN_USERNAME ?? '',
  password: env.CHECKIN_PASSWORD ?? '',
  matchId: env.CHECKIN_MATCH_ID ?? '',
  matchName: env.CHECKIN_MATCH_NAME ?? '',
  mismatchId: env.CHECKIN_MISMATCH_ID ?? '',
  mismatchName: env.CHECKIN_MISMATCH_NAME ?? '',
  spareName: env.CHECKIN_SPARE_NAME ?? '',
}

// the args of playwright.config.ts, and the fake camera (and no permission prompt)
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A page of a Chromium whose camera shows the `.y4m` video `y4m`; close its browser when done. */
async function cameraPage(chromium: BrowserType, baseURL: string | undefined, y4m: string | undefined): Promise<Page> {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      ...BASE_ARGS,
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m ?? ''}`,
    ],
  })
  const context = await browser.newContext({ baseURL, locale: 'zh-CN', viewport: { width: 1440, height: 900 } })
  return context.newPage()
}

async function axe(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
  await page.mouse.move(0, 0)
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  const results = await new AxeBuilder({ page }).exclude('.el-message').analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`),
    `axe on ${name}`,
  ).toEqual([])
}

/** Sign in through the login page as the proctor (generous waits: the machine may be busy). */
async function login(page: Page): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(fixture.username)
  await page.getByLabel('密码', { exact: true }).fill(fixture.password)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByTestId('layout-user')).toBeVisible({ timeout: 60_000 })
}

async function choose(page: Page, testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

async function blobBuffer(blob: Blob): Promise<Buffer> {
  return Buffer.from(await blob.arrayBuffer())
}

/** The camera shows a picture (the fake device's video plays in the <video>). */
async function cameraPlaying(page: Page): Promise<void> {
  await expect
    .poll(() => page.getByTestId('checkin-video').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 })
    .toBeGreaterThan(0)
}

async function captureAndWait(page: Page): Promise<{ state: string; distance: string }> {
  const result = page.getByTestId('checkin-result')
  await page.getByTestId('checkin-capture').click()
  await expect(result).toHaveAttribute('data-state', 'pending')
  await expect(result).not.toHaveAttribute('data-state', 'pending', { timeout: 120_000 })
  return {
    state: (await result.getAttribute('data-state')) ?? '',
    distance: (await page.getByTestId('checkin-distance').textContent()) ?? '',
  }
}

test.describe('check-in desk: the same person in front of the camera', () => {
  test.skip(!env.CHECKIN_FIXTURE, 'prepared by tests/integration/test_browser_checkin_it.py')

  test('question bank with an error, a session with a seat, candidates, violations', async ({ page }) => {
    test.setTimeout(420_000)
    await login(page)

    // 题库: a sheet with a wrong answer is refused with the row table; nothing is imported
    await page.getByRole('menuitem', { name: '题库管理' }).click()
    await expect(page.getByRole('heading', { name: '题库管理' })).toBeVisible()
    await expect(page.getByTestId('bank-table')).toContainText('演示')
    await page.getByTestId('bank-title').fill('施工员自编题库（有错）')
    await choose(page, 'bank-position', '施工员')
    const header = ['题型', '题干', '选项A', '选项B', '选项C', '选项D', '选项E', '选项F', '答案', '分值']
    await page.getByTestId('bank-upload').locator('input[type=file]').setInputFiles({
      name: '题库.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: await blobBuffer(
        buildXlsx([
          header,
          ['单选', '施工现场临时用电应采用的接零保护系统是（　）。', 'TN-S', 'TN-C', 'TT', 'IT', 'A', '2'],
          ['单选', '安全帽的正确佩戴方式是（　）。', '系紧下颏带', '不系下颏带', '', '', '', '', 'Z', '2'],
        ]),
      ),
    })
    await page.getByTestId('bank-import').click()
    const problems = page.getByTestId('bank-problems')
    await expect(problems).toBeVisible({ timeout: 30_000 })
    await expect(problems).toContainText('第 3 行')
    await expect(problems).toContainText('答案')
    await expect(problems).toContainText('未导入任何题目')
    await axe(page, 'checkin-banks')

    // 考场: create a session 40 minutes from now, open its seat table and seat the third candidate
    await page.getByRole('menuitem', { name: '考场安排' }).click()
    await choose(page, 'session-position', '施工员')
    const start = new Date(Date.now() + 40 * 60_000 + 8 * 3600_000).toISOString().slice(0, 16) // Beijing time
    await page.getByTestId('session-starts').fill(start)
    const room = `第九考场-${Date.now().toString(36)}`
    await page.getByTestId('session-room').fill(room)
    await page.getByTestId('session-address').fill('杭州市西湖区文三路 90 号考点')
    await page.getByRole('spinbutton', { name: '座位数' }).fill('5')
    await page.getByTestId('session-create').click()
    const row = page.getByTestId('session-table').locator('tr', { hasText: room })
    await expect(row).toBeVisible({ timeout: 30_000 })
    await expect(row).toContainText('0 / 5')
    await axe(page, 'checkin-sessions')
    await row.getByRole('button', { name: '座位表' }).click()
    await expect(page.getByTestId('session-info')).toContainText(room)
    await page.getByRole('checkbox', { name: `选择${fixture.spareName}` }).check()
    await page.getByTestId('assign-seats').click()
    await expect(page.getByTestId('seat-table')).toContainText(fixture.spareName, { timeout: 30_000 })
    await expect(page.getByTestId('session-info')).toContainText('已安排 1 / 共 5')
    await axe(page, 'checkin-session-seats')

    // 考生名单 with a state filter; 考场违纪
    await page.getByRole('menuitem', { name: '考生名单' }).click()
    await choose(page, 'candidate-status', '已安排考场')
    const candidates = page.getByTestId('candidate-table')
    await expect(candidates).toContainText(fixture.matchName)
    await expect(async () => {
      // the candidates' read model learns of the new seat a moment after the session's
      await page.getByRole('button', { name: '查询' }).click()
      await expect(candidates).toContainText(fixture.spareName, { timeout: 3_000 })
    }).toPass({ timeout: 60_000 })
    await expect(candidates).toContainText(room)
    await axe(page, 'checkin-candidates')
    await page.getByRole('menuitem', { name: '考场违纪' }).click()
    await expect(page.getByRole('heading', { name: '考场违纪' })).toBeVisible()
    await axe(page, 'checkin-violations')
  })

  test('camera refused: a clear message in Chinese', async ({ page }) => {
    test.setTimeout(180_000)
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'))
    })
    await login(page)
    await page.goto(`/institution/exam/checkin/${fixture.matchId}`)
    await expect(page.getByTestId('camera-problem')).toContainText('摄像头权限被拒绝')
    await expect(page.getByTestId('checkin-capture')).toBeDisabled()
    await axe(page, 'checkin-camera-refused')
  })

  test('the candidate is verified: the camera beside the enrolled head photo, 核验通过', async ({ playwright, baseURL }) => {
    test.setTimeout(300_000)
    const page = await cameraPage(playwright.chromium, baseURL, env.CHECKIN_MATCH_Y4M)
    await login(page)
    await page.getByRole('menuitem', { name: '入场核验' }).click()
    await choose(page, 'checkin-candidate', fixture.matchName)
    await expect(page).toHaveURL(new RegExp(`/institution/exam/checkin/${fixture.matchId}$`))
    await expect(page.getByTestId('checkin-candidate-info')).toContainText(fixture.matchName)
    await expect(page.getByTestId('checkin-photo')).toBeVisible()
    await expect
      .poll(() => page.getByTestId('checkin-photo').evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 20_000 })
      .toBeGreaterThan(0)
    await cameraPlaying(page)
    await expect(page.getByTestId('checkin-result')).toContainText('待拍照核验')
    await axe(page, 'checkin-desk-ready')

    const answer = await captureAndWait(page)
    console.log(`check-in ${fixture.matchName} (obama2 camera): ${answer.state}, distance ${answer.distance}`)
    expect(answer.state).toBe('passed')
    await expect(page.getByTestId('checkin-result')).toContainText('核验通过')
    await expect(page.getByTestId('checkin-match')).toHaveText('一致')
    await expect(page.getByTestId('checkin-replay')).toHaveText('否')
    expect(Number(answer.distance)).toBeLessThan(0.6)
    await expect(page.getByTestId('checkin-capture')).toBeDisabled()
    await axe(page, 'checkin-desk-verified')
    await page.context().browser()?.close()
  })
})

test.describe('check-in desk: a different person in front of the camera', () => {
  test.skip(!env.CHECKIN_FIXTURE, 'prepared by tests/integration/test_browser_checkin_it.py')

  test('refused with the tries left, then the proctor overrides with a written reason', async ({ playwright, baseURL }) => {
    test.setTimeout(540_000)
    const page = await cameraPage(playwright.chromium, baseURL, env.CHECKIN_MISMATCH_Y4M)
    await login(page)
    await page.goto(`/institution/exam/checkin/${fixture.mismatchId}`)
    await expect(page.getByTestId('checkin-candidate-info')).toContainText(fixture.mismatchName)
    await cameraPlaying(page)

    for (const left of [2, 1, 0]) {
      const answer = await captureAndWait(page)
      console.log(`check-in ${fixture.mismatchName} (biden camera): ${answer.state}, distance ${answer.distance}`)
      expect(answer.state).toBe(left ? 'failed' : 'exhausted')
      await expect(page.getByTestId('checkin-match')).toHaveText('不一致')
      await expect(page.getByTestId('checkin-left')).toHaveText(`${left} / 3`)
      await expect(page.getByTestId('checkin-reasons')).toContainText('人脸比对不一致')
      if (left === 2) {
        await expect(page.getByTestId('checkin-result')).toContainText('核验未通过，还可尝试 2 次')
        await axe(page, 'checkin-desk-refused')
      }
    }
    await expect(page.getByTestId('checkin-result')).toContainText('次数已用完')
    await expect(page.getByTestId('checkin-capture')).toBeDisabled()
    await expect(page.getByTestId('override-form')).toBeVisible()
    await axe(page, 'checkin-desk-exhausted')

    await page.getByTestId('override-submit').click()
    await expect(page.locator('.el-message')).toContainText('请填写人工放行原因')
    await page.getByTestId('override-reason').fill('已核对身份证原件与准考证，确认为考生本人')
    await page.getByTestId('override-submit').click()
    await expect(page.getByTestId('checkin-result')).toContainText('核验通过（监考人工放行）', { timeout: 30_000 })
    await expect(page.getByTestId('checkin-result')).toContainText('已核对身份证原件与准考证')
    await axe(page, 'checkin-desk-override')

    // 记录违纪 with evidence at the desk, then the list of 考场违纪 with the evidence's short-lived link
    await page.getByTestId('violation-description').fill('开考前携带手机进入考场，已由监考人员收存')
    await page.locator('[data-testid=violation-form] input[type=file]').setInputFiles({ name: 'evidence.png', mimeType: 'image/png', buffer: PNG })
    await page.getByTestId('violation-submit').click()
    await expect(page.locator('.el-message', { hasText: '违纪已记录' })).toBeVisible({ timeout: 30_000 })
    await page.getByRole('menuitem', { name: '考场违纪' }).click()
    const violations = page.getByTestId('violation-table')
    await expect(async () => {
      await page.getByRole('button', { name: '查询' }).click()
      await expect(violations).toContainText('携带手机', { timeout: 3_000 })
    }).toPass({ timeout: 60_000 })
    await expect(violations).toContainText(fixture.mismatchName)
    await violations.getByRole('button', { name: '查看 1 份证据' }).click()
    await expect(violations.locator('a.evidence')).toHaveCount(1)
    await axe(page, 'checkin-violations-recorded')
    await page.context().browser()?.close()
  })
})
