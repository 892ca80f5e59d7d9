// Rules and small helpers of the administrator's console (pure functions, tested in admin.test.ts).
import type { AdminStats, BlacklistEntry, CountTable } from './types'

/** Every service answers its own dead letters (`/api/<service>/admin/dead-letters`). */
export const SERVICES = [
  { key: 'gateway', label: '网关（账号与登录）' },
  { key: 'registration', label: '企业注册' },
  { key: 'enrollment', label: '报名与培训' },
  { key: 'payment', label: '订单缴费' },
  { key: 'exam', label: '考试' },
  { key: 'certification', label: '证书' },
] as const
export type ServiceKey = (typeof SERVICES)[number]['key']

/** The services that count the dashboard's figures from their own read models. */
export const STATS_SERVICES = ['registration', 'enrollment', 'exam', 'certification'] as const

export const ROLES = [
  { value: 'reviewer', label: '市级建设主管部门审核员' },
  { value: 'institution', label: '培训机构' },
  { value: 'admin', label: '管理员' },
  { value: 'enterprise', label: '企业' },
] as const

export function serviceLabel(key: string): string {
  return SERVICES.find((s) => s.key === key)?.label ?? key
}

/** A rate (0–1) as a percentage with one decimal, or a dash when nobody counts yet. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`
}

/** One cell of a service's table, e.g. the pending registrations of every city together. */
export function total(stats: AdminStats | undefined, table: number, column?: string): number | undefined {
  const t: CountTable | undefined = stats?.tables[table]
  if (!t) return undefined
  return column === undefined ? t.totals.total : (t.totals.counts[column] ?? 0)
}

export interface NewAccountForm {
  username: string
  role: string
  city: string
  org_id: string
  display_name: string
}

/** What the gateway would refuse in a new account, said before sending (null: fine). */
export function accountProblem(form: NewAccountForm): string | null {
  const username = form.username.trim()
  if (!username) return '请填写用户名'
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$/.test(username)) {
    return '用户名须为 3–64 位英文字母、数字或 _ . @ -，并以字母或数字开头'
  }
  if (!form.role) return '请选择角色'
  if (form.role === 'reviewer' && !form.city) return '审核员账号须选择所属城市'
  if (form.role === 'institution' && !form.org_id.trim()) return '培训机构账号须填写机构编号'
  return null
}

/** The request body of a new account (empty optional fields left out). */
export function accountBody(form: NewAccountForm): Record<string, string> {
  const body: Record<string, string> = { username: form.username.trim(), role: form.role }
  if (form.city) body.city = form.city
  if (form.org_id.trim()) body.org_id = form.org_id.trim()
  if (form.display_name.trim()) body.display_name = form.display_name.trim()
  return body
}

/** YYYY-MM-DD of a local date. */
export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** The last day of a blacklisting: `days` days from `today` (today counts as the first), or the date chosen. */
export function blacklistUntil(mode: 'days' | 'date', days: number, date: string, today: Date): string | null {
  if (mode === 'date') return date || null
  if (!Number.isInteger(days) || days < 1) return null
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate() + days - 1)
  return isoDate(end)
}

/** Whether the entry still applies on `today` (YYYY-MM-DD), with the label and the tag's colour. */
export function blacklistState(entry: BlacklistEntry, today: string): { label: string; type: 'danger' | 'info' | 'success' } {
  if (entry.lifted) return { label: '已解除', type: 'success' }
  if (entry.until < today) return { label: '已到期', type: 'info' }
  return { label: '生效中', type: 'danger' }
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

/** An 18-character resident ID number with the right check character (GB 11643-1999). */
export function validIdNumber(value: string): boolean {
  const v = value.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(v)) return false
  const sum = [...v.slice(0, 17)].reduce((n, ch, i) => n + Number(ch) * ID_WEIGHTS[i], 0)
  return '10X98765432'[sum % 11] === v[17]
}

/** Ask `check` again (every `delayMs`) until it answers true, at most `attempts` times: a read model may lag
 * the command that was just accepted by a moment ("处理中"). */
export async function untilTrue(check: () => Promise<boolean>, attempts = 30, delayMs = 1000): Promise<boolean> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return true
    if (i < attempts - 1) await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
  return false
}
