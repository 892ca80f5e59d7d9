// Continuing education (继续教育) as the candidate reads it: per cycle what is done, what is missing and the
// day the certificate lapses if it stays so (the server computes the cycles; these are the sentences).
import type { CycleProgress, HoursProgress } from './types'

export type TagType = 'success' | 'warning' | 'danger' | 'info' | 'primary'

/** Element Plus alerts say "error" where tags say "danger". */
export function alertType(type: TagType): 'success' | 'warning' | 'error' | 'info' {
  return type === 'danger' ? 'error' : type === 'primary' ? 'info' : type
}

const fmt = (n: number) => String(Math.round(n * 10) / 10)

/** The state of one cycle: 已达标 / 进行中 / 未达标 (a completed cycle short of the hours). */
export function cycleState(c: CycleProgress): { label: string; type: TagType } {
  if (c.met) return { label: '已达标', type: 'success' }
  if (c.complete) return { label: '未达标', type: 'danger' }
  return { label: '进行中', type: 'warning' }
}

/** What a cycle still needs, in one sentence. */
export function missingText(c: CycleProgress): string {
  if (c.met) return '本周期学时已达标'
  const parts: string[] = []
  if (c.missing_total > 0) parts.push(`还差 ${fmt(c.missing_total)} 学时`)
  if (c.missing_professional > 0) parts.push(`其中专业科目还差 ${fmt(c.missing_professional)} 学时`)
  const text = parts.length ? parts.join('，') : '学时未达标'
  return c.complete ? `本周期已结束：${text.replace('还差', '差')}` : text
}

/** Percent of the cycle's hours done (0–100), for a progress bar. */
export function percentOf(done: number, required: number): number {
  if (required <= 0) return 100
  return Math.max(0, Math.min(100, Math.round((done / required) * 100)))
}

/** The certificate's outlook: when it lapses if nothing more is studied, or why it is not valid. */
export function outlook(p: HoursProgress): { text: string; type: TagType } {
  if (p.state === 'lapsed') {
    const r = p.retraining
    const since = r?.lapsed_on ? `自 ${r.lapsed_on} 起` : ''
    const need = r && (r.missing_total > 0 || r.missing_professional > 0)
      ? `；恢复有效还需重新培训 ${fmt(r.missing_total)} 学时（其中专业科目 ${fmt(r.missing_professional)} 学时）`
      : ''
    return { text: `证书${since}已失效：继续教育学时不足${need}`, type: 'danger' }
  }
  if (p.state === 'superseded') return { text: '该证书已更新为新的电子证书，不再计算继续教育学时', type: 'info' }
  if (p.state === 'revoked') return { text: '该证书已被注销', type: 'danger' }
  if (p.lapses_on) {
    return {
      text: `如学时仍不补足，证书将于 ${p.lapses_on} 失效（连续两个周期合计不足 ${fmt(p.rules.lapse_hours_two_cycles)} 学时）`,
      type: 'warning',
    }
  }
  return { text: '证书有效，继续教育学时符合要求', type: 'success' }
}
