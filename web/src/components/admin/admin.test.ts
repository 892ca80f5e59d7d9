import { describe, expect, it, vi } from 'vitest'
import {
  accountBody,
  accountProblem,
  blacklistState,
  blacklistUntil,
  percent,
  total,
  untilTrue,
  validIdNumber,
} from './admin'
import type { AdminStats, BlacklistEntry } from './types'

const stats: AdminStats = {
  service: 'registration',
  generated_at: '2026-12-02T10:00:00Z',
  tables: [
    {
      title: '企业注册审核',
      dimension: '城市',
      columns: [
        { key: 'submitted', label: '待审核' },
        { key: 'approved', label: '审核通过' },
      ],
      rows: [{ key: '杭州', counts: { submitted: 2, approved: 1 }, total: 3, rate: null }],
      totals: { key: '合计', counts: { submitted: 2, approved: 1 }, total: 3, rate: null },
      rate_label: null,
      note: '',
    },
  ],
}

function entry(fields: Partial<BlacklistEntry>): BlacklistEntry {
  return {
    blacklist_id: 'b1', id_number: '330106199005170019', name: '张三', reason: '替考', violation_id: null,
    since: '2026-12-01', until: '2027-11-30', blacklisted_by: 'acc', blacklisted_at: '2026-12-01T08:00:00Z',
    lifted: false, ...fields,
  }
}

describe('the administrator console helpers', () => {
  it('shows rates as percentages and a dash when nobody sat', () => {
    expect(percent(0.66667)).toBe('66.7%')
    expect(percent(1)).toBe('100.0%')
    expect(percent(null)).toBe('—')
    expect(percent(undefined)).toBe('—')
  })

  it('reads a total or one column of a service table', () => {
    expect(total(stats, 0)).toBe(3)
    expect(total(stats, 0, 'submitted')).toBe(2)
    expect(total(stats, 0, 'rejected')).toBe(0)
    expect(total(stats, 1)).toBeUndefined()
    expect(total(undefined, 0)).toBeUndefined()
  })

  it('says what a new account lacks before sending it', () => {
    const base = { username: 'hz-reviewer', role: 'reviewer', city: '杭州', org_id: '', display_name: '' }
    expect(accountProblem(base)).toBeNull()
    expect(accountProblem({ ...base, city: '' })).toBe('审核员账号须选择所属城市')
    expect(accountProblem({ ...base, role: 'institution', city: '' })).toBe('培训机构账号须填写机构编号')
    expect(accountProblem({ ...base, username: 'ab' })).toMatch(/3–64 位/)
    expect(accountProblem({ ...base, username: '张三abc' })).toMatch(/英文字母/)
    expect(accountBody({ ...base, display_name: ' 杭州市建设局 ' })).toEqual({
      username: 'hz-reviewer', role: 'reviewer', city: '杭州', display_name: '杭州市建设局',
    })
    expect(accountBody({ ...base, role: 'institution', city: '', org_id: ' inst-1 ' })).toEqual({
      username: 'hz-reviewer', role: 'institution', org_id: 'inst-1',
    })
  })

  it('computes the last day of a blacklisting for a period or takes the chosen date', () => {
    const today = new Date(2026, 11, 2)
    expect(blacklistUntil('days', 1, '', today)).toBe('2026-12-02')
    expect(blacklistUntil('days', 30, '', today)).toBe('2026-12-31')
    expect(blacklistUntil('days', 365, '', today)).toBe('2027-12-01')
    expect(blacklistUntil('days', 0, '', today)).toBeNull()
    expect(blacklistUntil('date', 0, '2027-06-30', today)).toBe('2027-06-30')
    expect(blacklistUntil('date', 0, '', today)).toBeNull()
  })

  it('labels a blacklist entry as in force, expired or lifted', () => {
    expect(blacklistState(entry({}), '2026-12-02')).toEqual({ label: '生效中', type: 'danger' })
    expect(blacklistState(entry({ until: '2026-12-01' }), '2026-12-02').label).toBe('已到期')
    expect(blacklistState(entry({ lifted: true }), '2026-12-02').label).toBe('已解除')
  })

  it('checks an ID number with its check character', () => {
    expect(validIdNumber('330106199005170019')).toBe(true)
    expect(validIdNumber('330106199005170018')).toBe(false)
    expect(validIdNumber('33010619900517001')).toBe(false)
    expect(validIdNumber('11010519491231002x')).toBe(true)
  })

  it('asks again until the read model shows the write', async () => {
    vi.useFakeTimers()
    let n = 0
    const done = untilTrue(async () => ++n >= 3, 5, 10)
    await vi.runAllTimersAsync()
    expect(await done).toBe(true)
    expect(n).toBe(3)
    const never = untilTrue(async () => false, 2, 10)
    await vi.runAllTimersAsync()
    expect(await never).toBe(false)
    vi.useRealTimers()
  })
})
