import { describe, expect, it } from 'vitest'
import { chinaToday, sanctionBody, sanctionProblem, sanctionTagType } from './sanctions'

describe('institution sanctions form', () => {
  const today = '2026-12-03'

  it('takes today in China time, not the browser’s', () => {
    expect(chinaToday(new Date('2026-12-02T16:30:00Z'))).toBe('2026-12-03') // 00:30 in Beijing
    expect(chinaToday(new Date('2026-12-02T15:59:00Z'))).toBe('2026-12-02')
  })

  it('says what the server would refuse', () => {
    expect(sanctionProblem({ kind: '', period: null, reason: '放松考试纪律' }, today)).toBe('请选择处理类型')
    expect(sanctionProblem({ kind: 'warning', period: null, reason: '短' }, today)).toContain('处理原因')
    expect(sanctionProblem({ kind: 'warning', period: null, reason: '监考松散记录' }, today)).toBeNull()
    expect(sanctionProblem({ kind: 'suspend_enrollment', period: null, reason: '放松考试纪律' }, today)).toContain('期间')
    expect(sanctionProblem({ kind: 'suspend_enrollment', period: ['2026-12-02', '2026-12-09'], reason: '放松考试纪律' }, today)).toContain('早于今天')
    expect(sanctionProblem({ kind: 'suspend_exam_sessions', period: ['2026-12-03', '2026-12-03'], reason: '放松考试纪律' }, today)).toBeNull()
  })

  it('sends the period only for a suspension', () => {
    expect(sanctionBody({ kind: 'warning', period: ['2026-12-03', '2026-12-09'], reason: ' 监考松散 ' })).toEqual({ kind: 'warning', reason: '监考松散' })
    expect(sanctionBody({ kind: 'suspend_enrollment', period: ['2026-12-03', '2026-12-09'], reason: '放松考试纪律' })).toEqual({
      kind: 'suspend_enrollment',
      reason: '放松考试纪律',
      starts_on: '2026-12-03',
      ends_on: '2026-12-09',
    })
  })

  it('colours the states', () => {
    expect(sanctionTagType('in_force')).toBe('danger')
    expect(sanctionTagType('lifted')).toBe('success')
    expect(sanctionTagType('ended')).toBe('info')
  })
})
