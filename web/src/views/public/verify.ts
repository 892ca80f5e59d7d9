// The public verification page's texts: what each certificate state means, in words a site manager checking
// a worker's certificate on a phone understands.

export type StateKey = 'valid' | 'lapsed' | 'superseded' | 'revoked'

export interface StateInfo {
  label: string
  tone: 'ok' | 'warn' | 'bad' | 'info'
  meaning: string
}

export const STATES: Record<StateKey, StateInfo> = {
  valid: {
    label: '有效',
    tone: 'ok',
    meaning: '证书真实有效：持证人已取得该岗位的培训合格证，并按要求完成继续教育。',
  },
  lapsed: {
    label: '已失效',
    tone: 'warn',
    meaning: '继续教育学时不足，证书已失去有效状态；持证人须重新参加培训，达标后恢复有效。',
  },
  superseded: {
    label: '已更新',
    tone: 'info',
    meaning: '该证书已更新为新的电子证书，原证书作废；请以更新后的证书为准。',
  },
  revoked: {
    label: '已注销',
    tone: 'bad',
    meaning: '该证书已被注销（例如考试违纪），不再具有效力。',
  },
}

export const STATE_ORDER: StateKey[] = ['valid', 'lapsed', 'superseded', 'revoked']

/** The state's label and meaning; an unknown state keeps the server's label. */
export function stateInfo(state: string, serverLabel?: string): StateInfo {
  const known = STATES[state as StateKey]
  if (known) return known
  return { label: serverLabel || '未知状态', tone: 'info', meaning: '请联系发证机构核实该证书。' }
}

/** The certificate number as typed: trimmed, upper case, no inner spaces. */
export function normalizeNumber(text: string): string {
  return text.replace(/\s+/g, '').toUpperCase()
}

export interface VerifyResult {
  certificate_number: string
  state: string
  state_label: string
  state_note?: string
  holder_name: string
  id_number: string
  position: string
  specialisation: string | null
  institution_name: string | null
  issued_on: string
  legacy: boolean
  renewed_by_number: string | null
  renews_number: string | null
  signature_valid?: boolean
  claims_match?: boolean
}

/** What links to show below the result: the certificate that replaced this one, or the one it replaced. */
export function relatedLinks(r: VerifyResult): Array<{ text: string; number: string }> {
  const links: Array<{ text: string; number: string }> = []
  if (r.renewed_by_number) links.push({ text: `查看更新后的证书 ${r.renewed_by_number}`, number: r.renewed_by_number })
  if (r.renews_number) links.push({ text: `查看原证书 ${r.renews_number}（已更新）`, number: r.renews_number })
  return links
}
