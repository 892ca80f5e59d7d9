import { ProblemError } from '@/api/client'
import type { Refusal } from './types'

/** The per-person refusals a problem+json answer carries (`errors`: [{applicant_id, name, code, message,
 * reasons}]), or null when it is another kind of error. */
export function refusalsOf(e: unknown): { message: string; refusals: Refusal[] } | null {
  if (!(e instanceof ProblemError)) return null
  const list = (e.errors ?? (Array.isArray(e.details) ? e.details : [])) as unknown[]
  const refusals = list.filter(
    (x): x is Refusal => typeof x === 'object' && x !== null && typeof (x as Refusal).applicant_id === 'string',
  )
  return refusals.length ? { message: e.detail, refusals } : null
}
