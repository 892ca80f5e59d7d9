import { describe, expect, it } from 'vitest'
import { canEnter, groupExams, resultText } from './exams'
import type { ExamItem } from './types'

const exam = (over: Partial<ExamItem>): ExamItem => ({
  candidate_id: 'c1', applicant_id: 'a1', institution_id: 'i', name: '张三', position: '施工员', specialisation: '土建施工',
  retake: false, status: 'scheduled', status_label: '已安排考场',
  session: { session_id: 's1', seat: 12, starts_at: '2026-03-01T01:00:00Z', room: '第一考场', address: '杭州市西湖区' },
  attempt_id: null, started_at: null, deadline: null, result: null, score: null, pass_mark: 60, full_marks: 100,
  submitted_at: null, automatic: null, applied_at: '2026-02-01T00:00:00Z', ...over,
})

describe('exam history', () => {
  it('lets the candidate enter a scheduled exam only', () => {
    expect(canEnter(exam({}))).toBe(true)
    expect(canEnter(exam({ status: 'in_exam' }))).toBe(true)
    expect(canEnter(exam({ status: 'schedulable', session: null }))).toBe(false)
    expect(canEnter(exam({ status: 'failed', result: 'failed' }))).toBe(false)
  })

  it('numbers the retakes per position, newest first', () => {
    const groups = groupExams([
      exam({ candidate_id: 'c2', retake: true, applied_at: '2026-03-10T00:00:00Z', status: 'schedulable', session: null }),
      exam({ candidate_id: 'c1', status: 'failed', result: 'failed', score: 52 }),
      exam({ candidate_id: 'c3', position: '安全员', specialisation: null, status: 'passed', result: 'passed', score: 88 }),
    ])
    expect(groups.map((g) => g.title)).toEqual(['施工员（土建施工）', '安全员'])
    expect(groups[0].attempts.map((a) => [a.candidate_id, a.round])).toEqual([['c2', '第 1 次补考'], ['c1', '首次考试']])
    expect(groups[0].outcome).toBe('已申请考试，等待培训机构安排考场')
    expect(groups[1].outcome).toContain('已通过考试')
  })

  it('writes the score with the pass mark', () => {
    expect(resultText(exam({ score: 52, result: 'failed' }))).toBe('52 分（满分 100，60 分合格） · 不合格')
    expect(resultText(exam({}))).toBe('—')
  })
})
