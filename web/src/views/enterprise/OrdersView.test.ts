// The order drawer after a voucher: the voucher, the invoice details and its state instead of the form;
// after a return the reason (from the list, "处理中" while the list lags) and the form again.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import OrdersView from './OrdersView.vue'

const invoice = { invoice_type: 'special', company_name: '杭州测试建工有限公司', tax_number: '91330106MA2XXXXX1A', address: '文三路1号', phone: '0571-88888888', bank: '工商银行', bank_account: '1202' }

function order(state: string | null, voucherId = 'v1') {
  return {
    order_id: 'o1', order_number: 'DD20261202001', institution_id: 'i1', amount_fen: 60000, amount_yuan: '600.00',
    status: 'unpaid', status_label: '待缴费', count_by_mode: { online: 1 }, in_training: [],
    lines: [{ applicant_id: 'a1', position: '施工员', specialisation: '土建施工', training_mode: 'online', fee_fen: 60000 }],
    voucher: state === null ? null : {
      voucher_id: voucherId, payer_name: '杭州测试建工有限公司', amount_fen: 60000, paid_on: '2026-12-01', bank_serial: 'SN123',
      note: '', content_type: 'image/png', invoice, state,
    },
    invoice: null,
  }
}

function listed(voucher: Record<string, unknown> | null, voucherState: string) {
  return { order_id: 'o1', order_number: 'DD20261202001', institution_id: 'i1', amount_fen: 60000, status: 'unpaid', status_label: '待缴费', voucher_state: voucherState, voucher, lines: [] }
}

async function open(detail: unknown, list: unknown) {
  const calls = fakeFetch(({ url }) => {
    if (url.startsWith('/api/payment/orders/o1/voucher')) return { status: 200, body: { url: 'https://files.example/voucher.png?sig=1', content_type: 'image/png', voucher_id: 'v1' } }
    if (url.startsWith('/api/payment/orders/o1')) return { status: 200, body: detail }
    if (url.startsWith('/api/payment/orders')) return { status: 200, body: { items: [list], total: 1 } }
    if (url.startsWith('/api/enrollment/institutions')) return { status: 200, body: { items: [{ institution_id: 'i1', name: '育人学院', city: '杭州', modes: [], features: '', exam_locations: [], payment_methods: ['offline'] }] } }
    if (url.startsWith('/api/enrollment/applicants/a1')) return { status: 200, body: { applicant_id: 'a1', name: '张三' } }
    if (url.startsWith('/api/enrollment/applicants')) return { status: 200, body: { items: [] } }
    if (url.startsWith('/api/registration/enterprises/me')) return { status: 200, body: { name: '杭州测试建工有限公司', credit_code: '91330106MA2XXXXX1A' } }
    return { status: 404, body: { code: 'not_found', detail: url } }
  })
  const wrapper = mount(OrdersView, { global: { plugins: [ElementPlus] }, attachTo: document.body })
  await flushPromises()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const details = wrapper.findAll('button').find((b) => b.text() === '详情')
  expect(details, 'the 详情 button').toBeTruthy()
  await details?.trigger('click')
  await flushPromises()
  await new Promise((resolve) => setTimeout(resolve, 50))
  await flushPromises()
  return { wrapper, calls }
}

const inDrawer = (testid: string) => document.body.querySelector(`[data-testid=${testid}]`)

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('OrdersView: the submitted voucher', { timeout: 30_000 }, () => {
  it('shows the voucher, the invoice details, 待确认 and the link, not the upload form', async () => {
    const { wrapper, calls } = await open(order('pending'), listed({ voucher_id: 'v1', state: 'pending' }, 'pending'))
    expect(inDrawer('voucher-state')?.textContent?.trim()).toBe('待确认')
    expect(inDrawer('voucher-alert')?.textContent).toContain('等待培训机构确认收款')
    const voucher = inDrawer('voucher')?.textContent ?? ''
    for (const text of ['SN123', '¥600.00', '增值税专用发票', '91330106MA2XXXXX1A', '工商银行', '1202']) expect(voucher).toContain(text)
    expect(inDrawer('voucher-form')).toBeNull()
    expect(calls.some((c) => c.url === '/api/payment/orders/o1/voucher')).toBe(true)
    expect(inDrawer('voucher-link')?.getAttribute('href')).toBe('https://files.example/voucher.png?sig=1')
    expect(wrapper.get('[data-testid=orders]').text()).toContain('待确认')
    wrapper.unmount()
  })

  it('after a return: 已退回 with the reason from the list, the form back, no link', async () => {
    const { wrapper } = await open(
      order('rejected'),
      listed({ voucher_id: 'v1', state: 'rejected', rejection_reason: '金额与到账不符' }, 'rejected'),
    )
    expect(inDrawer('voucher-state')?.textContent?.trim()).toBe('已退回')
    expect(inDrawer('voucher-alert')?.textContent).toContain('金额与到账不符')
    expect(inDrawer('voucher-form')).not.toBeNull()
    expect(inDrawer('voucher-link')).toBeNull()
    wrapper.unmount()
  })

  it('says 处理中 for the reason while the list has not caught up', async () => {
    const { wrapper } = await open(order('rejected'), listed({ voucher_id: 'v1', state: 'pending' }, 'pending'))
    expect(inDrawer('voucher-state')?.textContent?.trim()).toBe('已退回')
    expect(inDrawer('voucher-alert')?.textContent).toContain('处理中')
    expect(inDrawer('voucher-form')).not.toBeNull()
    expect(wrapper.get('[data-testid=orders]').text()).toContain('处理中')
    wrapper.unmount()
  })
})
