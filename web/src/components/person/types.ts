// The shapes of the candidate's (学员) API answers the portal pages use (the endpoints answer untyped JSON
// objects in the OpenAPI document, so the fields read are listed here).

export interface Application {
  applicant_id: string
  batch_id: string | null
  position: string
  specialisation: string | null
  training_mode: string
  training_mode_label: string
  continuing_education: boolean
  institution_id: string | null
  institution_name: string
  employer: string
  status: string
  status_label: string
  exam_score: number | null
  imported_at: string | null
}

export interface HeadPhoto {
  source?: string
  uploaded_at?: string | null
  url: string | null
  [key: string]: unknown
}

export interface IdCardSide {
  source: 'profile' | 'materials'
  uploaded_at?: string | null
  url: string | null
}

export interface Profile {
  name: string
  gender: string
  id_number: string
  applications: Application[]
  head_photo: HeadPhoto | null
  head_photo_locked: boolean
  head_photo_lock_reason: string | null
  id_card: { front: IdCardSide | null; back: IdCardSide | null }
  certificates: Array<{ certificate_number: string; position: string; state: string; state_label: string; legacy: boolean }>
  links_expire_in: number
}

export interface TrainingPlan {
  plan_id: string
  name: string
  training_mode: string
  training_mode_label: string
  position: string
  starts_on: string | null
  ends_on: string | null
  place: string
  platform: string
  schedule: string
}

export interface Training {
  applicant_id: string
  planned: boolean
  plan: TrainingPlan | null
  state: string | null
  state_label: string
  completed: boolean
  completed_at?: string | null
  exam_applied: boolean
  exam_applied_at?: string | null
}

export interface ExamSeat {
  session_id: string
  seat: number | string | null
  starts_at: string
  room: string
  address: string
  scheduled_at?: string
}

export interface ExamItem {
  candidate_id: string
  applicant_id: string
  institution_id: string | null
  name: string
  position: string
  specialisation: string | null
  retake: boolean | null
  status: string
  status_label: string
  session: ExamSeat | null
  attempt_id: string | null
  started_at: string | null
  deadline: string | null
  result: string | null
  score: number | null
  pass_mark: number | null
  full_marks: number | null
  submitted_at: string | null
  automatic: boolean | null
  applied_at: string | null
}

export interface CertificateItem {
  certificate_id: string
  certificate_number: string
  holder_name: string
  position: string
  specialisation: string | null
  institution_name?: string | null
  issuer?: string | null
  issued_on: string
  legacy: boolean
  state: string
  state_label: string
  renewed_by_number?: string | null
  renews_number?: string | null
  revoked_reason?: string | null
}

export interface CycleProgress {
  index: number
  starts_on: string
  ends_on: string
  total: number
  professional: number
  general: number
  complete: boolean
  met: boolean
  missing_total: number
  missing_professional: number
  lapses_on: string | null
}

export interface HoursRecord {
  record_id?: string
  studied_on: string
  hours: number
  kind: 'professional' | 'general'
  kind_label: string
  course: string
}

export interface HoursProgress {
  certificate_id: string
  certificate_number: string
  state: string
  state_label: string
  issued_on: string
  today: string
  rules: {
    hours_per_cycle: number
    professional_hours_per_cycle: number
    lapse_hours_two_cycles: number
    renewal_rule: string
  }
  first_cycle_starts_on: string
  cycles: CycleProgress[]
  lapses_on: string | null
  reinstated_on: string | null
  retraining: {
    lapsed_on: string | null
    hours: number
    professional: number
    required_hours: number
    required_professional: number
    missing_total: number
    missing_professional: number
  } | null
  records: HoursRecord[]
  renewal: { eligible: boolean; by: string | null; reason: string } | null
}

export interface Verification {
  certificate_id: string
  certificate_number: string
  verify_url: string
  qr_svg: string
}
