import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import DashboardView from './DashboardView.vue'

function stats(service: string, title: string, counts: Record<string, number>, rate: number | null = null) {
  const columns = Object.keys(counts).map((key) => ({ key, label: key }))
  const sum = Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    service,
    generated_at: '2026-12-02T10:00:00Z',
    tables: [
      {
        title,
        dimension: '城市',
        columns,
        rows: [{ key: '杭州', counts, total: sum, rate }],
        totals: { key: '合计', counts, total: sum, rate },
        rate_label: rate === null ? null : '合格率',
        note: '',
      },
      ...(service === 'exam'
        ? [{ title: '考生状态与合格率', dimension: '岗位', columns, rows: [], totals: { key: '合计', counts, total: sum, rate: 0.75 }, rate_label: '合格率', note: '' }]
        : []),
    ],
  }
}

afterEach(() => vi.unstubAllGlobals())

describe('DashboardView', () => {
  it("shows every service's counts, and only the failing service's part as an error", async () => {
    const calls = fakeFetch(({ url }) => {
      if (url.startsWith('/api/registration/admin/stats')) return { status: 200, body: stats('registration', '企业注册审核', { submitted: 4, approved: 2 }) }
      if (url.startsWith('/api/enrollment/admin/stats')) return { status: 200, body: stats('enrollment', '学员报名状态', { pending: 7 }) }
      if (url.startsWith('/api/exam/admin/stats')) return { status: 200, body: stats('exam', '考试场次', { scheduled: 3, cancelled: 1 }) }
      return { status: 503, body: { code: 'unavailable', detail: '证书服务暂时不可用' } }
    })
    const wrapper = mount(DashboardView, { global: { plugins: [ElementPlus] } })
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(calls.map((c) => c.url).sort()).toEqual([
      '/api/certification/admin/stats',
      '/api/enrollment/admin/stats',
      '/api/exam/admin/stats',
      '/api/registration/admin/stats',
    ])
    expect(wrapper.get('[data-testid=figure-registrations-pending]').text()).toContain('4')
    expect(wrapper.get('[data-testid=figure-applicants]').text()).toContain('7')
    expect(wrapper.get('[data-testid=figure-sessions]').text()).toContain('3')
    expect(wrapper.get('[data-testid=figure-pass-rate]').text()).toContain('75.0%')
    expect(wrapper.get('[data-testid=figure-certificates]').text()).toContain('—')
    expect(wrapper.text()).toContain('企业注册审核')
    expect(wrapper.text()).toContain('证书：证书服务暂时不可用')
  })
})
