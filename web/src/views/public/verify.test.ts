import { describe, expect, it } from 'vitest'
import { STATE_ORDER, normalizeNumber, relatedLinks, stateInfo, type VerifyResult } from './verify'

const result = (over: Partial<VerifyResult>): VerifyResult => ({
  certificate_number: '3320260100001236', state: 'valid', state_label: '有效', holder_name: '欧***',
  id_number: '330106********001X', position: '施工员', specialisation: '土建施工', institution_name: '某培训学校',
  issued_on: '2026-01-05', legacy: false, renewed_by_number: null, renews_number: null, ...over,
})

describe('the verification page texts', () => {
  it('labels the four states as the certificate says and explains each', () => {
    expect(STATE_ORDER.map((s) => stateInfo(s).label)).toEqual(['有效', '已失效', '已更新', '已注销'])
    expect(stateInfo('lapsed').meaning).toContain('继续教育学时不足')
    expect(stateInfo('superseded').meaning).toContain('以更新后的证书为准')
    expect(stateInfo('revoked').tone).toBe('bad')
    expect(stateInfo('valid').tone).toBe('ok')
  })

  it('keeps the server label of a state it does not know', () => {
    expect(stateInfo('frozen', '冻结').label).toBe('冻结')
    expect(stateInfo('frozen').label).toBe('未知状态')
  })

  it('links a renewed certificate to its successor and back', () => {
    expect(relatedLinks(result({ state: 'superseded', renewed_by_number: 'N2' }))).toEqual([
      { text: '查看更新后的证书 N2', number: 'N2' },
    ])
    expect(relatedLinks(result({ renews_number: 'OLD-1' }))[0].text).toBe('查看原证书 OLD-1（已更新）')
    expect(relatedLinks(result({}))).toEqual([])
  })

  it('normalises a typed number', () => {
    expect(normalizeNumber(' 3320 2601 0000 123x ')).toBe('332026010000123X')
  })
})
