// Dynamic face verification during the exam (动态人脸识别): after the candidate's consent, a camera frame every
// `interval ± jitter` seconds; the server's `next_in_seconds` decides the next one when it answered. A failure
// (camera, network, a refusal) is shown and retried later, never blocking the exam.

import type { LiveCheckAccepted, LiveCheckSettings } from './types'

export type LiveCheckState = 'off' | 'waiting' | 'sending' | 'failed' | 'stopped'

export interface LiveCheckStatus {
  state: LiveCheckState
  /** frames the server accepted */
  sent: number
  /** the Chinese text of the last failure */
  problem: string
  /** when the next frame is due (ms from the last change) */
  nextInMs: number | null
}

/** Milliseconds until the next frame: the server's `next_in_seconds` when known, else interval ± jitter
 * (`random` in [0, 1)); never below 2 seconds. */
export function nextDelayMs(
  settings: Pick<LiveCheckSettings, 'interval_seconds' | 'jitter_seconds'>,
  nextInSeconds: number | null | undefined,
  random: number,
): number {
  const seconds =
    typeof nextInSeconds === 'number' && Number.isFinite(nextInSeconds) && nextInSeconds > 0
      ? nextInSeconds
      : settings.interval_seconds + settings.jitter_seconds * (2 * random - 1)
  return Math.max(2_000, Math.round(seconds * 1000))
}

/** A refusal's wait (429 live_check_too_soon): its seconds when the answer says, else the interval. */
export function retryAfterSeconds(details: unknown, fallback: number): number {
  if (details && typeof details === 'object') {
    for (const key of ['retry_after_seconds', 'seconds_left', 'next_in_seconds']) {
      const value = (details as Record<string, unknown>)[key]
      if (typeof value === 'number' && value > 0) return value
    }
  }
  return fallback
}

export interface LiveCheckDeps {
  capture(): Promise<Blob>
  upload(frame: Blob): Promise<LiveCheckAccepted>
  schedule(run: () => void, ms: number): unknown
  cancel(handle: unknown): void
  random(): number
  onChange(status: LiveCheckStatus): void
  /** the Chinese text of any failure */
  describe(e: unknown): string
}

/** Codes after which no more frames are sent (the exam is over). */
const STOP_CODES = new Set(['exam_not_in_progress', 'already_submitted', 'exam_not_started'])

export class LiveCheckLoop {
  status: LiveCheckStatus = { state: 'off', sent: 0, problem: '', nextInMs: null }
  private timer: unknown = null
  private running = false

  constructor(
    private readonly deps: LiveCheckDeps,
    private readonly settings: LiveCheckSettings,
  ) {}

  /** Begin with a frame after `firstInMs` (a few seconds: the camera needs a moment to show a picture). */
  start(firstInMs = 3_000): void {
    if (this.running) return
    this.running = true
    this.wait(firstInMs)
  }

  stop(): void {
    this.running = false
    this.deps.cancel(this.timer)
    this.timer = null
    this.update({ state: 'stopped', nextInMs: null })
  }

  private wait(ms: number): void {
    this.deps.cancel(this.timer)
    this.update({ state: this.status.state === 'failed' ? 'failed' : 'waiting', nextInMs: ms })
    this.timer = this.deps.schedule(() => {
      this.timer = null
      void this.send()
    }, ms)
  }

  async send(): Promise<void> {
    if (!this.running) return
    this.update({ state: 'sending', nextInMs: null })
    let accepted: LiveCheckAccepted
    try {
      const frame = await this.deps.capture()
      accepted = await this.deps.upload(frame)
    } catch (e) {
      if (!this.running) return
      const f = (e && typeof e === 'object' ? e : {}) as { status?: number; code?: string; details?: unknown }
      if (f.status === 409 && f.code && STOP_CODES.has(f.code)) {
        this.stop()
        return
      }
      const fallback = f.status === 429 ? retryAfterSeconds(f.details, this.settings.interval_seconds) : null
      this.update({ state: 'failed', problem: this.deps.describe(e) })
      this.wait(nextDelayMs(this.settings, fallback, this.deps.random()))
      return
    }
    if (!this.running) return
    this.update({ state: 'waiting', sent: this.status.sent + 1, problem: '' })
    this.wait(nextDelayMs(this.settings, accepted.next_in_seconds, this.deps.random()))
  }

  private update(change: Partial<LiveCheckStatus>): void {
    this.status = { ...this.status, ...change }
    this.deps.onChange(this.status)
  }
}
