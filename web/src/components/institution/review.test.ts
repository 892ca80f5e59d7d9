import { afterEach, describe, expect, it } from 'vitest'
import { asRefusals, clearDecisions, eligibilityFactors, noteDecision, pendingDecision, refusalRows } from './review'
import { amountProblem, clearOrderChanges, noteOrderChange, parseYuan, pendingOrderChange } from './payment'

afterEach(() => {
  clearDecisions()
  clearOrderChanges()
})

describe('review helpers', () => {
  it('explains the pre-check by education, major (with its class) and years', () => {
    const factors = eligibilityFactors({
      education: '专科', major: '建筑工程技术', years_in_post: 3,
      eligibility: { verdict: 'eligible', reason: '…', rule: 'r', major_class: 'own' },
    })
    expect(factors.map((f) => f.value)).toEqual(['专科', '建筑工程技术：土建类本专业', '3 年'])
    expect(eligibilityFactors({})[2].value).toBe('（未填写）')
  })

  it('keeps a decided row "processing" until the read model shows the decision', () => {
    noteDecision('a1', 'qualified', 1000)
    expect(pendingDecision({ applicant_id: 'a1', status: 'pending' }, 2000)).toBe('qualified')
    expect(pendingDecision({ applicant_id: 'a2', status: 'pending' }, 2000)).toBeNull()
    expect(pendingDecision({ applicant_id: 'a1', status: 'qualified' }, 3000)).toBeNull()
    expect(pendingDecision({ applicant_id: 'a1', status: 'pending' }, 4000)).toBeNull() // forgotten once caught up
    noteDecision('a3', 'rejected', 0)
    expect(pendingDecision({ applicant_id: 'a3', status: 'pending' }, 121_000)).toBeNull() // too old
  })

  it('lists the refusals of a bulk review with names', () => {
    const refusals = asRefusals([{ applicant_id: 'a1', code: 'invalid_status', message: '不能审核通过' }, { row: 1 }])
    expect(refusals).toHaveLength(1)
    expect(refusalRows(refusals, { a1: '张三' })[0]).toMatchObject({ name: '张三', message: '不能审核通过' })
    expect(asRefusals(undefined)).toEqual([])
  })
})

describe('payment helpers', () => {
  it('compares the received amount with the order and the voucher', () => {
    expect(parseYuan('1,800.5')).toBe(180050)
    expect(parseYuan('¥600')).toBe(60000)
    expect(parseYuan('6.001')).toBeNull()
    expect(amountProblem('600.00', 60000, 60000)).toBeNull()
    expect(amountProblem('', 60000, 60000)).toContain('请填写')
    expect(amountProblem('500', 60000, 60000)).toContain('与订单金额 600.00 元不符')
    expect(amountProblem('600', 60000, 50000)).toContain('缴费凭证金额 500.00 元')
  })

  it('keeps a changed order "processing" until the list shows the change', () => {
    noteOrderChange('o1', { status: 'paid', voucher_state: 'confirmed' }, 0)
    expect(pendingOrderChange({ order_id: 'o1', status: 'unpaid', voucher_state: 'pending' }, 10)).not.toBeNull()
    expect(pendingOrderChange({ order_id: 'o1', status: 'paid', voucher_state: 'pending' }, 10)).not.toBeNull()
    expect(pendingOrderChange({ order_id: 'o1', status: 'paid', voucher_state: 'confirmed' }, 10)).toBeNull()
    noteOrderChange('o2', { invoice: true }, 0)
    expect(pendingOrderChange({ order_id: 'o2', status: 'paid', invoice: null }, 10)).not.toBeNull()
    expect(pendingOrderChange({ order_id: 'o2', status: 'paid', invoice: { n: 1 } }, 10)).toBeNull()
  })
})
