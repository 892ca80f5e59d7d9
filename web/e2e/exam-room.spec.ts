// The candidate's journey through the exam room with Chromium's fake camera, and the proctor's live alerts.
// Prepared by tests/integration/test_browser_exam_room_it.py (a candidate seated in a session 30 minutes
// ahead, the person's own account, a proctor's login, one `.y4m` video per camera made from
// tests/fixtures/faces/, and the file that moves the exam service's clock); skipped without it.
// One Chromium launch has one fake video file: the candidate's second camera (another person) is a second
// browser. Screenshots in test-results/screens/exam-room-*.png.
import { writeFileSync } from 'node:fs'
import { expect, test, type APIRequestContext, type BrowserType, type Page } from '@playwright/test'
import { axe, login as apiLogin } from './support'

const env = process.env
const fixture = {
  proctor: env.EXAM_ROOM_PROCTOR ?? '',
  proctorPassword: env.EXAM_ROOM_PROCTOR_PASSWORD ?? '',
  person: env.EXAM_ROOM_PERSON ?? '', // the ID number
  personPassword: env.EXAM_ROOM_PERSON_PASSWORD ?? '',
  candidateId: env.EXAM_ROOM_CANDIDATE_ID ?? '',
  name: env.EXAM_ROOM_NAME ?? '',
  sessionId: env.EXAM_ROOM_SESSION_ID ?? '',
  room: env.EXAM_ROOM_ROOM ?? '',
  startsAt: env.EXAM_ROOM_STARTS_AT ?? '',
  clockFile: env.EXAM_ROOM_CLOCK_FILE ?? '',
  sameY4m: env.EXAM_ROOM_SAME_Y4M ?? '',
  otherY4m: env.EXAM_ROOM_OTHER_Y4M ?? '',
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

async function cameraPage(chromium: BrowserType, baseURL: string | undefined, y4m: string): Promise<Page> {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...BASE_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
  })
  const context = await browser.newContext({ baseURL, locale: 'zh-CN', viewport: { width: 1440, height: 900 } })
  return context.newPage()
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByTestId('layout-user')).toBeVisible({ timeout: 60_000 })
}

/** Move the exam service's clock `seconds` ahead of the real time (EXAM_TEST_CLOCK_OFFSET_FILE). */
function moveExamClock(seconds: number): void {
  writeFileSync(fixture.clockFile, String(seconds))
}

interface LiveChecks {
  items: Array<{ check_id: string; state: string; distance: number | null }>
  consecutive_mismatches: number
  violation_allowed: boolean
}

/** The candidate's in-exam checks as the proctor reads them through the API. */
async function liveChecks(request: APIRequestContext, token: string): Promise<LiveChecks> {
  const r = await request.get(`/api/exam/candidates/${fixture.candidateId}/live-checks`, { headers: { authorization: `Bearer ${token}` } })
  expect(r.ok(), await r.text()).toBeTruthy()
  return (await r.json()) as LiveChecks
}

/** Ask the API until the face workers' answers satisfy `done`; returns the checks. */
async function checksUntil(request: APIRequestContext, token: string, what: string, done: (c: LiveChecks) => boolean): Promise<LiveChecks> {
  let last: LiveChecks | null = null
  await expect
    .poll(
      async () => {
        last = await liveChecks(request, token)
        return done(last)
      },
      { message: `${what}: ${JSON.stringify(last)}`, timeout: 150_000, intervals: [1000] },
    )
    .toBe(true)
  return last!
}

function count(checks: LiveChecks, state: string): number {
  return checks.items.filter((i) => i.state === state).length
}

test.describe('exam room: the candidate takes the exam under live face checks', () => {
  test.skip(!env.EXAM_ROOM_FIXTURE, 'prepared by tests/integration/test_browser_exam_room_it.py')

  test('schedule, check-in, consent, answers (offline too), refused before 30 minutes, an alert, submitted with the score', async ({
    playwright,
    baseURL,
    request,
  }) => {
    test.setTimeout(900_000)
    const proctorToken = await apiLogin(request, fixture.proctor, fixture.proctorPassword)
    const startsAt = Date.parse(fixture.startsAt)
    let offset = 0

    // ---------------------------------------------------------------- the candidate checks the schedule
    const candidate = await cameraPage(playwright.chromium, baseURL, fixture.sameY4m)
    await signIn(candidate, fixture.person, fixture.personPassword)
    await candidate.getByRole('menuitem', { name: '考试与成绩' }).click()
    const group = candidate.getByTestId('exam-group').first()
    await expect(group).toContainText(fixture.room, { timeout: 30_000 })
    await expect(group).toContainText('已安排考场')
    await axe(candidate, 'exam-room-schedule')
    await group.getByTestId('enter-exam-room').click()
    await expect(candidate).toHaveURL(new RegExp(`/exam-room/${fixture.candidateId}$`))
    await expect(candidate.getByTestId('exam-before')).toContainText(fixture.room)
    await expect(candidate.getByTestId('exam-checkin-state')).toContainText('尚未通过')
    await expect(candidate.getByTestId('exam-start')).toBeDisabled()
    await axe(candidate, 'exam-room-before-checkin')

    // ---------------------------------------------------------------- the proctor verifies at the desk
    const proctor = await cameraPage(playwright.chromium, baseURL, fixture.sameY4m)
    await signIn(proctor, fixture.proctor, fixture.proctorPassword)
    await proctor.goto(`/institution/exam/checkin/${fixture.candidateId}`)
    await expect(proctor.getByTestId('checkin-candidate-info')).toContainText(fixture.name)
    await expect
      .poll(() => proctor.getByTestId('checkin-video').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 30_000 })
      .toBeGreaterThan(0)
    await proctor.getByTestId('checkin-capture').click()
    await expect(proctor.getByTestId('checkin-result')).toHaveAttribute('data-state', 'passed', { timeout: 150_000 })
    await proctor.screenshot({ path: 'test-results/screens/exam-room-desk-verified.png', fullPage: true })

    // ---------------------------------------------------------------- too early, then the session starts
    await candidate.reload()
    await expect(candidate.getByTestId('exam-checkin-state')).toHaveText('已通过')
    await candidate.getByTestId('exam-start').click()
    await expect(candidate.getByTestId('exam-start-problem')).toContainText('考场尚未开考')
    offset = (startsAt - Date.now()) / 1000 + 2
    moveExamClock(offset)
    await candidate.getByTestId('exam-start').click()

    // ---------------------------------------------------------------- consent, then the paper
    const consent = candidate.getByTestId('exam-consent')
    await expect(consent).toContainText('动态人脸核验', { timeout: 30_000 })
    await expect(consent).toContainText('保存期限')
    await expect(candidate.getByTestId('exam-consent-submit')).toBeDisabled()
    await axe(candidate, 'exam-room-consent')
    await candidate.getByTestId('exam-consent-check').click()
    await candidate.getByTestId('exam-consent-submit').click()
    await expect(candidate.getByTestId('exam-question')).toBeVisible()
    await expect(candidate.getByTestId('exam-countdown')).toContainText(/0[12]:[0-5]\d:\d\d/)
    // 交卷 refused during the first 30 minutes, with the time left
    await expect(candidate.getByTestId('exam-submit')).toBeDisabled()
    await expect(candidate.getByTestId('exam-submit-wait')).toContainText(/开考 30 分钟后方可交卷，还需等待 (30|29) 分钟/)

    // answers saved one by one; question 2 marked
    await candidate.getByTestId('exam-option-0').click()
    await expect(candidate.getByTestId('exam-save-state')).toContainText('已保存', { timeout: 30_000 })
    await candidate.getByTestId('exam-next').click()
    await expect(candidate.getByTestId('exam-question-number')).toContainText('第 2 题')
    await candidate.getByTestId('exam-mark').click()
    await expect(candidate.getByTestId('exam-cell-1')).toHaveAttribute('data-state', 'answered')
    await expect(candidate.getByTestId('exam-cell-2')).toHaveAttribute('data-state', 'marked')

    // the camera frames of the same person: sent, answered as a match, no alert
    await expect(candidate.getByTestId('exam-live-state')).toContainText('已上传 1 张', { timeout: 60_000 })
    const first = await checksUntil(request, proctorToken, 'the same face answered', (c) => count(c, 'match') >= 1)
    expect(count(first, 'mismatch'), JSON.stringify(first)).toBe(0)
    await axe(candidate, 'exam-room-paper')

    // the network goes down: the answer is kept on this computer and sent when it is back
    await candidate.context().setOffline(true)
    await candidate.getByTestId('exam-cell-3').click()
    await candidate.getByTestId('exam-option-1').click()
    await expect(candidate.getByTestId('exam-save-state')).toContainText('网络中断，答案已在本机暂存，恢复后自动提交')
    await candidate.screenshot({ path: 'test-results/screens/exam-room-offline.png', fullPage: true })
    await candidate.context().setOffline(false)
    await expect(candidate.getByTestId('exam-save-state')).toContainText('已保存', { timeout: 30_000 })
    await expect(candidate.getByTestId('exam-counts')).toContainText('已作答 2 /')

    // the proctor's panel: nothing to report
    await proctor.goto(`/institution/exam/live-alerts/${fixture.sessionId}`)
    await expect(proctor.getByTestId('alerts-summary')).toContainText('待处理提醒 0 条')
    await expect(proctor.getByTestId('alerts-empty')).toBeVisible()
    await candidate.context().browser()?.close()

    // ---------------------------------------------------------------- 31 minutes later, another face
    offset += 31 * 60
    moveExamClock(offset)
    const other = await cameraPage(playwright.chromium, baseURL, fixture.otherY4m)
    await signIn(other, fixture.person, fixture.personPassword)
    await other.goto(`/exam-room/${fixture.candidateId}`)
    await expect(other.getByTestId('exam-question')).toBeVisible({ timeout: 30_000 }) // consented already
    await expect(other.getByTestId('exam-counts')).toContainText('已作答 2 /') // the saved answers
    await expect(other.getByTestId('exam-countdown')).toContainText(/01:[23]\d:\d\d/)
    await expect(other.getByTestId('exam-submit-wait')).toHaveText('可以交卷')
    await expect(other.getByTestId('exam-live-state')).toContainText('已上传 1 张', { timeout: 60_000 })

    const alert = proctor.getByTestId('live-alert').first()
    await expect(alert).toBeVisible({ timeout: 150_000 })
    await expect(alert).toContainText(fixture.name)
    await expect(alert.getByTestId('alert-reason')).toContainText('不一致')
    await expect(alert.getByTestId('alert-frame')).toBeVisible()
    await expect
      .poll(() => alert.getByTestId('alert-frame').evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 20_000 })
      .toBeGreaterThan(0)
    await expect(alert.getByTestId('alert-photo')).toBeVisible({ timeout: 20_000 })
    await axe(proctor, 'exam-room-proctor-alert')

    // two more frames of the other face (the page reloaded, the clock past the minimum gap between frames)
    for (const n of [2, 3]) {
      offset += 25
      moveExamClock(offset)
      await other.reload()
      await expect(other.getByTestId('exam-live-state')).toContainText('已上传 1 张', { timeout: 60_000 })
      await checksUntil(request, proctorToken, `${n} mismatches answered`, (c) => count(c, 'mismatch') >= n)
    }
    const streak = await liveChecks(request, proctorToken)
    expect(streak.consecutive_mismatches, JSON.stringify(streak)).toBeGreaterThanOrEqual(3)

    // ---------------------------------------------------------------- submitted, the score at once
    await other.getByTestId('exam-submit').click()
    const confirm = other.getByTestId('exam-submit-confirm')
    await expect(confirm).toContainText('未作答')
    await expect(other.getByTestId('exam-unanswered')).toContainText('第 2、')
    await other.screenshot({ path: 'test-results/screens/exam-room-confirm.png', fullPage: true })
    await other.getByRole('button', { name: '确认交卷' }).click()
    const result = other.getByTestId('exam-result')
    await expect(result).toContainText('试卷已提交', { timeout: 30_000 })
    await expect(other.getByTestId('exam-score')).toContainText(/\d+ 分/)
    await expect(other.getByTestId('exam-verdict')).toHaveText(/合格|不合格/)
    await axe(other, 'exam-room-result')
    console.log(`exam room: ${await other.getByTestId('exam-score').innerText()}`)

    // the proctor: three mismatches in a row let 记录违纪 name the frame; the older alerts dismissed
    await expect(proctor.getByTestId('alert-violation').first()).toBeVisible({ timeout: 30_000 })
    await expect(proctor.getByTestId('alert-streak').first()).toContainText('可记录违纪')
    await axe(proctor, 'exam-room-proctor-violation-allowed')
    await proctor.getByTestId('alert-violation').first().click()
    await proctor.getByTestId('alert-violation-submit').click()
    await expect(proctor.locator('.el-message', { hasText: '违纪已记录' })).toBeVisible({ timeout: 30_000 })
    while ((await proctor.getByTestId('alert-dismiss').count()) > 0) {
      const before = await proctor.getByTestId('live-alert').count()
      await proctor.getByTestId('alert-dismiss').first().click()
      await expect(proctor.getByTestId('live-alert')).toHaveCount(before - 1, { timeout: 30_000 })
    }
    await expect(proctor.getByTestId('alerts-empty')).toBeVisible()
    await proctor.getByTestId('alerts-open-only').click() // all of them: one recorded, the others dismissed
    await expect(proctor.getByTestId('live-alert').filter({ hasText: '已记录违纪' })).toHaveCount(1, { timeout: 30_000 })
    await proctor.screenshot({ path: 'test-results/screens/exam-room-proctor-handled.png', fullPage: true })

    // the schedule shows the score too
    await other.goto('/person/exams')
    await expect(other.getByTestId('exam-group').first()).toContainText('分（满分', { timeout: 30_000 })
    await other.screenshot({ path: 'test-results/screens/exam-room-schedule-after.png', fullPage: true })
    await other.context().browser()?.close()
    await proctor.context().browser()?.close()
  })
})
