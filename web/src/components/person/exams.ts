// The candidate's exams as a history per position: the first exam and every 补考 (retake) after a failure,
// newest first, with what the candidate can do now.
import type { ExamItem } from './types'

export interface ExamGroup {
  key: string
  title: string
  attempts: Array<ExamItem & { round: string }>
  outcome: string
}

/** A scheduled exam (seat given) can be entered (the check-in at the desk comes first); one in progress too. */
export function canEnter(item: ExamItem): boolean {
  return ['scheduled', 'verified', 'in_exam'].includes(item.status) && item.session !== null
}

export function resultText(item: ExamItem): string {
  if (item.score === null || item.score === undefined) return item.result ? (item.result === 'passed' ? '合格' : '不合格') : '—'
  const verdict = item.result === 'passed' ? '合格' : item.result === 'failed' ? '不合格' : ''
  const full = item.full_marks ?? 100
  const pass = item.pass_mark ?? 60
  return `${item.score} 分（满分 ${full}，${pass} 分合格）${verdict ? ` · ${verdict}` : ''}`
}

export function groupExams(items: ExamItem[]): ExamGroup[] {
  const groups = new Map<string, ExamItem[]>()
  for (const item of items) {
    const key = `${item.position}|${item.specialisation ?? ''}`
    groups.set(key, [...(groups.get(key) ?? []), item])
  }
  return [...groups.entries()].map(([key, list]) => {
    const ordered = [...list].sort((a, b) => (a.applied_at ?? '').localeCompare(b.applied_at ?? ''))
    const attempts = ordered.map((item, i) => ({ ...item, round: i === 0 ? '首次考试' : `第 ${i} 次补考` })).reverse()
    const latest = attempts[0]
    const outcome =
      latest.result === 'passed'
        ? '已通过考试，证书将自动颁发'
        : latest.result === 'failed'
          ? '未通过考试：可由培训机构为您申请补考'
          : latest.status === 'schedulable'
            ? '已申请考试，等待培训机构安排考场'
            : '已安排考场，请按时参加考试'
    const [position, specialisation] = key.split('|')
    return { key, title: specialisation ? `${position}（${specialisation}）` : position, attempts, outcome }
  })
}
