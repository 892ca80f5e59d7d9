import { describe, expect, it } from 'vitest'
import { ServerClock } from './clock'

describe('ServerClock', () => {
  it('is the server time plus half the round trip, running on the monotonic clock', () => {
    const clock = new ServerClock()
    expect(clock.synced).toBe(false)
    clock.sync({ serverTime: '2026-05-01T02:00:00.000Z', sentAt: 1000, receivedAt: 1400 })
    expect(clock.synced).toBe(true)
    expect(clock.uncertainty).toBe(200)
    expect(new Date(clock.now(1400)).toISOString()).toBe('2026-05-01T02:00:00.200Z')
    expect(new Date(clock.now(61_400)).toISOString()).toBe('2026-05-01T02:01:00.200Z')
  })

  it('ignores the computer clock entirely (only monotonic readings go in)', () => {
    const clock = new ServerClock()
    clock.sync({ serverTime: '2026-05-01T02:00:00+08:00', sentAt: 50, receivedAt: 50 })
    // whatever Date.now() says, the same monotonic reading gives the same server time
    expect(clock.now(10_050)).toBe(Date.parse('2026-05-01T02:00:10+08:00'))
  })

  it('counts seconds until a deadline, rounded up and never negative', () => {
    const clock = new ServerClock()
    clock.sync({ serverTime: '2026-05-01T02:00:00Z', sentAt: 0, receivedAt: 0 })
    expect(clock.secondsUntil('2026-05-01T04:00:00Z', 0)).toBe(7200)
    expect(clock.secondsUntil('2026-05-01T04:00:00Z', 500)).toBe(7200)
    expect(clock.secondsUntil('2026-05-01T04:00:00Z', 1000)).toBe(7199)
    expect(clock.secondsUntil('2026-05-01T01:00:00Z', 0)).toBe(0)
  })

  it('takes a newer sample (the server clock may move), unless it is a much slower round trip soon after', () => {
    const clock = new ServerClock()
    clock.sync({ serverTime: '2026-05-01T02:00:00Z', sentAt: 0, receivedAt: 100 })
    clock.sync({ serverTime: '2026-05-01T03:00:00Z', sentAt: 1000, receivedAt: 9000 })
    expect(clock.now(9000)).toBe(Date.parse('2026-05-01T02:00:00Z') + 50 + 8900) // kept the fast sample
    clock.sync({ serverTime: '2026-05-01T02:30:00Z', sentAt: 10_000, receivedAt: 10_100 })
    expect(clock.now(10_100)).toBe(Date.parse('2026-05-01T02:30:00Z') + 50) // the server's clock moved
    clock.sync({ serverTime: '2026-05-01T02:40:00Z', sentAt: 100_000, receivedAt: 108_000 })
    expect(clock.now(108_000)).toBe(Date.parse('2026-05-01T02:40:00Z') + 4000) // slow, but the old one is stale
  })

  it('refuses nonsense samples and a read before any sample', () => {
    const clock = new ServerClock()
    clock.sync({ serverTime: 'not a time', sentAt: 0, receivedAt: 10 })
    clock.sync({ serverTime: '2026-05-01T02:00:00Z', sentAt: 10, receivedAt: 0 })
    expect(clock.synced).toBe(false)
    expect(() => clock.now(0)).toThrow()
  })
})
