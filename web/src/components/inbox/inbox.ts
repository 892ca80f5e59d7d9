// 站内消息: the pure parts (badge text, labels, times, order) and the unread count shared by the bell and
// the inbox page (the page updates it after marking messages read, so the bell does not wait for its poll).
import { ref } from 'vue'
import type { Schema } from '@/api/types'

export type InboxMessage = Schema<'InboxMessage'>
export type InboxPage = Schema<'InboxPage'>

export const POLL_MS = 30_000

/** The unread count the bell shows (null: not known yet). */
export const unreadCount = ref<number | null>(null)

/** The badge over the bell: nothing at zero, the number, or 99+ beyond 99. */
export function badgeText(count: number | null): string {
  if (!count || count <= 0) return ''
  return count > 99 ? '99+' : String(count)
}

const KIND_LABELS: Record<string, string> = {
  registration_approved: '注册审核',
  registration_rejected: '注册审核',
  applicant_qualified: '资格审核',
  applicant_rejected: '资格审核',
  voucher_confirmed: '缴费',
  voucher_rejected: '缴费',
  training_planned: '培训',
  exam_scheduled: '考试安排',
  exam_passed: '考试成绩',
  exam_failed: '考试成绩',
  certificate_issued: '证书',
  ce_reminder: '继续教育',
  person_blacklisted: '黑名单',
  certificate_revoked: '证书',
}

/** The category of a message kind, in Chinese ('通知' for a kind this page does not know yet). */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? '通知'
}

const WARNINGS = new Set(['registration_rejected', 'applicant_rejected', 'voucher_rejected', 'exam_failed'])
const DANGERS = new Set(['person_blacklisted', 'certificate_revoked'])

/** The colour of a message's tag. */
export function kindType(kind: string): 'success' | 'warning' | 'danger' | 'info' {
  if (DANGERS.has(kind)) return 'danger'
  if (WARNINGS.has(kind)) return 'warning'
  if (kind === 'ce_reminder' || kind === 'exam_scheduled' || kind === 'training_planned') return 'info'
  return 'success'
}

/** `2026-12-03 09:30` in China time (the API answers in China time; any offset is converted). */
export function chinaMinute(iso: string | null | undefined): string {
  if (!iso) return '—'
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return '—'
  const china = new Date(at.getTime() + 8 * 3600_000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return (
    `${china.getUTCFullYear()}-${pad(china.getUTCMonth() + 1)}-${pad(china.getUTCDate())} ` +
    `${pad(china.getUTCHours())}:${pad(china.getUTCMinutes())}`
  )
}

/** Unread first, each group newest first (the order the page shows a mixed list in). */
export function unreadFirst<T extends { read: boolean; created_at: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => {
    if (a.read !== b.read) return a.read ? 1 : -1
    return new Date(b.created_at).getTime() - new Date(a.created_at).getTime()
  })
}

/** The messages after one was marked read (a new list; the others unchanged). */
export function markedRead<T extends { id: string; read: boolean }>(items: readonly T[], id: string): T[] {
  return items.map((item) => (item.id === id ? { ...item, read: true } : item))
}
