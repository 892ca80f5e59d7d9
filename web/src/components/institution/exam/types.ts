// The exam service's answers the institution's exam pages read (the API declares them as free-form objects).
import type { ProblemRowError } from '@/api/client'
import { ProblemError } from '@/api/client'

export { POSITIONS, SPECIALISATIONS, SPECIALISED } from '@/components/enterprise/files'

export interface Bank {
  bank_id: string
  owner_id: string
  position: string
  specialisation: string | null
  title: string
  demo?: boolean | null
  retired?: boolean | null
  imported_at?: string | null
  question_count?: number | null
  counts?: Record<string, number> | null
  complete?: boolean | null
}

export interface BankQuestion {
  question_id: string
  kind: string
  stem: string
  options: string[]
  answer?: number[]
  points?: number | null
}

export interface BankDetail extends Bank {
  answers_shown: boolean
  questions: BankQuestion[]
}

export interface Seat {
  seat: number
  candidate_id: string
  applicant_id: string
  enterprise_id: string
  name: string
  id_number: string
}

export interface ExamSession {
  session_id: string
  institution_id: string
  position: string
  specialisation: string | null
  starts_at: string
  room: string
  address: string
  seats: number
  seats_taken?: number
  seats_free: number
  duration_minutes?: number
  status: 'scheduled' | 'cancelled' | string
  status_label: string
  seating?: Seat[]
  cancel_reason?: string
}

export interface CandidateSeat {
  session_id: string
  seat: number
  starts_at: string
  room: string
  address: string
}

export interface Candidate {
  candidate_id: string
  applicant_id: string
  enterprise_id: string
  institution_id: string
  id_number: string
  name: string
  gender?: string
  position: string
  specialisation: string | null
  retake?: boolean
  status: string
  status_label: string
  session: CandidateSeat | null
  session_id: string | null
  has_head_photo: boolean
  score?: number | null
  applied_at?: string
}

export interface CheckInFailure {
  check_id: string
  reasons: string[]
  reason_codes: string[]
  distance: number | null
  attempt_no: number
}

export interface CheckInStatus {
  candidate_id: string
  verified: boolean
  override: boolean
  override_reason: string | null
  distance: number | null
  pending_check_id: string | null
  checks: number
  failures: number
  attempts_left: number
  max_attempts: number
  override_allowed: boolean
  last_failure: CheckInFailure | null
  state_label: string
}

export interface Violation {
  violation_id: string
  candidate_id: string
  institution_id: string
  id_number: string
  name?: string
  description: string
  evidence_keys: string[]
  recorded_at: string
  recorded_by?: string
  session_id?: string | null
}

export const CANDIDATE_STATES: Array<{ value: string; label: string }> = [
  { value: 'schedulable', label: '待安排考场' },
  { value: 'scheduled', label: '已安排考场' },
  { value: 'verified', label: '已通过入场核验' },
  { value: 'in_exam', label: '考试中' },
  { value: 'passed', label: '合格' },
  { value: 'failed', label: '不合格' },
]

const BEIJING = 8 * 60 * 60 * 1000

/** A time of the platform (ISO, UTC or with an offset) in Beijing time: "2026-12-01 09:00". */
export function beijing(iso: string | null | undefined): string {
  if (!iso) return ''
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`)
  if (Number.isNaN(ms)) return iso
  return new Date(ms + BEIJING).toISOString().slice(0, 16).replace('T', ' ')
}

/** A `datetime-local` value ("2026-12-01T09:00") read as Beijing time, as the API wants it. */
export function beijingIso(local: string): string {
  return `${local.length === 16 ? `${local}:00` : local}+08:00`
}

/** The row problems of a refused upload: the `errors` or the `details` list of the problem answer. */
export function rowProblems(e: unknown): ProblemRowError[] {
  if (!(e instanceof ProblemError)) return []
  if (e.errors?.length) return e.errors
  return Array.isArray(e.details) ? (e.details as ProblemRowError[]) : []
}

export type Verdict = 'pending' | 'passed' | 'failed' | 'exhausted' | 'waiting'

/** What the check-in desk shows for a status: waiting for a capture, comparing, passed, failed, exhausted. */
export function verdict(status: CheckInStatus | null): Verdict {
  if (!status) return 'waiting'
  if (status.verified) return 'passed'
  if (status.pending_check_id) return 'pending'
  if (status.override_allowed || (status.failures >= status.max_attempts && status.max_attempts > 0)) return 'exhausted'
  if (status.last_failure) return 'failed'
  return 'waiting'
}

export function replaySuspected(status: CheckInStatus | null): boolean {
  return Boolean(status?.last_failure?.reason_codes.includes('replay_suspected'))
}

/** The distance to show: the verified check's, else the last failed check's. */
export function shownDistance(status: CheckInStatus | null): number | null {
  if (!status) return null
  if (status.verified) return status.distance
  return status.last_failure?.distance ?? null
}
