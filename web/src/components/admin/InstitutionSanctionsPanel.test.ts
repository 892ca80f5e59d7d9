// The administrator's sanctions panel: the history with its states, a refusal of the server shown in the form,
// a warning sent without a period and the answer's history shown at once, lifting only where it is allowed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import InstitutionSanctionsPanel from './InstitutionSanctionsPanel.vue'

function item(id: string, kind: string, status: string, overrides: Record<string, unknown> = {}) {
  return {
    sanction_id: id, kind, kind_label: kind === 'warning' ? '警告' : '暂停招生（新报名）', reason: '放松考试纪律',
    starts_on: '2026-12-03', ends_on: kind === 'warning' ? null : '2026-12-09', period: kind === 'warning' ? '2026-12-03 起' : '2026-12-03 至 2026-12-09',
    recorded_by: 'admin', recorded_at: null, status, status_label: { in_force: '执行中', ended: '已到期', recorded: '已记录' }[status] ?? status,
    in_force: status === 'in_force', lifted: false, lift_reason: null, lifted_by: null, lifted_at: null, ...overrides,
  }
}

const history = (items: unknown[]) => ({ institution_id: 'i1', today: '2026-12-03', items, in_force: [], warnings: 0 })

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('InstitutionSanctionsPanel', { timeout: 30_000 }, () => {
  it('lists the history, shows the server’s refusal, records a warning and shows the new history', async () => {
    let refuse = true
    const calls = fakeFetch(({ method }) => {
      if (method === 'GET') return { status: 200, body: history([item('s1', 'suspend_enrollment', 'in_force'), item('s0', 'suspend_enrollment', 'ended')]) }
      if (refuse) {
        refuse = false
        return { status: 409, body: { code: 'concurrency_conflict', detail: '数据已被他人修改，请刷新后重试', status: 409 } }
      }
      return { status: 201, body: { sanction_id: 's2', ...history([item('s2', 'warning', 'recorded'), item('s1', 'suspend_enrollment', 'in_force')]) } }
    })
    const wrapper = mount(InstitutionSanctionsPanel, { props: { institutionId: 'i1', name: '育人学院' }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    const rows = () => wrapper.findAll('[data-testid=sanctions] .el-table__body tr')
    expect(rows()).toHaveLength(2)
    expect(rows()[0].text()).toContain('执行中')
    expect(rows()[0].text()).toContain('解除')
    expect(rows()[1].text()).not.toContain('解除') // an ended suspension cannot be lifted

    await wrapper.find('[data-testid=sanction-reason]').setValue('考场巡查发现监考松散')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid=sanction-problem]').text()).toContain('数据已被他人修改')

    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts.at(-1)?.url).toBe('/api/enrollment/institutions/i1/sanctions')
    expect(posts.at(-1)?.body).toEqual({ kind: 'warning', reason: '考场巡查发现监考松散' })
    expect(wrapper.find('[data-testid=sanction-problem]').exists()).toBe(false)
    expect(rows()).toHaveLength(2)
    expect(rows()[0].text()).toContain('已记录')
  })
})
