import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { fakeFetch, type Call } from '@/test/fetch'
import { useSession } from '@/stores/session'
import TrainingPlanView from './TrainingPlanView.vue'

const plan = {
  plan_id: 'p1', institution_id: 'inst', name: '施工员线下班', training_mode: 'offline', training_mode_label: '线下',
  position: '施工员', starts_on: '2026-11-29', ends_on: '2026-12-03', place: '杭州', platform: '', schedule: '',
  continuing_education: false, professional_hours: null, general_hours: null,
  trainee_count: 3, completed_count: 2, exam_applied_count: 0,
}
const trainee = (id: string, name: string, completed: boolean) => ({
  applicant_id: id, name, gender: '男', id_number: `33010619900101${id}`, employer: '建工', enterprise_id: 'e',
  state: completed ? 'completed' : 'planned', state_label: completed ? '已完成培训' : '已安排培训',
  planned_at: null, completed, completed_at: null, exam_applied: false, exam_applied_at: null,
})
const facts: Record<string, unknown> = {
  a1: { status: 'enrolled', status_label: '已报名', continuing_education: false, head_photo: { photo_ok: true }, head_photo_locked: false },
  a2: { status: 'enrolled', status_label: '已报名', continuing_education: false, head_photo: null, head_photo_locked: false },
  a3: { status: 'exam_failed', status_label: '考试未通过（可申请补考）', continuing_education: false, head_photo: null, head_photo_locked: true },
}

async function mountPlan(answer: (call: Call) => { status: number; body?: unknown } | undefined) {
  const calls = fakeFetch((call) => {
    const special = answer(call)
    if (special) return special
    if (call.url === '/api/enrollment/training-plans/p1') {
      return { status: 200, body: { ...plan, trainees: [trainee('a1', '张三', true), trainee('a2', '王五', true), trainee('a3', '李四', true)] } }
    }
    const m = /^\/api\/enrollment\/applicants\/(a\d)$/.exec(call.url)
    if (m) return { status: 200, body: facts[m[1]] }
    return { status: 404, body: { code: 'not_found', detail: '未找到' } }
  })
  const pinia = createPinia()
  setActivePinia(pinia)
  useSession().account = { account_id: 'x', role: 'institution', org_id: 'inst', city: '杭州', username: 'inst', display_name: null }
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/institution/training-plans', component: { template: '<div />' } },
      { path: '/institution/training-plans/:planId', component: TrainingPlanView },
    ],
  })
  await router.push('/institution/training-plans/p1')
  await router.isReady()
  const wrapper = mount(TrainingPlanView, { global: { plugins: [ElementPlus, pinia, router] } })
  await flushPromises()
  await new Promise((resolve) => setTimeout(resolve, 50))
  await flushPromises()
  return { wrapper, calls }
}

afterEach(() => vi.unstubAllGlobals())

describe('TrainingPlanView', () => {
  it('shows before the click who may go to the exam and why not; sends only those; lists the refused', async () => {
    const { wrapper, calls } = await mountPlan((call) =>
      call.url.endsWith('/apply-exam')
        ? {
            status: 200,
            body: {
              plan_id: 'p1', applied: ['a1'], retakes: [], already_applied: [],
              refused: [{ applicant_id: 'a3', name: '李四', code: 'head_photo_invalid', message: '头像不符合要求', reasons: [{ code: 'head_photo_invalid', message: '头像不符合要求' }] }],
            },
          }
        : undefined,
    )
    await vi.waitFor(() => expect(wrapper.get('[data-testid=exam-hint-李四]').text()).toContain('可补考'), { timeout: 5_000 })
    expect(wrapper.get('[data-testid=exam-hint-张三]').text()).toContain('可申请考试')
    expect(wrapper.get('[data-testid=exam-hint-王五]').text()).toContain('无头像')
    expect(wrapper.get('[data-testid=exam-hint-李四]').text()).toContain('可补考')
    const wang = wrapper.get('input[aria-label=选择王五]').element as HTMLInputElement
    expect(wang.disabled).toBe(true)

    await wrapper.findAll('button').find((b) => b.text() === '全选可办理的学员')!.trigger('click')
    expect(wrapper.get('[data-testid=apply-exam]').text()).toContain('申请考试（2，含补考 1）')
    await wrapper.get('[data-testid=apply-exam]').trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.find('[data-testid=refusals]').exists()).toBe(true), { timeout: 5_000 })
    const sent = calls.find((c) => c.url.endsWith('/apply-exam'))!
    expect(sent.body).toEqual({ applicant_ids: ['a1', 'a3'] })
    expect(wrapper.get('[data-testid=refusals]').text()).toContain('李四')
    expect(wrapper.get('[data-testid=refusals]').text()).toContain('头像不符合要求')
  }, 30_000)

  it('shows each person’s reasons when completion is refused (all or nothing)', async () => {
    const { wrapper } = await mountPlan((call) => {
      if (call.url === '/api/enrollment/training-plans/p1') {
        return { status: 200, body: { ...plan, trainees: [trainee('a1', '张三', false)] } }
      }
      if (call.url.endsWith('/completion')) {
        return {
          status: 422,
          body: {
            code: 'completion_refused', detail: '以下学员不能登记培训完成，本次未登记任何学员：张三（原因见明细）',
            errors: [{ applicant_id: 'a1', name: '张三', code: 'not_in_plan', message: '该学员不在本培训计划中', reasons: [{ code: 'not_in_plan', message: '该学员不在本培训计划中' }] }],
          },
        }
      }
      return undefined
    })
    await vi.waitFor(() => expect(wrapper.get('[data-testid=exam-hint-张三]').text()).toContain('未完成培训'), { timeout: 5_000 })
    await wrapper.get('input[aria-label=选择张三]').trigger('change')
    await wrapper.get('[data-testid=complete]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=refusals]').exists()).toBe(true), { timeout: 5_000 })
    const refusals = wrapper.get('[data-testid=refusals]').text()
    expect(refusals).toContain('本次未登记任何学员')
    expect(refusals).toContain('该学员不在本培训计划中')
  }, 30_000)
})
