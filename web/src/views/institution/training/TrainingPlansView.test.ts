import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { fakeFetch } from '@/test/fetch'
import { useSession } from '@/stores/session'
import TrainingPlansView from './TrainingPlansView.vue'

const created = {
  plan_id: 'p9', institution_id: 'inst', name: '继续教育班', training_mode: 'online', training_mode_label: '线上',
  position: '安全员', starts_on: '2026-12-01', ends_on: '2026-12-03', place: '', platform: 'https://edu.example.cn',
  schedule: '', continuing_education: true, professional_hours: 16, general_hours: 8,
  trainee_count: 0, completed_count: 0, exam_applied_count: 0,
}

afterEach(() => vi.unstubAllGlobals())

describe('TrainingPlansView', () => {
  it('checks the form as the service does, sends the plan, and lists it once the read model has it', async () => {
    let posted = false
    const calls = fakeFetch(({ url, method }) => {
      if (url.startsWith('/api/enrollment/training-plans') && method === 'POST') {
        posted = true
        return { status: 201, body: created }
      }
      if (url.startsWith('/api/enrollment/training-plans')) return { status: 200, body: { items: posted ? [created] : [], total: posted ? 1 : 0 } }
      return { status: 404, body: { code: 'not_found', detail: '未找到' } }
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().account = { account_id: 'x', role: 'institution', org_id: 'inst', city: '杭州', username: 'inst', display_name: null }
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div />' } }] })
    const wrapper = mount(TrainingPlansView, { global: { plugins: [ElementPlus, pinia, router] }, attachTo: document.body })
    await flushPromises()
    await wrapper.get('[data-testid=new-plan]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-testid=plan-form]') as HTMLFormElement
    await vi.waitFor(() => expect(dialog()).toBeTruthy(), { timeout: 5_000 })

    // an online continuing-education plan with nothing else filled: every problem, nothing sent
    const radios = [...dialog().querySelectorAll('input[type=radio]')] as HTMLInputElement[]
    radios.find((r) => r.value === 'true')!.click() // 继续教育
    radios.find((r) => r.value === 'online')!.click()
    await flushPromises()
    dialog().dispatchEvent(new Event('submit'))
    // the form's messages appear field by field (its validation is asynchronous): wait for all of them
    await vi.waitFor(
      () => {
        const text = dialog().textContent ?? ''
        expect(text).toContain('请填写计划名称')
        expect(text).toContain('线上培训须填写网络培训平台')
        expect(text).toContain('继续教育培训计划须填写专业科目学时')
      },
      { timeout: 5_000 },
    )
    expect(calls.some((c) => c.method === 'POST')).toBe(false)

    const set = async (label: string, value: string) => {
      const input = dialog().querySelector(`[aria-label="${label}"]`) as HTMLInputElement
      input.value = value
      input.dispatchEvent(new Event('input'))
      input.dispatchEvent(new Event('change'))
      await flushPromises()
    }
    await set('计划名称', '继续教育班')
    await set('开始日期', '2026-12-01')
    await set('结束日期', '2026-12-03')
    await set('网络培训平台', 'https://edu.example.cn')
    await set('专业科目学时', '16')
    await set('公共科目学时', '8')
    ;(wrapper.vm as unknown as { draft: { position: string } }).draft.position = '安全员'
    await flushPromises()
    dialog().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true), { timeout: 5_000 })
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: '继续教育班', training_mode: 'online', position: '安全员', starts_on: '2026-12-01', ends_on: '2026-12-03',
      place: null, platform: 'https://edu.example.cn', schedule: null, continuing_education: true,
      professional_hours: 16, general_hours: 8,
    })
    await vi.waitFor(() => expect(wrapper.get('[data-testid=plans]').text()).toContain('继续教育班'), { timeout: 5_000 })
    expect(wrapper.get('[data-testid=plans]').text()).toContain('继续教育')
    wrapper.unmount()
  }, 30_000)
})
