import { describe, expect, it } from 'vitest'
import { chinaTime, untilFresh } from './pending'

describe('read-your-writes', () => {
  it('asks again until the answer shows the change', async () => {
    let calls = 0
    const outcome = await untilFresh(async () => ++calls, (n) => n >= 3, { intervalMs: 1 })
    expect(outcome).toEqual({ value: 3, fresh: true })
  })

  it('gives up after the tries and says so', async () => {
    let calls = 0
    const outcome = await untilFresh(async () => ++calls, () => false, { tries: 2, intervalMs: 1 })
    expect(outcome).toEqual({ value: 2, fresh: false })
  })

  it('shows times in China time', () => {
    expect(chinaTime('2026-03-01T01:30:00Z')).toContain('09:30')
    expect(chinaTime(null)).toBe('—')
  })
})
