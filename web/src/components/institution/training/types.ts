// Shapes of the answers the training-plan and continuing-education pages use (as the services return them:
// the OpenAPI document types the requests, the answers are plain objects).
import type { Schema } from '@/api/types'

export type PlanRequest = Schema<'PlanRequest'>
export type ApplicantIds = Schema<'ApplicantIds'>

/** The plan form as edited in the page (texts never null; hours empty as undefined). */
export interface PlanForm {
  name: string
  training_mode: string
  position: string
  starts_on: string
  ends_on: string
  place: string
  platform: string
  schedule: string
  continuing_education: boolean
  professional_hours: number | undefined
  general_hours: number | undefined
}

export interface PlanSummary {
  plan_id: string
  institution_id: string
  name: string
  training_mode: string
  training_mode_label: string
  position: string
  starts_on: string
  ends_on: string
  place: string
  platform: string
  schedule: string
  continuing_education: boolean
  professional_hours: number | null
  general_hours: number | null
  trainee_count: number
  completed_count: number
  exam_applied_count: number
}

export type TraineeState = 'planned' | 'completed' | 'exam_applied'

export interface Trainee {
  applicant_id: string
  name: string
  gender: string
  id_number: string
  employer: string
  enterprise_id: string
  state: TraineeState
  state_label: string
  planned_at: string | null
  completed: boolean
  completed_at: string | null
  exam_applied: boolean
  exam_applied_at: string | null
}

export interface PlanDetail extends PlanSummary {
  trainees: Trainee[]
}

/** An applicant of the read model `applicants` (the fields these pages use). */
export interface ApplicantRow {
  applicant_id: string
  batch_id: string
  name: string
  id_number: string
  employer?: string
  position: string
  specialisation?: string | null
  training_mode: string
  continuing_education?: boolean
  status: string
  status_label: string
  materials?: Record<string, { photo_ok?: boolean } | undefined>
  photo_ok?: boolean | null
  photo_problems?: Array<{ rule?: string; code?: string; message: string }>
  exam_head_photo?: { bucket: string; key: string } | null
  exam_score?: number | null
}

/** One applicant a request refused, with every reason (problem+json `errors`, or `refused` of apply-exam). */
export interface Refusal {
  applicant_id: string
  name?: string
  code: string
  message: string
  reasons?: Array<{ code: string; message: string }>
}

export interface AddAnswer { plan_id: string; added: string[]; already_in_plan: string[] }
export interface CompletionAnswer { plan_id: string; completed: string[]; already_completed: string[] }
export interface ApplyAnswer {
  plan_id: string
  applied: string[]
  retakes: string[]
  already_applied: string[]
  refused: Refusal[]
}

export interface CertificateRow {
  certificate_id: string
  certificate_number: string
  holder_name: string
  id_number: string
  position: string
  specialisation?: string | null
  issued_on: string
  legacy?: boolean
  state: string
  state_label: string
  hours_total?: number
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
  record_id: string
  studied_on: string
  hours: number
  kind: 'professional' | 'general'
  kind_label: string
  course: string
  source: string
}

export interface HoursProgress {
  certificate_id: string
  certificate_number: string
  state: string
  state_label: string
  issued_on: string
  today: string
  rules: { hours_per_cycle: number; professional_hours_per_cycle: number }
  cycles: CycleProgress[]
  lapses_on: string | null
  records: HoursRecord[]
}

export interface HoursEntry {
  studied_on: string
  hours: number | null
  kind: 'professional' | 'general' | ''
  course: string
}

export interface HoursImportAnswer { count: number; record_ids: string[] }
