// A webhook's deliveries: a failed one offers 重新投递; after the replay is accepted the row says 处理中 at
// once (never the old 失败), and a refusal of the server is shown, the row unchanged.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import DeliveriesTable from './DeliveriesTable.vue'
import { chinaTime, scopeLabel, secretProblem } from './webhooks'

function delivery(id: string, status: string, label: string) {
  return {
    id, cursor: id, event_id: `ev${id}`, event_type: 'enrollment.ApplicantQualified.v1', status, status_label: label,
    attempts: status === 'failed' ? 3 : 1, status_code: status === 'failed' ? 503 : 200, error: status === 'failed' ? 'HTTP 503' : null,
    duration_ms: 12.5, at: '2026-05-01T01:30:00Z', next_at: null, replays: 0,
  }
}

const webhook = {
  id: 'w1', owner_account_id: 'a1', owner_username: 'hz-bo', role: 'reviewer', role_label: '市级建设主管部门审核员',
  owner: '杭州', scope: 'city:杭州', url: 'https://bo.example.cn/hook', description: '', secret_hint: '…abcd',
  created_at: '2026-05-01T00:00:00Z', cursor: '2', lag: 0, max_attempts: 8, delivered: 1, failed: 1,
  last_success_at: null, last_failure_at: null, last_error: 'HTTP 503', state: 'failing', state_label: '有 1 条投递失败', current: null,
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('DeliveriesTable', { timeout: 30_000 }, () => {
  it('replays a failed delivery and shows it in progress', async () => {
    let refuse = true
    const calls = fakeFetch(({ method }) => {
      if (method === 'GET') return { status: 200, body: { webhook, deliveries: [delivery('2', 'delivered', '已送达'), delivery('1', 'failed', '失败')] } }
      if (refuse) {
        refuse = false
        return { status: 409, body: { code: 'delivery_not_failed', detail: '只有投递失败的记录可以重新投递', status: 409 } }
      }
      return { status: 202, body: { ...delivery('1', 'queued', '等待重新投递'), replays: 1 } }
    })
    const wrapper = mount(DeliveriesTable, { props: { webhookId: 'w1' }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.emitted('loaded')?.[0]).toEqual([webhook])
    const rows = () => wrapper.findAll('[data-testid=webhook-deliveries] .el-table__body tr')
    expect(rows()).toHaveLength(2)
    expect(rows()[0].find('[data-testid=replay-delivery]').exists()).toBe(false)
    expect(rows()[1].text()).toContain('HTTP 503')

    await rows()[1].find('[data-testid=replay-delivery]').trigger('click')
    await flushPromises()
    expect(rows()[1].text()).toContain('失败') // refused: unchanged

    await rows()[1].find('[data-testid=replay-delivery]').trigger('click')
    await flushPromises()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts.at(-1)?.url).toBe('/api/feeds/webhooks/w1/deliveries/1/replay')
    expect(rows()[1].text()).toContain('处理中')
    expect(rows()[1].find('[data-testid=replay-delivery]').exists()).toBe(false)
  })

  it('words scopes, secrets and China time', () => {
    expect(scopeLabel({ scope: 'province', owner: 'province' })).toBe('全省')
    expect(scopeLabel({ scope: 'city:杭州', owner: '杭州' })).toBe('杭州市企业及其人员')
    expect(secretProblem('')).toBe('')
    expect(secretProblem('short')).toContain('至少 32')
    expect(secretProblem('密'.repeat(40))).toContain('ASCII')
    expect(secretProblem('k'.repeat(32))).toBe('')
    expect(chinaTime('2026-05-01T01:30:00Z')).toContain('09:30:00')
  })
})
