// The institution's offer form: fees typed in yuan, sent in fen; checked before sending with the rules the
// API applies (enrollment/domain/institution.py `validate_offer`, and OfferRequest's limits), so the user sees
// every problem at once, by row, before the click. The API checks again and its problems are shown too.
import { POSITIONS, SPECIALISATIONS, SPECIALISED } from '@/components/enterprise/files'
import type { OfferLineRequest, OfferRequest, OfferView } from './types'

export const CITIES = ['杭州', '宁波', '温州', '嘉兴', '湖州', '绍兴', '金华', '衢州', '舟山', '台州', '丽水']
export const PAYMENT_METHODS: Record<string, string> = { online: '线上支付', offline: '线下转账' }
export const FEE_MAX_FEN = 10_000_000 // 10 万元
export const NAME_MAX = 100
export const FEATURES_MAX = 2000
export const EXAM_LOCATIONS_MAX = 20
export const EXAM_LOCATION_MAX = 100
export const LINES_MAX = 100

/** One row of the form: fees as typed (yuan, '' = the mode is not offered). */
export interface OfferLineDraft {
  position: string
  specialisation: string
  online: string
  offline: string
}

export interface OfferDraft {
  name: string
  city: string
  features: string
  exam_locations: string[]
  payment_methods: string[]
  lines: OfferLineDraft[]
}

export interface OfferProblem {
  field: string
  message: string
}

const YUAN = /^\d{1,9}(\.\d{1,2})?$/

/** Yuan as typed → fen; null for an empty field, NaN for something that is not an amount. */
export function yuanToFen(text: string): number | null {
  const t = text.trim()
  if (!t) return null
  if (!YUAN.test(t)) return Number.NaN
  const [whole, frac = ''] = t.split('.')
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2))
}

export function fenToYuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return ''
  return (fen / 100).toFixed(2)
}

export function lineLabel(position: string, specialisation: string | null | undefined): string {
  return specialisation ? `${position}（${specialisation}）` : position
}

export function emptyDraft(): OfferDraft {
  return { name: '', city: '', features: '', exam_locations: [], payment_methods: ['offline'], lines: [emptyLine()] }
}

export function emptyLine(): OfferLineDraft {
  return { position: '', specialisation: '', online: '', offline: '' }
}

export function draftFromOffer(offer: OfferView): OfferDraft {
  return {
    name: offer.name ?? '',
    city: offer.city ?? '',
    features: offer.features ?? '',
    exam_locations: [...(offer.exam_locations ?? [])],
    payment_methods: [...(offer.payment_methods ?? [])],
    lines: (offer.offers ?? []).map((l) => ({
      position: l.position,
      specialisation: l.specialisation ?? '',
      online: fenToYuan(l.fee_online_fen),
      offline: fenToYuan(l.fee_offline_fen),
    })),
  }
}

function normalCity(raw: string): string {
  const city = raw.trim()
  return city.endsWith('市') && CITIES.includes(city.slice(0, -1)) ? city.slice(0, -1) : city
}

/** The request the form makes (trimmed; blank exam locations dropped). Fees that are not amounts stay NaN:
 * `validateOffer` reports them and the form is not sent. */
export function requestFromDraft(draft: OfferDraft): OfferRequest {
  const offers: OfferLineRequest[] = draft.lines.map((l) => ({
    position: l.position.trim(),
    specialisation: SPECIALISED.includes(l.position) ? l.specialisation.trim() || null : null,
    fee_online_fen: yuanToFen(l.online),
    fee_offline_fen: yuanToFen(l.offline),
  }))
  return {
    name: draft.name.trim(),
    city: normalCity(draft.city),
    features: draft.features.trim(),
    exam_locations: [...new Set(draft.exam_locations.map((x) => x.trim()).filter(Boolean))],
    payment_methods: [...new Set(draft.payment_methods)],
    offers,
  }
}

/** Every problem of the form at once (empty: it may be sent), by field as the API names them. */
export function validateOffer(draft: OfferDraft): OfferProblem[] {
  const out: OfferProblem[] = []
  const problem = (field: string, message: string) => out.push({ field, message })
  const req = requestFromDraft(draft)
  if (!req.name) problem('name', '请填写培训机构名称')
  else if (req.name.length > NAME_MAX) problem('name', `培训机构名称不能超过 ${NAME_MAX} 个字`)
  if (!CITIES.includes(req.city)) problem('city', `所在城市应为浙江省 11 个设区市之一：${CITIES.join('、')}`)
  if (!req.offers.length) problem('offers', '请至少填写一个培训岗位及其收费')
  if (req.offers.length > LINES_MAX) problem('offers', `开设岗位最多 ${LINES_MAX} 行`)
  const seen = new Map<string, number>()
  req.offers.forEach((line, index) => {
    const row = index + 1
    const at = `offers[${index}]`
    const spec = line.specialisation ?? null
    if (!line.position) problem(`${at}.position`, `第 ${row} 行：请选择岗位`)
    else if (!POSITIONS.includes(line.position)) {
      problem(`${at}.position`, `第 ${row} 行：岗位“${line.position}”不在可选范围内（${POSITIONS.join('、')}）`)
    } else if (SPECIALISED.includes(line.position)) {
      if (!spec) problem(`${at}.specialisation`, `第 ${row} 行：${line.position}须选择专业方向（${SPECIALISATIONS.join('、')}）`)
      else if (!SPECIALISATIONS.includes(spec)) {
        problem(`${at}.specialisation`, `第 ${row} 行：${line.position}的专业方向“${spec}”不在可选范围内`)
      }
    }
    const label = lineLabel(line.position || '（未选岗位）', spec)
    const fees = { 线上: line.fee_online_fen, 线下: line.fee_offline_fen }
    if (fees.线上 === null && fees.线下 === null) {
      problem(at, `第 ${row} 行（${label}）：请至少填写线上或线下一种培训方式的收费`)
    }
    for (const [mode, fen] of Object.entries(fees)) {
      if (fen !== null && fen !== undefined && (Number.isNaN(fen) || fen < 0 || fen > FEE_MAX_FEN)) {
        const field = mode === '线上' ? 'fee_online_fen' : 'fee_offline_fen'
        problem(
          `${at}.${field}`,
          `第 ${row} 行（${label}）：${mode}培训收费应为 0 至 ${(FEE_MAX_FEN / 100).toLocaleString('en-US')} 元之间的金额（最多两位小数）`,
        )
      }
    }
    const key = `${line.position}|${spec ?? ''}`
    if (line.position && seen.has(key)) problem(at, `第 ${row} 行：${label}与第 ${(seen.get(key) ?? 0) + 1} 行重复`)
    else seen.set(key, index)
  })
  if (req.features && req.features.length > FEATURES_MAX) problem('features', `机构特色不能超过 ${FEATURES_MAX} 个字`)
  const locations = req.exam_locations ?? []
  if (locations.length > EXAM_LOCATIONS_MAX) problem('exam_locations', `考试地点最多填写 ${EXAM_LOCATIONS_MAX} 个`)
  locations.forEach((loc, i) => {
    if (loc.length > EXAM_LOCATION_MAX) problem(`exam_locations[${i}]`, `考试地点“${loc.slice(0, 10)}…”不能超过 ${EXAM_LOCATION_MAX} 个字`)
  })
  const methods = req.payment_methods ?? []
  if (!methods.length) problem('payment_methods', '请至少选择一种缴费方式（线上支付或线下转账）')
  for (const m of methods) if (!(m in PAYMENT_METHODS)) problem('payment_methods', `缴费方式“${m}”不在可选范围内`)
  return out
}

/** The problems of one row (for the row's own error text). */
export function rowProblems(problems: OfferProblem[], index: number): string[] {
  const prefix = `offers[${index}]`
  return problems.filter((p) => p.field === prefix || p.field.startsWith(`${prefix}.`)).map((p) => p.message)
}

/** Whether the offer an enterprise sees (the institutions read model) is the one just published. */
export function sameOffer(a: Pick<OfferView, 'offers' | 'features' | 'payment_methods' | 'exam_locations' | 'name'>, b: typeof a): boolean {
  const key = (o: typeof a) =>
    JSON.stringify([
      o.name,
      o.features,
      [...(o.payment_methods ?? [])].sort(),
      [...(o.exam_locations ?? [])],
      (o.offers ?? [])
        .map((l) => [l.position, l.specialisation ?? null, l.fee_online_fen ?? null, l.fee_offline_fen ?? null])
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    ])
  return key(a) === key(b)
}
