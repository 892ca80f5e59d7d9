import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { fakeFetch } from '@/test/fetch'
import { useSession } from '@/stores/session'
import HoursView from './HoursView.vue'

const certificate = {
  certificate_id: 'c1', certificate_number: 'JS-001', holder_name: '赵六', id_number: '330106199001011234',
  position: '施工员', specialisation: '土建施工', issued_on: '2025-08-09', legacy: true, state: 'valid', state_label: '有效',
}
const progress = (records: unknown[]) => ({
  certificate_id: 'c1', certificate_number: 'JS-001', state: 'valid', state_label: '有效', issued_on: '2025-08-09',
  today: '2026-12-02', rules: { hours_per_cycle: 32, professional_hours_per_cycle: 22 },
  cycles: [{ index: 1, starts_on: '2026-08-09', ends_on: '2027-08-08', total: 4, professional: 4, general: 0, complete: false, met: false, missing_total: 28, missing_professional: 18, lapses_on: null }],
  lapses_on: '2029-08-09', records,
})

afterEach(() => vi.unstubAllGlobals())

let submit: () => Promise<void>

describe('HoursView', () => {
  it('finds a certificate, shows its cycle, checks a record before sending it, sends it and reads it back', async () => {
    const record = { record_id: 'r1', studied_on: '2026-11-22', hours: 4, kind: 'professional', kind_label: '专业科目', course: '新规范', source: 'manual' }
    let recorded = false
    const calls = fakeFetch(({ url, method }) => {
      if (url.startsWith('/api/certification/certificates?')) return { status: 200, body: { items: [certificate] } }
      if (url === '/api/certification/certificates/c1/hours' && method === 'GET') return { status: 200, body: progress(recorded ? [record] : []) }
      if (url === '/api/certification/certificates/c1/hours' && method === 'POST') {
        recorded = true
        return { status: 201, body: { record_id: 'r1', certificate_id: 'c1', duplicate: false } }
      }
      return { status: 404, body: { code: 'not_found', detail: '未找到' } }
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().account = { account_id: 'x', role: 'institution', org_id: 'inst', city: '杭州', username: 'inst', display_name: null }
    const wrapper = mount(HoursView, { global: { plugins: [ElementPlus, pinia] } })
    submit = async () => {
      await wrapper.get('[data-testid=hours-form]').trigger('submit')
      await flushPromises()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await vi.waitFor(() => expect(wrapper.get('[data-testid=certificates]').text()).toContain('JS-001'), { timeout: 5_000 })
    await wrapper.get('button[aria-label=登记赵六的学时]').trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.get('[data-testid=cycles]').text()).toContain('还差 28 学时（专业 18）'), { timeout: 5_000 })
    expect(wrapper.text()).toContain('2029-08-09')

    // nothing filled: the problems, and nothing sent
    await submit()
    await vi.waitFor(() => expect(wrapper.get('[data-testid=hours-form]').text()).toContain('请选择学习日期'), { timeout: 5_000 })
    expect(calls.some((c) => c.method === 'POST')).toBe(false)

    await wrapper.get('input[aria-label=学习日期]').setValue('2025-01-01')
    await wrapper.get('input[aria-label=课程名称]').setValue('新规范')
    await submit()
    await vi.waitFor(() => expect(wrapper.get('[data-testid=hours-form]').text()).toContain('学习日期不能早于发证日期 2025-08-09'), { timeout: 5_000 })

    await wrapper.get('input[aria-label=学习日期]').setValue('2026-11-22')
    await wrapper.get('input[aria-label=学时]').setValue('4')
    await wrapper.get('input[aria-label=学时]').trigger('blur')
    await wrapper.findAll('input[type=radio]')[0].setValue(true)
    await wrapper.get('[data-testid=hours-form]').trigger('submit')
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await flushPromises()
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true), { timeout: 5_000 })
    const sent = calls.find((c) => c.method === 'POST')
    expect(sent?.body).toEqual({ studied_on: '2026-11-22', hours: 4, kind: 'professional', course: '新规范' })
    expect(sent?.headers['Idempotency-Key']).toBeTruthy()
    await vi.waitFor(() => expect(wrapper.get('[data-testid=records]').text()).toContain('新规范'), { timeout: 5_000 })
  }, 30_000)
})
