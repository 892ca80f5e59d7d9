import { describe, expect, it } from 'vitest'
import { cycleState, missingText, outlook, percentOf } from './ce'
import type { CycleProgress, HoursProgress } from './types'

const cycle = (over: Partial<CycleProgress>): CycleProgress => ({
  index: 1, starts_on: '2025-03-01', ends_on: '2026-02-28', total: 20, professional: 12, general: 8,
  complete: false, met: false, missing_total: 12, missing_professional: 10, lapses_on: null, ...over,
})

const progress = (over: Partial<HoursProgress>): HoursProgress => ({
  certificate_id: 'c', certificate_number: 'N', state: 'valid', state_label: '有效', issued_on: '2024-03-01',
  today: '2026-01-10',
  rules: { hours_per_cycle: 32, professional_hours_per_cycle: 22, lapse_hours_two_cycles: 64, renewal_rule: 'either' },
  first_cycle_starts_on: '2025-03-01', cycles: [], lapses_on: null, reinstated_on: null, retraining: null,
  records: [], renewal: null, ...over,
})

describe('continuing-education progress', () => {
  it('names the state of a cycle', () => {
    expect(cycleState(cycle({ met: true })).label).toBe('已达标')
    expect(cycleState(cycle({ complete: true })).label).toBe('未达标')
    expect(cycleState(cycle({})).label).toBe('进行中')
  })

  it('says what is missing, professional hours apart', () => {
    expect(missingText(cycle({}))).toBe('还差 12 学时，其中专业科目还差 10 学时')
    expect(missingText(cycle({ missing_total: 0, missing_professional: 2.5 }))).toBe('其中专业科目还差 2.5 学时')
    expect(missingText(cycle({ complete: true, missing_professional: 0 }))).toBe('本周期已结束：差 12 学时')
    expect(missingText(cycle({ met: true }))).toBe('本周期学时已达标')
  })

  it('bounds the progress bar', () => {
    expect(percentOf(16, 32)).toBe(50)
    expect(percentOf(40, 32)).toBe(100)
    expect(percentOf(5, 0)).toBe(100)
  })

  it('gives the lapse date that follows, or why the certificate is not valid', () => {
    expect(outlook(progress({ lapses_on: '2027-03-01' })).text).toContain('将于 2027-03-01 失效')
    expect(outlook(progress({})).type).toBe('success')
    const lapsed = outlook(progress({
      state: 'lapsed',
      retraining: { lapsed_on: '2026-03-01', hours: 10, professional: 4, required_hours: 32, required_professional: 22, missing_total: 22, missing_professional: 18 },
    }))
    expect(lapsed.text).toBe('证书自 2026-03-01 起已失效：继续教育学时不足；恢复有效还需重新培训 22 学时（其中专业科目 18 学时）')
    expect(outlook(progress({ state: 'superseded' })).type).toBe('info')
  })
})
