import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import OfferPreview from './OfferPreview.vue'
import { draftFromOffer, emptyDraft, requestFromDraft, sameOffer, validateOffer, yuanToFen, type OfferDraft } from './offer'

function draft(overrides: Partial<OfferDraft> = {}): OfferDraft {
  return {
    name: '育人学院',
    city: '杭州市',
    features: ' 线上线下结合 ',
    exam_locations: ['杭州市西湖区考点', ' ', '杭州市西湖区考点'],
    payment_methods: ['offline', 'online'],
    lines: [
      { position: '施工员', specialisation: '土建施工', online: '600', offline: '900.50' },
      { position: '安全员', specialisation: '装饰装修', online: '', offline: '800' },
    ],
    ...overrides,
  }
}

describe('offer form', () => {
  it('sends fees in fen, the city without 市, no specialisation for positions without one, no blank locations', () => {
    const req = requestFromDraft(draft())
    expect(req.city).toBe('杭州')
    expect(req.features).toBe('线上线下结合')
    expect(req.exam_locations).toEqual(['杭州市西湖区考点'])
    expect(req.offers).toEqual([
      { position: '施工员', specialisation: '土建施工', fee_online_fen: 60000, fee_offline_fen: 90050 },
      { position: '安全员', specialisation: null, fee_online_fen: null, fee_offline_fen: 80000 },
    ])
    expect(validateOffer(draft())).toEqual([])
  })

  it('reads yuan with at most two decimals', () => {
    expect(yuanToFen('1800')).toBe(180000)
    expect(yuanToFen('0.5')).toBe(50)
    expect(yuanToFen('')).toBeNull()
    expect(yuanToFen('1.234')).toBeNaN()
    expect(yuanToFen('-3')).toBeNaN()
  })

  it('reports every problem at once, by row, as the API does', () => {
    const problems = validateOffer(
      draft({
        name: ' ',
        city: '上海',
        payment_methods: [],
        lines: [
          { position: '施工员', specialisation: '', online: '600', offline: '' },
          { position: '资料员', specialisation: '', online: '', offline: '' },
          { position: '资料员', specialisation: '', online: 'abc', offline: '200000' },
        ],
      }),
    )
    const fields = problems.map((p) => p.field)
    expect(fields).toContain('name')
    expect(fields).toContain('city')
    expect(fields).toContain('payment_methods')
    expect(fields).toContain('offers[0].specialisation')
    expect(problems.find((p) => p.field === 'offers[1]')?.message).toContain('请至少填写线上或线下一种培训方式的收费')
    expect(fields).toContain('offers[2].fee_online_fen')
    expect(fields).toContain('offers[2].fee_offline_fen') // over 10 万元
    expect(problems.some((p) => p.message.includes('与第 2 行重复'))).toBe(true)
  })

  it('refuses an empty offer and round-trips a published one', () => {
    const empty = emptyDraft()
    empty.lines = []
    expect(validateOffer(empty).map((p) => p.field)).toContain('offers')
    const published = {
      institution_id: 'i1', name: '育人学院', city: '杭州', features: '', exam_locations: [], payment_methods: ['offline'],
      offers: [{ position: '施工员', specialisation: '土建施工', fee_online_fen: 60000, fee_offline_fen: null }],
    }
    const back = requestFromDraft(draftFromOffer(published))
    expect(back.offers[0]).toEqual(published.offers[0])
    expect(sameOffer({ ...published, offers: back.offers }, published)).toBe(true)
    expect(sameOffer({ ...published, features: 'x' }, published)).toBe(false)
  })

  it('previews the offer as enterprises see it', () => {
    const wrapper = mount(OfferPreview, { props: { offer: requestFromDraft(draft()) } })
    const text = wrapper.text()
    expect(text).toContain('施工员（土建施工） 线上¥600.00 线下¥900.50')
    expect(text).toContain('安全员 线上— 线下¥800.00')
    expect(text).toContain('线上、线下')
    expect(text).toContain('线下转账、线上支付')
  })
})
