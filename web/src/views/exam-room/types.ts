// What the exam room and the proctor's alerts read from the exam service: the API declares these answers as
// free-form objects, so they are typed here (the request bodies use the generated `Schema<…>` types).

export interface PaperQuestion {
  question_id: string
  kind: 'single' | 'multiple' | 'judge' | string
  kind_label: string
  stem: string
  options: string[]
  points?: number | null
}

export interface LiveCheckSettings {
  interval_seconds: number
  jitter_seconds: number
  consented: boolean
}

export interface ExamResult {
  attempt_id: string
  candidate_id: string
  score: number
  pass_mark: number
  full_marks: number
  passed: boolean
  result_label: string
  automatic: boolean
  submitted_at: string | null
  demo_timing?: boolean
  demo_timing_label?: string
}

export interface Paper {
  attempt_id: string
  candidate_id: string
  session_id: string
  started_at: string
  deadline: string
  earliest_submission: string
  server_time: string
  seconds_left: number
  seconds_until_submission: number
  submitted: boolean
  questions: PaperQuestion[]
  answers: Record<string, number[]>
  saved_at: string | null
  save_no: number
  result?: ExamResult
  live_check?: LiveCheckSettings | null
  demo_timing?: boolean
  demo_timing_label?: string
}

export interface SaveAnswer {
  attempt_id: string
  saved_at: string | null
  save_no: number
  answered: number
  seconds_left: number
}

export interface LiveCheckAccepted {
  check_id: string
  state: 'pending' | string
  next_in_seconds: number
}

export interface ExamSessionInfo {
  session_id: string
  room: string
  address?: string
  seat?: number | null
  starts_at: string
}

/** The candidate as GET /api/exam/candidates/{id} answers (the fields the exam room shows). */
export interface ExamCandidate {
  candidate_id: string
  name: string
  position: string
  specialisation?: string | null
  status: string
  status_label?: string
  session?: ExamSessionInfo | null
  attempt_id?: string | null
}

export interface CheckInState {
  verified: boolean
  override?: boolean
}

/** One open alert of the proctor's panel (GET /api/exam/sessions/{id}/live-alerts). */
export interface LiveAlert {
  alert_id: string
  candidate_id: string
  session_id?: string
  name: string | null
  seat_no: number | null
  check_id: string
  reason: 'mismatch' | 'no_face' | 'several_faces' | string
  reason_label?: string
  distance: number | null
  at: string
  frame_url: string | null
  consecutive_mismatches: number
  violation_threshold?: number
  violation_allowed: boolean
  state: 'open' | 'dismissed' | 'violation_recorded' | string
  state_label?: string
  violation_id?: string | null
}
