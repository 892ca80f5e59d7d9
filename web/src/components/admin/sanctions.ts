// Rules of the institution-sanction form (pure functions, tested in sanctions.test.ts). The server decides;
// these only say before sending what it would refuse.

export const SANCTION_KINDS = [
  { value: 'warning', label: '警告（记录在案，不限制业务）' },
  { value: 'suspend_enrollment', label: '暂停招生（不能新报名，不出现在查找与比较中）' },
  { value: 'suspend_exam_sessions', label: '暂停考试安排（不能新建考场）' },
] as const

export interface SanctionForm {
  kind: string
  period: [string, string] | null // inclusive dates YYYY-MM-DD
  reason: string
}

/** Today's date in China time (YYYY-MM-DD), whatever the browser's time zone. */
export function chinaToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

/** What the server would refuse in the form (null: send it). */
export function sanctionProblem(form: SanctionForm, today: string): string | null {
  if (!form.kind) return '请选择处理类型'
  if (form.reason.trim().length < 4) return '请填写处理原因（至少 4 个字）'
  if (form.kind === 'warning') return null
  if (!form.period || !form.period[0] || !form.period[1]) return '暂停须选择期间（开始与结束日期，含当天）'
  if (form.period[0] < today) return `开始日期不能早于今天（${today}）`
  if (form.period[1] < form.period[0]) return '结束日期不能早于开始日期'
  return null
}

/** The request body of `POST /api/enrollment/institutions/{id}/sanctions`. */
export function sanctionBody(form: SanctionForm): { kind: string; reason: string; starts_on?: string; ends_on?: string } {
  const body = { kind: form.kind, reason: form.reason.trim() }
  if (form.kind === 'warning' || !form.period) return body
  return { ...body, starts_on: form.period[0], ends_on: form.period[1] }
}

/** The tag colour of a sanction's state. */
export function sanctionTagType(status: string): 'danger' | 'warning' | 'info' | 'success' {
  if (status === 'in_force') return 'danger'
  if (status === 'scheduled' || status === 'recorded') return 'warning'
  if (status === 'lifted') return 'success'
  return 'info'
}
