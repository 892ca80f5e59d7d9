import { describe, expect, it } from 'vitest'
import { formatCountdown, minutesCeil, submitWaitText, urgency } from './countdown'

describe('countdown', () => {
  it('formats HH:MM:SS', () => {
    expect(formatCountdown(7200)).toBe('02:00:00')
    expect(formatCountdown(7265)).toBe('02:01:05')
    expect(formatCountdown(59.9)).toBe('00:00:59')
    expect(formatCountdown(-3)).toBe('00:00:00')
  })

  it('rounds minutes up', () => {
    expect(minutesCeil(61)).toBe(2)
    expect(minutesCeil(60)).toBe(1)
    expect(minutesCeil(0)).toBe(0)
  })

  it('says how long until the paper may be submitted', () => {
    expect(submitWaitText(1800)).toBe('开考 30 分钟后方可交卷，还需等待 30 分钟')
    expect(submitWaitText(1741)).toBe('开考 30 分钟后方可交卷，还需等待 30 分钟')
    expect(submitWaitText(45)).toBe('开考 30 分钟后方可交卷，还需等待 45 秒')
    expect(submitWaitText(0)).toBe('可以交卷')
    expect(submitWaitText(30, 1)).toBe('开考 1 分钟后方可交卷，还需等待 30 秒')
  })

  it('marks the last 15 and 5 minutes', () => {
    expect(urgency(901)).toBe('normal')
    expect(urgency(900)).toBe('warning')
    expect(urgency(300)).toBe('danger')
  })
})
