// The administrator's 数据对接 / Webhook page: every subscription with its owner and state; 投递记录 opens its
// deliveries.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import WebhooksAdminView from './WebhooksAdminView.vue'

const webhook = {
  id: 'w1', owner_account_id: 'a1', owner_username: 'hz-bo', role: 'reviewer', role_label: '市级建设主管部门审核员',
  owner: '杭州', scope: 'city:杭州', url: 'https://bo.example.cn/hook', description: '', secret_hint: '…abcd',
  created_at: '2026-05-01T00:00:00Z', cursor: '2', lag: 3, max_attempts: 8, delivered: 1, failed: 1,
  last_success_at: '2026-05-01T01:30:00Z', last_failure_at: null, last_error: 'HTTP 503', state: 'failing', state_label: '有 1 条投递失败', current: null,
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('WebhooksAdminView', { timeout: 30_000 }, () => {
  it('lists the subscriptions and opens one’s deliveries', async () => {
    const calls = fakeFetch(({ url }) => {
      if (url.endsWith('/deliveries?limit=100')) return { status: 200, body: { webhook: { ...webhook, lag: 0 }, deliveries: [] } }
      return { status: 200, body: [webhook] }
    })
    const wrapper = mount(WebhooksAdminView, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    const row = wrapper.find('[data-testid=admin-webhooks] .el-table__body tr')
    expect(row.text()).toContain('hz-bo')
    expect(row.text()).toContain('杭州市企业及其人员')
    expect(row.text()).toContain('有 1 条投递失败')
    expect(row.text()).toContain('2026/5/1 09:30:00')
    expect(row.findAll('td')[3].text()).toBe('3')
    await row.find('[data-testid=show-deliveries]').trigger('click')
    await flushPromises()
    expect(calls.map((c) => c.url)).toContain('/api/feeds/webhooks/w1/deliveries?limit=100')
    expect(wrapper.find('[data-testid=webhook-deliveries]').exists()).toBe(true)
    const lag = () => wrapper.find('[data-testid=admin-webhooks] .el-table__body tr').findAll('td')[3].text()
    expect(lag()).toBe('0') // refreshed by the deliveries' answer (it was 3)
  })
})
