// The training institution's training plans and continuing-education hours, in the browser. Set up through
// the API (institution-training-support.ts): three applicants 已报名, two with a head photo that passes the
// rules and one without. Then as the institution: create a plan (the form's checks first), add the trainees,
// record completion, see the one without a head photo flagged before the click, apply for the exam for the
// others; record hours for a legacy certificate, import an hours sheet with errors (the row table), then a
// correct one. A screenshot and an axe check of every page.
import { expect, test, type Page } from '@playwright/test'
import { buildXlsx } from '../src/components/enterprise/problems-export'
import { RUN, axe, chinaDay, setUp } from './institution-training-support'

async function nav(page: Page, title: string, path: string): Promise<void> {
  await page.getByRole('menuitem', { name: title }).click()
  await page.waitForURL(`**${path}`)
}

/** Choose `option` in the Element Plus select inside `scope`. */
async function choose(page: Page, scope: string, option: string): Promise<void> {
  await page.locator(scope).locator('.el-select__wrapper, .el-select').first().click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

async function xlsx(rows: string[][]): Promise<Buffer> {
  return Buffer.from(await buildXlsx(rows).arrayBuffer())
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const HOURS_HEADER = ['证书编号', '身份证号', '学习日期', '学时', '类别', '课程名称']

test('institution: training plan (create, trainees, completion, exam with hints), continuing-education hours (record, import)', async ({
  page,
  request,
}) => {
  test.setTimeout(600_000) // a loaded machine: the set-up waits on several services learning of events
  await page.goto('/login')
  const s = await setUp(request, page, [
    { name: '张三', photo: true },
    { name: '李四', photo: true },
    { name: '王五', photo: false },
  ])

  // sign in as the institution
  await page.getByLabel('用户名').fill(s.institutionUser)
  await page.getByLabel('密码', { exact: true }).fill(s.institutionPassword)
  await page.getByRole('button', { name: /登\s*录/ }).click()
  await expect(page.getByTestId('layout-user')).toBeVisible()

  // 1. the plans' list; a new plan: the form's checks before anything is sent
  await nav(page, '培训计划', '/institution/training-plans')
  await expect(page.getByRole('heading', { name: '培训计划' })).toBeVisible()
  await axe(page, 'institution-training-plans-empty')
  await page.getByTestId('new-plan').click()
  const dialog = page.getByRole('dialog', { name: '新建培训计划' })
  await dialog.getByLabel('开始日期').fill(chinaDay(2))
  await dialog.getByLabel('结束日期').fill(chinaDay(0))
  await dialog.getByTestId('create-plan').click()
  await expect(dialog).toContainText('请填写计划名称')
  await expect(dialog).toContainText('请选择岗位')
  await expect(dialog).toContainText('不能早于开始日期')
  await expect(dialog).toContainText('线下培训须填写培训地点')
  await axe(page, 'institution-training-plan-form-errors')

  const planName = `施工员线下培训班${RUN}`
  await dialog.getByLabel('计划名称').fill(planName)
  await choose(page, '[data-testid=plan-position]', '施工员')
  await dialog.getByLabel('开始日期').fill(chinaDay(-3))
  await dialog.getByLabel('结束日期').fill(chinaDay(1))
  await dialog.getByLabel('培训地点').fill('杭州市西湖区文三路 90 号 3 楼')
  await dialog.getByLabel('课程安排').fill('每天 9:00-12:00 建筑施工技术；13:30-17:00 法规与安全生产')
  await dialog.getByTestId('create-plan').click()
  await expect(dialog).toBeHidden()
  const plans = page.getByTestId('plans')
  await expect(plans).toContainText(planName, { timeout: 40_000 })
  await axe(page, 'institution-training-plans')

  // 2. the plan's page: add the three enrolled applicants
  await plans.getByRole('link', { name: planName }).click()
  await page.waitForURL('**/institution/training-plans/*')
  await expect(page.getByTestId('plan-info')).toContainText('杭州市西湖区文三路 90 号 3 楼')
  await page.getByTestId('add-trainees').click()
  const add = page.getByRole('dialog', { name: '加入学员' })
  const candidates = add.getByTestId('candidates')
  for (const a of s.applicants) await expect(candidates).toContainText(a.id, { timeout: 30_000 })
  await expect(candidates.getByText('可加入')).toHaveCount(3)
  for (const a of s.applicants) await add.getByLabel(`加入${a.name}`).check()
  await axe(page, 'institution-training-add-trainees')
  await add.getByTestId('confirm-add').click()
  await expect(add).toBeHidden()
  const trainees = page.getByTestId('trainees')
  for (const a of s.applicants) await expect(trainees).toContainText(a.name, { timeout: 40_000 })
  await expect(trainees.getByText('已安排培训')).toHaveCount(3)
  // before completion: nobody may go to the exam yet, and the reason is shown
  await expect(page.getByTestId('exam-hint-张三')).toContainText('未完成培训')
  await expect(page.getByTestId('exam-hint-王五')).toContainText('无头像')
  await axe(page, 'institution-training-plan-planned')

  // 3. completion for all three
  await page.getByRole('button', { name: '全选可办理的学员' }).click()
  await expect(page.getByTestId('complete')).toHaveText('登记培训完成（3）')
  await page.getByTestId('complete').click()
  await expect(trainees.getByText('已完成培训')).toHaveCount(3, { timeout: 40_000 })

  // 4. the exam: 王五 has no head photo — flagged and not selectable before any click; the others go
  const wang = page.getByTestId('exam-hint-王五')
  await expect(wang).toContainText('无头像')
  await expect(wang).toContainText('没有头像照片')
  await expect(page.getByLabel('选择王五')).toBeDisabled()
  await expect(page.getByTestId('exam-hint-张三')).toContainText('可申请考试')
  await page.getByRole('button', { name: '全选可办理的学员' }).click()
  await expect(page.getByTestId('apply-exam')).toContainText('申请考试（2')
  await axe(page, 'institution-training-plan-completed')
  await page.getByTestId('apply-exam').click()
  await expect(page.getByTestId('outcome')).toContainText('已为 2 名学员申请考试', { timeout: 40_000 })
  await expect(trainees.getByText('已申请考试')).toHaveCount(2, { timeout: 40_000 })
  await expect(page.getByTestId('exam-hint-王五')).toContainText('无头像')
  await axe(page, 'institution-training-plan-applied')

  // 5. continuing-education hours of the legacy certificate: one record
  await nav(page, '继续教育学时', '/institution/hours')
  const certificates = page.getByTestId('certificates')
  await expect(async () => {
    await page.getByTestId('find-certificates').click()
    await expect(certificates).toContainText(s.certificate.number, { timeout: 3_000 })
  }).toPass({ timeout: 60_000, intervals: [1_000] })
  await page.getByLabel('姓名或身份证号').fill(s.certificate.holder)
  await page.getByRole('button', { name: `登记${s.certificate.holder}的学时` }).click()
  const hours = page.getByTestId('certificate-hours')
  await expect(hours.getByTestId('cycles')).toContainText('第 1 期')
  const form = hours.getByTestId('hours-form')
  await form.getByTestId('record-hours').click()
  await expect(form).toContainText('请选择学习日期')
  await expect(form).toContainText('请填写课程名称')
  await form.getByLabel('学习日期').fill(chinaDay(-10))
  await form.locator('input[aria-label="学时"]').fill('4')
  await form.getByText('专业科目', { exact: true }).click()
  await form.getByLabel('课程名称').fill('建筑施工新规范解读')
  await form.getByTestId('record-hours').click()
  await expect(hours.getByTestId('records')).toContainText('建筑施工新规范解读', { timeout: 30_000 })
  await expect(hours.getByTestId('cycles')).toContainText('4 学时（4 / 0）')
  await axe(page, 'institution-training-hours')

  // 6. an hours sheet with errors: the row table; then a correct one
  const upload = page.getByTestId('hours-upload').locator('input[type=file]')
  await upload.setInputFiles({
    name: '学时登记表.xlsx', mimeType: XLSX_TYPE,
    buffer: await xlsx([HOURS_HEADER, [s.certificate.number, '330106199001011234', chinaDay(-5), '3', '公共科目', '安全生产法规'], [s.certificate.number, s.certificate.id, chinaDay(-4), '30', '专业科目', '施工组织设计']]),
  })
  await page.getByTestId('import-hours').click()
  const problems = page.getByTestId('hours-problems')
  await expect(problems).toContainText('未导入任何数据', { timeout: 30_000 })
  await expect(problems).toContainText('第 2 行 · 身份证号')
  await expect(problems).toContainText('身份证号与该证书持证人不一致')
  await expect(problems).toContainText('第 3 行 · 学时')
  await axe(page, 'institution-training-hours-import-problems')

  await upload.setInputFiles({
    name: '学时登记表.xlsx', mimeType: XLSX_TYPE,
    buffer: await xlsx([HOURS_HEADER, [s.certificate.number, s.certificate.id, chinaDay(-5), '3', '公共科目', '安全生产法规'], [s.certificate.number, s.certificate.id, chinaDay(-4), '6', '专业科目', '施工组织设计']]),
  })
  await page.getByTestId('import-hours').click()
  await expect(page.getByTestId('hours-imported')).toContainText('导入成功：2 条学时记录', { timeout: 30_000 })
  await expect(problems).toBeHidden()
  await expect(hours.getByTestId('records')).toContainText('施工组织设计', { timeout: 30_000 })
  await expect(hours.getByTestId('cycles')).toContainText('13 学时（10 / 3）')
  await axe(page, 'institution-training-hours-imported')
})
