// The countdown's texts.

/** 7265 → "02:01:05" (always HH:MM:SS, a steady width). */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = s % 60
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(rest).padStart(2, '0')}`
}

/** Whole minutes, rounded up ("还需等待 N 分钟"): 61 s → 2. */
export function minutesCeil(seconds: number): number {
  return Math.max(0, Math.ceil(seconds / 60))
}

/** The text beside the disabled submit button (`ruleMinutes`: 30, fewer with demo timing). */
export function submitWaitText(secondsUntilSubmission: number, ruleMinutes = 30): string {
  if (secondsUntilSubmission <= 0) return '可以交卷'
  const rule = `开考 ${ruleMinutes} 分钟后方可交卷`
  if (secondsUntilSubmission < 60) return `${rule}，还需等待 ${secondsUntilSubmission} 秒`
  return `${rule}，还需等待 ${minutesCeil(secondsUntilSubmission)} 分钟`
}

/** How urgent the remaining time is: the last 5 minutes are 'danger', the last 15 'warning'. */
export function urgency(secondsLeft: number): 'normal' | 'warning' | 'danger' {
  if (secondsLeft <= 300) return 'danger'
  if (secondsLeft <= 900) return 'warning'
  return 'normal'
}
