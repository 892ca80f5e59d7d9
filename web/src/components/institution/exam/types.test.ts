import { describe, expect, it } from 'vitest'
import { ProblemError } from '@/api/client'
import { beijing, beijingIso, replaySuspected, rowProblems, shownDistance, verdict, type CheckInStatus } from './types'
import { cameraErrorText, CameraError } from './camera'

function status(over: Partial<CheckInStatus> = {}): CheckInStatus {
  return {
    candidate_id: 'c1',
    verified: false,
    override: false,
    override_reason: null,
    distance: null,
    pending_check_id: null,
    checks: 0,
    failures: 0,
    attempts_left: 3,
    max_attempts: 3,
    override_allowed: false,
    last_failure: null,
    state_label: '待入场核验',
    ...over,
  }
}

const failure = (codes: string[], distance: number | null = 0.72) => ({
  check_id: 'k1',
  reasons: codes.map((c) => c),
  reason_codes: codes,
  distance,
  attempt_no: 1,
})

describe('check-in verdict', () => {
  it('waits, compares, passes, fails with tries left, then is exhausted', () => {
    expect(verdict(null)).toBe('waiting')
    expect(verdict(status())).toBe('waiting')
    expect(verdict(status({ pending_check_id: 'k2', checks: 1 }))).toBe('pending')
    expect(verdict(status({ verified: true, distance: 0.41 }))).toBe('passed')
    expect(verdict(status({ failures: 1, attempts_left: 2, last_failure: failure(['face_mismatch']) }))).toBe('failed')
    expect(
      verdict(status({ failures: 3, attempts_left: 0, override_allowed: true, last_failure: failure(['face_mismatch']) })),
    ).toBe('exhausted')
  })

  it('shows the verified distance, else the last failure’s, and the replay suspicion', () => {
    expect(shownDistance(status({ verified: true, distance: 0.41, last_failure: failure([], 0.7) }))).toBe(0.41)
    expect(shownDistance(status({ last_failure: failure(['face_mismatch'], 0.83) }))).toBe(0.83)
    expect(shownDistance(null)).toBeNull()
    expect(replaySuspected(status({ last_failure: failure(['replay_suspected'], 0.1) }))).toBe(true)
    expect(replaySuspected(status({ last_failure: failure(['face_mismatch']) }))).toBe(false)
  })
})

describe('times in Beijing', () => {
  it('shows an instant in Beijing time and reads a datetime-local value as Beijing time', () => {
    expect(beijing('2026-12-01T01:00:00Z')).toBe('2026-12-01 09:00')
    expect(beijing('2026-12-01T09:00:00+08:00')).toBe('2026-12-01 09:00')
    expect(beijing('2026-12-01T01:00:00')).toBe('2026-12-01 09:00') // naive: UTC as stored
    expect(beijing(null)).toBe('')
    expect(beijingIso('2026-12-01T09:00')).toBe('2026-12-01T09:00:00+08:00')
  })
})

describe('row problems of a refused upload', () => {
  it('reads `errors` or `details`', () => {
    const row = { row: 3, column: '答案', value: 'Z', code: 'bank_answer_invalid', message: '答案不正确' }
    expect(rowProblems(new ProblemError(422, 'bank_invalid_sheet', '有 1 处问题', undefined, [row]))).toEqual([row])
    expect(rowProblems(new ProblemError(422, 'x', 'y', [row]))).toEqual([row])
    expect(rowProblems(new Error('x'))).toEqual([])
  })
})

describe('camera errors in Chinese', () => {
  it('says what to do for a refused permission, a missing camera, a busy one, an old browser', () => {
    expect(cameraErrorText(new DOMException('denied', 'NotAllowedError'))).toContain('摄像头权限被拒绝')
    expect(cameraErrorText(new DOMException('none', 'NotFoundError'))).toContain('未检测到摄像头')
    expect(cameraErrorText(new DOMException('busy', 'NotReadableError'))).toContain('正被其他程序占用')
    expect(cameraErrorText(new CameraError('unsupported', 'unsupported'))).toContain('此浏览器无法使用摄像头')
    expect(cameraErrorText('?')).toContain('无法打开摄像头')
  })
})
