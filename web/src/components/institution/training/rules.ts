// The rules the enrollment service enforces on training plans (services/enrollment/enrollment/domain/
// training.py) and the certification service on continuing-education hours (domain/hours.py), checked in the
// page before anything is sent, so that the institution sees why before the click. The service still decides:
// its refusal (problem+json with per-person reasons) is shown when it comes.
import type { ApplicantRow, HoursEntry, PlanForm, PlanRequest, PlanSummary, Trainee } from './types'

export const POSITIONS = ['施工员', '质量员', '安全员', '标准员', '材料员', '机械员', '劳务员', '资料员']
export const MODES: Record<string, string> = { online: '线上', offline: '线下' }
export const NAME_MAX = 100
export const PLACE_MAX = 200
export const PLATFORM_MAX = 300
export const SCHEDULE_MAX = 4000
export const MAX_PLAN_HOURS = 200
export const MAX_APPLICANTS_PER_REQUEST = 500

export interface FieldProblem { field: string; message: string }

const DATE = /^\d{4}-\d{2}-\d{2}$/
const URL_RE = /^https?:\/\/[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$/i
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/** A real calendar day `YYYY-MM-DD`, else null. */
export function parseDate(text: string | null | undefined): Date | null {
  const value = (text ?? '').trim()
  if (!DATE.test(value)) return null
  const [y, m, d] = value.split('-').map(Number)
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? date : null
}

/** A platform given by name passes; one given as an address (a scheme, or `www.`) must be a web URL. */
export function platformUrlOk(platform: string): boolean {
  if (SCHEME.test(platform)) return URL_RE.test(platform)
  if (platform.toLowerCase().startsWith('www.')) return URL_RE.test(`https://${platform}`)
  return true
}

function given(value: unknown): boolean {
  return value !== null && value !== undefined && !(typeof value === 'string' && !value.trim())
}

/** Every problem of a plan form at once, with the service's Chinese messages (validate_plan). */
export function planProblems(form: PlanForm | PlanRequest): FieldProblem[] {
  const problems: FieldProblem[] = []
  const problem = (field: string, message: string) => problems.push({ field, message })
  const name = (form.name ?? '').trim()
  if (!name) problem('name', '请填写计划名称')
  else if (name.length > NAME_MAX) problem('name', `计划名称不能超过 ${NAME_MAX} 个字`)

  const mode = (form.training_mode ?? '').trim().toLowerCase()
  if (!mode) problem('training_mode', '请选择培训方式：线上或线下')
  else if (!(mode in MODES)) problem('training_mode', '培训方式应为线上或线下')

  const position = (form.position ?? '').trim()
  if (!position) problem('position', '请选择岗位')
  else if (!POSITIONS.includes(position)) problem('position', `岗位应为以下之一：${POSITIONS.join('、')}`)

  const labels: Record<string, string> = { starts_on: '开始日期', ends_on: '结束日期' }
  const dates: Record<string, Date | null> = {}
  for (const key of ['starts_on', 'ends_on'] as const) {
    const raw = (form[key] ?? '').trim()
    dates[key] = parseDate(raw)
    if (!raw) problem(key, `请填写${labels[key]}`)
    else if (!dates[key]) problem(key, `${labels[key]}应为有效日期，格式 YYYY-MM-DD（如 2026-03-01）`)
  }
  if (dates.starts_on && dates.ends_on && dates.ends_on < dates.starts_on) {
    problem('ends_on', `结束日期（${form.ends_on}）不能早于开始日期（${form.starts_on}）`)
  }

  const place = (form.place ?? '').trim()
  if (mode === 'offline' && !place) problem('place', '线下培训须填写培训地点')
  else if (place.length > PLACE_MAX) problem('place', `培训地点不能超过 ${PLACE_MAX} 个字`)

  const platform = (form.platform ?? '').trim()
  if (mode === 'online' && !platform) problem('platform', '线上培训须填写网络培训平台（名称或网址）')
  else if (platform.length > PLATFORM_MAX) problem('platform', `网络培训平台不能超过 ${PLATFORM_MAX} 个字`)
  else if (!platformUrlOk(platform)) problem('platform', '网络培训平台网址不正确，应为 http:// 或 https:// 开头的完整网址')

  if ((form.schedule ?? '').trim().length > SCHEDULE_MAX) problem('schedule', `课程安排不能超过 ${SCHEDULE_MAX} 个字`)

  const hourLabels: Record<string, string> = { professional_hours: '专业科目学时', general_hours: '公共科目学时' }
  if (!form.continuing_education) {
    for (const key of ['professional_hours', 'general_hours'] as const) {
      if (given(form[key])) problem(key, `新取证培训计划不登记学时（学时只用于继续教育计划），请不要填写${hourLabels[key]}`)
    }
    return problems
  }
  const hours: number[] = []
  for (const key of ['professional_hours', 'general_hours'] as const) {
    const value = form[key]
    if (!given(value)) problem(key, `继续教育培训计划须填写${hourLabels[key]}（没有的填 0）`)
    else if (typeof value !== 'number' || !Number.isFinite(value)) problem(key, `${hourLabels[key]}应为数字`)
    else if (value < 0) problem(key, `${hourLabels[key]}不能为负数`)
    else if (value > MAX_PLAN_HOURS) problem(key, `${hourLabels[key]}不能超过 ${MAX_PLAN_HOURS} 学时`)
    else hours.push(value)
  }
  if (hours.length === 2) {
    const total = hours[0] + hours[1]
    if (total <= 0) problem('professional_hours', '继续教育培训计划的学时合计须大于 0')
    else if (total > MAX_PLAN_HOURS) problem('professional_hours', `继续教育培训计划的学时合计（${total}）不能超过 ${MAX_PLAN_HOURS} 学时`)
  }
  return problems
}

/** The request body of a form: blanks left out, hours only for a continuing-education plan. */
export function planBody(form: PlanForm | PlanRequest): PlanRequest {
  const text = (v: string | null | undefined) => (v ?? '').trim() || null
  const mode = text(form.training_mode)
  return {
    name: text(form.name),
    training_mode: mode,
    position: text(form.position),
    starts_on: text(form.starts_on),
    ends_on: text(form.ends_on),
    place: mode === 'offline' ? text(form.place) : null,
    platform: mode === 'online' ? text(form.platform) : null,
    schedule: text(form.schedule),
    continuing_education: form.continuing_education,
    professional_hours: form.continuing_education ? (form.professional_hours ?? null) : null,
    general_hours: form.continuing_education ? (form.general_hours ?? null) : null,
  }
}

/** A trainee-to-be's hints: why the service would refuse adding this applicant to the plan (refuse_trainee). */
export function addRefusals(plan: PlanSummary, a: ApplicantRow, otherPlan?: string | null): string[] {
  const reasons: string[] = []
  if (otherPlan) reasons.push(`已在其他培训计划中（${otherPlan}）`)
  if (!otherPlan && a.status !== 'enrolled') {
    reasons.push(`学员当前状态为“${a.status_label}”，须为“已报名”（已缴费确认）才能安排培训`)
  }
  if (a.training_mode !== plan.training_mode) {
    reasons.push(`报名的培训方式为${MODES[a.training_mode] ?? a.training_mode}，与本计划（${MODES[plan.training_mode] ?? plan.training_mode}）不一致`)
  }
  if (a.position !== plan.position) reasons.push(`报名的岗位为${a.position}，与本计划的岗位（${plan.position}）不一致`)
  if (Boolean(a.continuing_education) !== plan.continuing_education) {
    const kind = a.continuing_education ? '继续教育' : '新取证培训'
    reasons.push(`${kind}学员不能加入${plan.continuing_education ? '继续教育' : '新取证培训'}计划`)
  }
  return reasons
}

/** What GET /api/enrollment/applicants/{id} says of a trainee (the fields the exam application depends on). */
export interface TraineeFacts {
  status: string
  status_label: string
  continuing_education: boolean
  head_photo: { source?: string; photo_ok?: boolean | null; photo_problems?: Array<{ message: string }> } | null
  head_photo_locked: boolean
}

export const CE_NO_EXAM_MESSAGE = '继续教育学员不参加考试：完成继续教育培训后由证书服务登记学时'

export interface ExamHint {
  /** may be sent to the exam now */
  eligible: boolean
  /** a failed exam: this application is a 补考 */
  retake: boolean
  /** already applied, nothing to do */
  applied: boolean
  /** why not (the service's rules, refuse_exam_application and exam_photo) */
  reasons: string[]
  /** short tags for the table */
  tags: Array<{ text: string; type: 'success' | 'warning' | 'danger' | 'info' }>
}

/** Whether the service would apply for the exam for this trainee, and why not (before the click). */
export function examHint(plan: PlanSummary, t: Trainee, facts: TraineeFacts | undefined): ExamHint {
  const hint: ExamHint = { eligible: false, retake: false, applied: false, reasons: [], tags: [] }
  if (plan.continuing_education || facts?.continuing_education) {
    hint.reasons.push(CE_NO_EXAM_MESSAGE)
    hint.tags.push({ text: '继续教育 不参加考试', type: 'info' })
    return hint
  }
  if (!facts) {
    hint.reasons.push('正在读取学员状态…')
    return hint
  }
  if (facts.status === 'exam_applied') {
    hint.applied = true
    hint.reasons.push('已申请考试')
    hint.tags.push({ text: '已申请，无需重复申请', type: 'success' })
    return hint
  }
  if (facts.status === 'exam_passed') {
    hint.reasons.push('该学员已考试合格，无需再申请考试')
    hint.tags.push({ text: '考试合格', type: 'success' })
    return hint
  }
  if (!t.completed) {
    hint.reasons.push('尚未完成培训，完成培训后才能申请考试')
    hint.tags.push({ text: '未完成培训', type: 'warning' })
  }
  if (facts.status !== 'enrolled' && facts.status !== 'exam_failed') {
    hint.reasons.push(`学员当前状态为“${facts.status_label}”，不能申请考试`)
    hint.tags.push({ text: facts.status_label, type: 'danger' })
  }
  if (!facts.head_photo_locked) {
    const photo = facts.head_photo
    if (!photo) {
      hint.reasons.push('没有头像照片（考试人脸核验需要），请企业上传报名资料中的头像或学员在“我的资料”中上传头像')
      hint.tags.push({ text: '无头像', type: 'danger' })
    } else if (photo.photo_ok === false) {
      const problems = (photo.photo_problems ?? []).map((p) => p.message).join('；') || '头像不符合要求'
      hint.reasons.push(`头像不符合要求（${problems}），请重新上传符合要求的头像后再申请考试`)
      hint.tags.push({ text: '头像不合格', type: 'danger' })
    }
  }
  if (facts.status === 'exam_failed') {
    hint.retake = true
    hint.tags.push({ text: '可补考', type: 'warning' })
  }
  hint.eligible = hint.reasons.length === 0
  return hint
}

export const HOURS_MIN = 0.5
export const HOURS_MAX = 12
export const HOURS_STEP = 0.5
export const KINDS: Record<string, string> = { professional: '专业科目', general: '公共科目' }

/** Every problem of one hours record, with the service's messages (record_problems). */
export function hoursProblems(entry: HoursEntry, issuedOn: string, today: string): FieldProblem[] {
  const problems: FieldProblem[] = []
  const studied = parseDate(entry.studied_on)
  if (!studied) problems.push({ field: 'studied_on', message: '请选择学习日期' })
  else {
    if (entry.studied_on > today) problems.push({ field: 'studied_on', message: '学习日期不能晚于今天' })
    if (entry.studied_on < issuedOn) problems.push({ field: 'studied_on', message: `学习日期不能早于发证日期 ${issuedOn}` })
  }
  const h = entry.hours
  if (h === null || !Number.isFinite(h)) problems.push({ field: 'hours', message: '请填写学时' })
  else if (h < HOURS_MIN || h > HOURS_MAX || Math.abs(h / HOURS_STEP - Math.round(h / HOURS_STEP)) > 1e-9) {
    problems.push({ field: 'hours', message: `每条记录学时应在 ${HOURS_MIN} 至 ${HOURS_MAX} 之间，且为 ${HOURS_STEP} 的整数倍` })
  }
  if (!(entry.kind in KINDS)) problems.push({ field: 'kind', message: '请选择学时类别：专业科目或公共科目' })
  const course = entry.course.trim()
  if (!course) problems.push({ field: 'course', message: '请填写课程名称' })
  else if (course.length > 100) problems.push({ field: 'course', message: '课程名称不能超过 100 个字' })
  return problems
}

/** Today in China (UTC+8), `YYYY-MM-DD`: the certification service's day. */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
}
