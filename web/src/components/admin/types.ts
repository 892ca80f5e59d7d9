// Shapes of the answers the administrator's pages use: from the generated OpenAPI types where the service
// declares them, written out here where it answers a free-form object.
import type { Schema } from '@/api/types'

export type AdminStats = Schema<'AdminStats'>
export type CountTable = Schema<'CountTable'>
export type CountRow = Schema<'CountRow'>
export type DeadLetter = Schema<'DeadLetterView'>
export type DeadLetterPage = Schema<'DeadLetterPage'>
export type ReplayAnswer = Schema<'ReplayAnswer'>
export type Account = Schema<'AccountOut'>
export type AccountList = Schema<'AccountListResponse'>
export type CreatedAccount = Schema<'CreatedAccountResponse'>
export type OfferRequest = Schema<'AdminOfferRequest'>

export interface BlacklistEntry {
  blacklist_id: string
  id_number: string
  name: string
  reason: string
  violation_id: string | null
  since: string
  until: string
  blacklisted_by: string
  blacklisted_at: string
  lifted: boolean
  lift_reason?: string
  lifted_by?: string
  lifted_at?: string
}

export interface CertificateRow {
  certificate_id: string
  certificate_number: string
  holder_name: string
  id_number: string
  position: string
  specialisation?: string | null
  issued_on: string
  state: string
  state_label: string
  legacy?: boolean
  revoked_reason?: string
}

export interface InstitutionRow {
  institution_id: string
  name: string
  city: string
  positions: string[]
  modes: string[]
  features: string
  exam_locations: string[]
  payment_methods: string[]
  demo?: boolean
  suspension?: InstitutionSuspension | null
}

export interface InstitutionOffer {
  institution_id: string
  name: string
  city: string
  features?: string
  offers: Array<{ position: string; specialisation?: string | null; fee_online_fen?: number | null; fee_offline_fen?: number | null }>
  exam_locations?: string[]
  payment_methods?: string[]
}

export interface LapseLine {
  certificate_id: string
  certificate_number: string
  cycles_from?: string
  cycles_to?: string
  hours: number
  required_hours?: number
  cycle_ends_on?: string
  lapses_on?: string | null
}

export interface LapseAnswer {
  today: string
  dry_run: boolean
  checked: number
  lapsed: LapseLine[]
  reminded: LapseLine[]
}

/** A sanction against an institution as `GET /api/enrollment/institutions/{id}/sanctions` lists it. */
export interface InstitutionSanction {
  sanction_id: string
  kind: 'warning' | 'suspend_enrollment' | 'suspend_exam_sessions' | string
  kind_label: string
  reason: string
  starts_on: string
  ends_on: string | null
  period: string
  recorded_by: string
  recorded_at: string | null
  status: 'lifted' | 'ended' | 'scheduled' | 'in_force' | 'recorded' | string
  status_label: string
  in_force: boolean
  lifted: boolean
  lift_reason: string | null
  lifted_by: string | null
  lifted_at: string | null
}

export interface InstitutionSanctions {
  institution_id: string
  today: string
  items: InstitutionSanction[]
  in_force: string[]
  warnings: number
}

/** The suspension of new enrollments in force today, as the institutions' list and page carry it. */
export interface InstitutionSuspension {
  sanction_id: string
  kind: string
  starts_on: string
  ends_on: string
  reason: string
  message: string
}
