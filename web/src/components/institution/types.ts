// Shapes of the answers the institution's back-office pages use. Requests are typed with the generated API
// types (`Schema<…>`); most answers are free-form objects in the OpenAPI document, so they are written here
// as the services return them (enrollment's `applicants` read model, payment's `orders`).
import type { Schema } from '@/api/types'

export type OfferRequest = Schema<'OfferRequest'>
export type OfferLineRequest = Schema<'OfferLineRequest'>
export type PublishResponse = Schema<'PublishResponse'>
export type RejectRequest = Schema<'RejectRequest'>
export type BulkReviewRequest = Schema<'ReviewRequest'>
export type ReasonRequest = Schema<'Reason'>
export type IssueInvoiceRequest = Schema<'IssueInvoice'>
export type ApplicantStatus = Schema<'Status'>
export type OrderStatus = Schema<'payment_Status'>

/** The offer in force (`GET /institutions/me/offer`, and `PublishResponse.offer`). */
export interface OfferView {
  institution_id: string
  name: string
  city: string
  offers: Array<OfferLineRequest & { label?: string; modes?: string[] }>
  features: string
  exam_locations: string[]
  payment_methods: string[]
  modes?: string[]
  positions?: string[]
  demo?: boolean
}

export interface Eligibility {
  verdict: 'eligible' | 'not_eligible' | 'needs_review'
  reason: string
  rule: string
  major_class: string
}

export interface PhotoProblem {
  rule?: string
  code: string
  message: string
}

export interface MaterialInfo {
  object_key?: string
  content_type?: string
  size?: number | null
  photo_ok?: boolean
}

/** A row of the review queue (`GET /review-queue`): the applicants read model. */
export interface QueueApplicant {
  applicant_id: string
  batch_id: string
  enterprise_id: string
  institution_id: string
  name: string
  gender?: string
  id_number: string
  mobile?: string
  education?: string
  employer?: string
  major?: string
  graduated_on?: string | null
  years_in_post?: number | null
  position: string
  specialisation?: string | null
  training_mode: string
  continuing_education?: boolean
  status: ApplicantStatus
  status_label: string
  rejection_reason?: string
  eligibility?: Eligibility | null
  materials?: Record<string, MaterialInfo>
  photo_ok?: boolean | null
  photo_problems?: PhotoProblem[]
  photo_checked_at?: string | null
  corrected_at?: string | null
  imported_at?: string | null
}

/** One applicant (`GET /applicants/{id}`): the event-sourced state with the read model's checks. */
export interface ApplicantFile extends Omit<QueueApplicant, 'materials'> {
  materials: string[]
  photo_problems: PhotoProblem[]
  head_photo?: Record<string, unknown> | null
  head_photo_locked?: boolean
  open?: boolean
  closed_reason?: string | null
  closed_reason_label?: string | null
  order_id?: string | null
  version?: number
}

export interface DocumentLink {
  document: string
  content_type: string
  size?: number | null
  url: string
  expires_in?: number
}

/** One refusal of a bulk review (the problem's `errors`). */
export interface ReviewRefusal {
  applicant_id: string
  code: string
  message: string
}

export interface InvoiceRequest {
  invoice_type: 'ordinary' | 'special' | string
  company_name: string
  tax_number: string
  address?: string
  phone?: string
  bank?: string
  bank_account?: string
}

export interface Voucher {
  voucher_id: string
  payer_name: string
  amount_fen: number
  paid_on: string
  bank_serial: string
  note?: string
  content_type?: string
  invoice?: InvoiceRequest | null
  invoice_request?: InvoiceRequest | null
  rejection_reason?: string
  uploaded_at?: string
  state: 'pending' | 'rejected' | 'confirmed'
}

export interface OrderLine {
  applicant_id: string
  position: string
  specialisation?: string | null
  training_mode: string
  fee_fen: number
  [key: string]: unknown
}

export interface IssuedInvoice {
  invoice_number: string
  issued_on: string
  invoice_type: string
  amount_fen: number
}

/** A row of `GET /payment/orders` (the orders read model). */
export interface OrderRow {
  order_id: string
  order_number: string
  enterprise_id: string
  institution_id: string
  amount_fen: number
  status: OrderStatus
  status_label: string
  voucher_state: 'none' | 'pending' | 'rejected' | 'confirmed'
  voucher: Voucher | null
  voucher_history?: Array<{ voucher_id: string; amount_fen: number; uploaded_at: string; rejection_reason?: string }>
  lines: OrderLine[]
  count_by_mode?: Record<string, number>
  continuing_education?: boolean
  invoice: IssuedInvoice | null
  refund: { reason: string; amount_fen: number; refunded_at: string } | null
  created_at?: string
  paid_at?: string
  method?: string
}

/** `GET /payment/orders/{id}` (from the order's stream: read-your-writes). */
export interface OrderDetail {
  order_id: string
  order_number: string
  enterprise_id: string
  institution_id: string
  amount_fen: number
  amount_yuan: string
  status: OrderStatus
  status_label: string
  count_by_mode: Record<string, number>
  in_training: string[]
  lines: OrderLine[]
  voucher: Voucher | null
  invoice: IssuedInvoice | null
}

export interface Paged<T> {
  items: T[]
  total: number
}
