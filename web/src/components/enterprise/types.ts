// Shapes of the answers the enterprise and reviewer pages use (as the services return them).
import type { RowProblem } from './problems-export'

export interface ReviewCheck { check: string; passed: boolean; note?: string }
export interface Review { submission: number; approved: boolean; reason: string; reviewer_id: string; checks: ReviewCheck[] }
export interface RegDocument { kind: string; label: string; content_type: string; size: number; url?: string; expires_in?: number }
export interface Registration {
  enterprise_id: string
  credit_code: string
  name: string
  city: string
  authority: string
  is_branch: boolean
  legal_representative: string
  contact_name: string
  contact_mobile: string
  address: string
  business_scope: string
  preferred_institution_id: string | null
  documents: RegDocument[]
  status: 'submitted' | 'approved' | 'rejected'
  status_label: string
  submission: number
  rejection_reason: string
  reviews: Review[]
  scope_hint?: string | null
}
export interface CityInfo { city: string; authority: string; institutions: Array<{ id: string; name: string }> }
export interface CitiesAnswer {
  cities: CityInfo[]
  documents: Array<{ kind: string; label: string; required: boolean }>
  max_document_bytes: number
}
export interface QueueItem {
  enterprise_id: string
  name: string
  city: string
  is_branch: boolean
  contact_name: string
  business_scope: string
  scope_hint: string | null
  documents: string[]
  status: 'submitted' | 'approved' | 'rejected'
  submission: number
  submitted_at: string
  reviewed_at: string | null
  rejection_reason: string
}
export interface Job {
  job_id: string
  kind: string
  state: 'running' | 'succeeded' | 'failed'
  progress?: { done: number; total: number | null; stage: string }
  meta?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: { code: string; message: string; status?: number; errors?: RowProblem[] | unknown }
}
export interface Applicant {
  applicant_id: string
  batch_id: string
  name: string
  gender?: string
  id_number: string
  mobile?: string
  education?: string
  employer?: string
  major?: string
  years_in_post?: number | null
  position: string
  specialisation?: string | null
  training_mode: string
  institution_id: string
  status: string
  status_label: string
  rejection_reason?: string
  continuing_education?: boolean
  [key: string]: unknown
}
export interface Institution {
  institution_id: string
  name: string
  city: string
  modes: string[]
  features: string
  exam_locations: string[]
  payment_methods: string[]
  fee_ranges?: unknown
  positions?: string[]
  offers?: Array<{ position: string; specialisation?: string | null; fee_online_fen?: number | null; fee_offline_fen?: number | null }>
  demo?: boolean
  // while the institution's new enrollments are suspended (only listed with include_suspended): period and reason
  suspension?: unknown
}
export interface CompareAnswer {
  institutions: Institution[]
  positions: Array<{
    position: string
    specialisation: string | null
    label: string
    fees: Array<{ institution_id: string; online: number | null; offline: number | null }>
  }>
}
export interface OrderSummary {
  order_id: string
  order_number: string
  institution_id: string
  amount_fen: number
  status: string
  status_label: string
  voucher_state?: string
  created_at?: string
  [key: string]: unknown
}
export interface OrderDetail extends OrderSummary {
  amount_yuan: string
  count_by_mode: Record<string, number>
  in_training: string[]
  lines: Array<Record<string, unknown>>
  voucher: (Record<string, unknown> & { state: string }) | null
  invoice: { invoice_number: string; issued_on: string; invoice_type: string; amount_fen: number } | null
}
export interface Certificate {
  certificate_id: string
  certificate_number: string
  holder_name?: string
  id_number?: string
  position?: string
  specialisation?: string | null
  state?: string
  state_label?: string
  issued_on?: string
  expires_on?: string
  [key: string]: unknown
}
