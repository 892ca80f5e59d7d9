import { describe, expect, it } from 'vitest'
import { LiveCheckLoop, nextDelayMs, retryAfterSeconds, type LiveCheckDeps, type LiveCheckStatus } from './liveCheck'
import type { LiveCheckAccepted } from './types'

const settings = { interval_seconds: 60, jitter_seconds: 15, consented: true }

describe('live-check timing', () => {
  it("uses the server's next_in_seconds when it gave one", () => {
    expect(nextDelayMs(settings, 47, 0.9)).toBe(47_000)
  })

  it('else interval ± jitter', () => {
    expect(nextDelayMs(settings, null, 0)).toBe(45_000)
    expect(nextDelayMs(settings, undefined, 0.5)).toBe(60_000)
    expect(nextDelayMs(settings, 0, 0.999999)).toBe(75_000)
  })

  it('never sooner than 2 seconds', () => {
    expect(nextDelayMs({ interval_seconds: 2, jitter_seconds: 1 }, null, 0)).toBe(2_000)
  })

  it("reads a refusal's wait", () => {
    expect(retryAfterSeconds({ retry_after_seconds: 12 }, 60)).toBe(12)
    expect(retryAfterSeconds(undefined, 60)).toBe(60)
  })
})

function harness(upload: (frame: Blob) => Promise<LiveCheckAccepted>, capture = () => Promise.resolve(new Blob(['x'], { type: 'image/jpeg' }))) {
  const timers: Array<{ run: () => void; ms: number; cancelled: boolean }> = []
  const statuses: LiveCheckStatus[] = []
  const deps: LiveCheckDeps = {
    capture,
    upload,
    schedule: (run, ms) => {
      const t = { run, ms, cancelled: false }
      timers.push(t)
      return t
    },
    cancel: (t) => {
      if (t) (t as { cancelled: boolean }).cancelled = true
    },
    random: () => 0.5,
    onChange: (s) => statuses.push(s),
    describe: (e) => (e instanceof Error ? e.message : String((e as { detail?: string }).detail ?? '')),
  }
  const pending = () => timers.filter((t) => !t.cancelled)
  return { deps, timers, statuses, pending }
}

describe('LiveCheckLoop', () => {
  it('sends a frame, then waits what the server said', async () => {
    const frames: Blob[] = []
    const h = harness(async (frame) => {
      frames.push(frame)
      return { check_id: `c${frames.length}`, state: 'pending', next_in_seconds: 42 }
    })
    const loop = new LiveCheckLoop(h.deps, settings)
    loop.start(3000)
    expect(h.pending().map((t) => t.ms)).toEqual([3000])
    await loop.send()
    expect(frames).toHaveLength(1)
    expect(loop.status).toMatchObject({ state: 'waiting', sent: 1, nextInMs: 42_000 })
  })

  it('a camera or network failure is shown and tried again later, the loop goes on', async () => {
    let fail = true
    const h = harness(async () => {
      if (fail) throw { status: 0, code: 'network_error', detail: '无法连接服务器，请检查网络后重试' }
      return { check_id: 'c', state: 'pending', next_in_seconds: 30 }
    })
    const loop = new LiveCheckLoop(h.deps, settings)
    loop.start()
    await loop.send()
    expect(loop.status).toMatchObject({ state: 'failed', problem: '无法连接服务器，请检查网络后重试', nextInMs: 60_000 })
    fail = false
    await loop.send()
    expect(loop.status).toMatchObject({ state: 'waiting', sent: 1, problem: '' })
  })

  it('too soon (429): waits what the refusal says', async () => {
    const h = harness(async () => {
      throw { status: 429, code: 'live_check_too_soon', detail: '太频繁', details: { retry_after_seconds: 20 } }
    })
    const loop = new LiveCheckLoop(h.deps, settings)
    loop.start()
    await loop.send()
    expect(loop.status.nextInMs).toBe(20_000)
  })

  it('stops for good once the exam is no longer in progress', async () => {
    const h = harness(async () => {
      throw { status: 409, code: 'exam_not_in_progress', detail: '考试已结束' }
    })
    const loop = new LiveCheckLoop(h.deps, settings)
    loop.start()
    await loop.send()
    expect(loop.status.state).toBe('stopped')
    expect(h.pending()).toHaveLength(0)
  })

  it('a camera that gives no frame is a failure, not a stop', async () => {
    const h = harness(
      async () => ({ check_id: 'c', state: 'pending', next_in_seconds: 30 }),
      () => Promise.reject(new Error('摄像头尚未出画面')),
    )
    const loop = new LiveCheckLoop(h.deps, settings)
    loop.start()
    await loop.send()
    expect(loop.status).toMatchObject({ state: 'failed', problem: '摄像头尚未出画面' })
    expect(h.pending()).toHaveLength(1)
  })
})
