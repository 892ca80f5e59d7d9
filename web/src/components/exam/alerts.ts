// The proctor's live alerts (动态人脸核验提醒): texts for each alert, whatever the server's labels.
import type { LiveAlert } from '@/views/exam-room/types'

const REASONS: Record<string, string> = {
  mismatch: '人脸与报名头像不一致',
  no_face: '画面中未检测到人脸',
  several_faces: '画面中有多张人脸',
}

export function reasonText(alert: Pick<LiveAlert, 'reason' | 'reason_label'>): string {
  return alert.reason_label || REASONS[alert.reason] || alert.reason
}

/** "比对距离 0.71（阈值以下为同一人）" — only for a comparison that had a face to compare. */
export function distanceText(distance: number | null | undefined): string {
  return typeof distance === 'number' ? `比对距离 ${distance.toFixed(3)}` : ''
}

/** "连续 2 次不一致（满 3 次可记录违纪）", or that a violation may be recorded now. */
export function streakText(alert: Pick<LiveAlert, 'consecutive_mismatches' | 'violation_threshold' | 'violation_allowed'>): string {
  const count = alert.consecutive_mismatches
  if (alert.violation_allowed) return `已连续 ${count} 次不一致，可记录违纪`
  const threshold = alert.violation_threshold
  return threshold ? `连续 ${count} 次不一致（满 ${threshold} 次可记录违纪）` : `连续 ${count} 次不一致`
}

/** The alerts of a new poll, newest first. An alert already shown keeps its frame link (each answer signs a
 * new short-lived link; swapping it would reload the picture every few seconds) until that link is old. */
export function mergeAlerts(
  current: readonly LiveAlert[],
  fresh: readonly LiveAlert[],
  linkAge: (alertId: string) => number,
  maxAgeMs = 120_000,
): LiveAlert[] {
  const before = new Map(current.map((a) => [a.alert_id, a]))
  return fresh
    .map((a) => {
      const old = before.get(a.alert_id)
      return old?.frame_url && a.frame_url && linkAge(a.alert_id) < maxAgeMs ? { ...a, frame_url: old.frame_url } : a
    })
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
}
