// Qualification review: the labels of the eligibility pre-check and of the head-photo rules, and the
// decisions just made (the queue is a read model that lags the decision by a moment: a decided row says
// "处理中" until the read model shows the decision, instead of offering the decision again).
import type { ApplicantStatus, Eligibility, ReviewRefusal } from './types'

export const VERDICTS: Record<string, { label: string; tag: 'success' | 'danger' | 'warning' }> = {
  eligible: { label: '符合报考条件', tag: 'success' },
  not_eligible: { label: '不符合报考条件', tag: 'danger' },
  needs_review: { label: '需人工审核', tag: 'warning' },
}

export const MAJOR_CLASSES: Record<string, string> = {
  own: '土建类本专业',
  related: '土建类相关专业',
  other: '非土建类专业（附件5未列明）',
  unknown: '未知（未填写所学专业）',
}

export const PHOTO_RULES: Record<string, string> = {
  format: '格式（JPEG）',
  file_size: '文件大小（≤ 80 KB）',
  dimensions: '尺寸（一寸照）',
  aspect_ratio: '宽高比（5:7）',
  background: '白色背景',
  face_count: '单人人脸',
  frontal: '正面',
  tilt: '头部不倾斜',
  sharpness: '清晰度',
}

export const STATUSES: Record<string, string> = {
  pending: '待审核', qualified: '已审核', rejected: '未通过', enrolled: '已报名', exam_applied: '已申请考试',
  exam_failed: '考试未通过', exam_passed: '考试合格', closed: '已结束',
}

export const STATUS_TAGS: Record<string, 'success' | 'warning' | 'danger' | 'info' | 'primary'> = {
  pending: 'warning', qualified: 'primary', rejected: 'danger', enrolled: 'success', exam_applied: 'success',
  exam_failed: 'danger', exam_passed: 'success', closed: 'info',
}

/** The documents of an applicant's file in the order a reviewer reads them. */
export const FILE_DOCUMENTS = ['头像', '身份证正面', '身份证反面', '学历证书', '工作年限证明', '报名表']

/** The three factors of the pre-check, in words, for the "education × major × years" table. */
export function eligibilityFactors(a: {
  education?: string
  major?: string
  years_in_post?: number | null
  eligibility?: Eligibility | null
}): Array<{ factor: string; value: string }> {
  const cls = a.eligibility?.major_class
  return [
    { factor: '学历', value: a.education || '（未填写）' },
    { factor: '所学专业', value: `${a.major || '（未填写）'}${cls ? `：${MAJOR_CLASSES[cls] ?? cls}` : ''}` },
    { factor: '岗位工作年限', value: a.years_in_post === null || a.years_in_post === undefined ? '（未填写）' : `${a.years_in_post} 年` },
  ]
}

/** The bulk review's refusals, each with the applicant's name when known. */
export function refusalRows(
  refusals: ReviewRefusal[],
  names: Record<string, string>,
): Array<ReviewRefusal & { name: string }> {
  return refusals.map((r) => ({ ...r, name: names[r.applicant_id] ?? r.applicant_id.slice(0, 8) }))
}

/** Whether a problem's `errors` are a bulk review's refusals (`{applicant_id, code, message}`). */
export function asRefusals(errors: unknown): ReviewRefusal[] {
  if (!Array.isArray(errors)) return []
  return errors.filter(
    (e): e is ReviewRefusal => !!e && typeof e === 'object' && typeof (e as ReviewRefusal).applicant_id === 'string',
  )
}

// ---------------------------------------------------------------- decisions not yet in the read model

interface Decision {
  status: ApplicantStatus
  at: number
}
const decisions = new Map<string, Decision>()
const FORGET_AFTER_MS = 120_000

/** Note a decision just accepted by the API (the status the applicant now has). */
export function noteDecision(applicantId: string, status: ApplicantStatus, now = Date.now()): void {
  decisions.set(applicantId, { status, at: now })
}

/** The decided status of a row the read model does not show yet (null: nothing pending for it). Rows that
 * caught up, and decisions older than two minutes, are forgotten. */
export function pendingDecision(row: { applicant_id: string; status: string }, now = Date.now()): ApplicantStatus | null {
  const d = decisions.get(row.applicant_id)
  if (!d) return null
  if (row.status === d.status || now - d.at > FORGET_AFTER_MS) {
    decisions.delete(row.applicant_id)
    return null
  }
  return d.status
}

export function clearDecisions(): void {
  decisions.clear()
}
