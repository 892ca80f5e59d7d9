import { describe, expect, it } from 'vitest'
import type { LiveAlert } from '@/views/exam-room/types'
import { distanceText, mergeAlerts, reasonText, streakText } from './alerts'

function alert(over: Partial<LiveAlert>): LiveAlert {
  return {
    alert_id: 'a1',
    candidate_id: 'c1',
    name: '张三',
    seat_no: 3,
    check_id: 'k1',
    reason: 'mismatch',
    distance: 0.81,
    at: '2026-05-01T09:10:00+08:00',
    frame_url: 'https://s3/frame?sig=1',
    consecutive_mismatches: 1,
    violation_allowed: false,
    state: 'open',
    ...over,
  }
}

describe('live alerts', () => {
  it('names the reason, with the server label first', () => {
    expect(reasonText({ reason: 'no_face' })).toBe('画面中未检测到人脸')
    expect(reasonText({ reason: 'several_faces', reason_label: '多人' })).toBe('多人')
    expect(reasonText({ reason: 'other' })).toBe('other')
  })

  it('shows the distance only when there was one', () => {
    expect(distanceText(0.8123)).toBe('比对距离 0.812')
    expect(distanceText(null)).toBe('')
  })

  it('says when a violation may be recorded', () => {
    expect(streakText({ consecutive_mismatches: 2, violation_threshold: 3, violation_allowed: false })).toBe('连续 2 次不一致（满 3 次可记录违纪）')
    expect(streakText({ consecutive_mismatches: 3, violation_threshold: 3, violation_allowed: true })).toBe('已连续 3 次不一致，可记录违纪')
  })

  it('keeps the newest first, drops what the poll no longer lists, keeps a young frame link', () => {
    const shown = [alert({ alert_id: 'a1' }), alert({ alert_id: 'gone' })]
    const fresh = [
      alert({ alert_id: 'a1', frame_url: 'https://s3/frame?sig=2', consecutive_mismatches: 2 }),
      alert({ alert_id: 'a2', at: '2026-05-01T09:11:00+08:00', frame_url: 'https://s3/other' }),
    ]
    const merged = mergeAlerts(shown, fresh, () => 10_000)
    expect(merged.map((a) => a.alert_id)).toEqual(['a2', 'a1'])
    expect(merged[1]).toMatchObject({ frame_url: 'https://s3/frame?sig=1', consecutive_mismatches: 2 })
    expect(mergeAlerts(shown, fresh, () => 200_000)[1].frame_url).toBe('https://s3/frame?sig=2')
  })
})
