import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { fakeFetch, type Call } from '@/test/fetch'
import { useSession } from '@/stores/session'
import LiveAlertsView from './LiveAlertsView.vue'

const alert = {
  alert_id: 'al-1',
  candidate_id: 'cand-1',
  session_id: 'ses-1',
  name: '李四',
  seat_no: 2,
  check_id: 'chk-9',
  reason: 'mismatch',
  reason_label: '人脸与报名头像不一致',
  distance: 0.8312,
  at: '2026-05-01T09:20:00+08:00',
  frame_url: 'http://s3.local/frame.jpg?sig=1',
  consecutive_mismatches: 3,
  violation_threshold: 3,
  violation_allowed: true,
  state: 'open',
  state_label: '待处理',
}

function routerFor() {
  const component = { template: '<div />' }
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/a', name: 'institution-exam-live-alerts', component },
      { path: '/a/:sessionId', name: 'institution-exam-live-alerts-session', component },
    ],
  })
}

beforeEach(() => {
  setActivePinia(createPinia())
  useSession().account = { account_id: 'p1', role: 'institution', org_id: 'inst-1', city: '杭州', username: 'proctor', display_name: null }
})
afterEach(() => vi.unstubAllGlobals())

describe('LiveAlertsView', { timeout: 30_000 }, () => {
  it("shows the session's open alerts with the frame beside the head photo; dismiss and 记录违纪 with the check as evidence", async () => {
    let dismissed = false
    const calls = fakeFetch((call: Call) => {
      if (call.url.startsWith('/api/exam/sessions?')) return { status: 200, body: { items: [{ session_id: 'ses-1', room: '第一考场', address: '文三路 90 号', position: '施工员', starts_at: '2026-05-01T01:00:00Z' }] } }
      if (call.url.startsWith('/api/exam/sessions/ses-1/live-alerts'))
        return { status: 200, body: dismissed ? { items: [], total: 0 } : { items: [alert], total: 1 } }
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: { candidate_id: 'cand-1', applicant_id: 'app-1', has_head_photo: true } }
      if (call.url === '/api/enrollment/applicants/app-1/documents') return { status: 200, body: { documents: [{ document: '头像', url: 'http://s3.local/photo.jpg' }] } }
      if (call.url === '/api/exam/live-alerts/al-1/dismiss') {
        dismissed = true
        return { status: 200, body: { ...alert, state: 'dismissed' } }
      }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mount(LiveAlertsView, { props: { sessionId: 'ses-1' }, global: { plugins: [ElementPlus, routerFor()] } })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 30))
    await flushPromises()
    expect(calls.some((c) => c.url === '/api/exam/sessions/ses-1/live-alerts?open_only=true')).toBe(true)
    const card = wrapper.get('[data-testid=live-alert]')
    expect(card.text()).toContain('李四')
    expect(card.text()).toContain('2 号座')
    expect(card.text()).toContain('人脸与报名头像不一致')
    expect(card.text()).toContain('比对距离 0.831')
    expect(card.get('[data-testid=alert-streak]').text()).toBe('已连续 3 次不一致，可记录违纪')
    expect(card.get('[data-testid=alert-frame]').attributes('src')).toBe('http://s3.local/frame.jpg?sig=1')
    expect(card.get('[data-testid=alert-photo]').attributes('src')).toBe('http://s3.local/photo.jpg')
    expect(wrapper.get('[data-testid=alerts-summary]').text()).toContain('待处理提醒 1 条')

    await card.get('[data-testid=alert-dismiss]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST' && c.url === '/api/exam/live-alerts/al-1/dismiss')).toBe(true)
    expect(wrapper.findAll('[data-testid=live-alert]')).toHaveLength(0)
    expect(wrapper.get('[data-testid=alerts-empty]').text()).toBe('暂无提醒')
    wrapper.unmount()
  })

  it('the violation dialog sends the description and the check id', async () => {
    const uploads: FormData[] = []
    fakeFetch((call: Call) => {
      if (call.url.startsWith('/api/exam/sessions?')) return { status: 200, body: { items: [] } }
      if (call.url.startsWith('/api/exam/sessions/ses-1/live-alerts')) return { status: 200, body: { items: [alert], total: 1 } }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    // multipart goes through XMLHttpRequest (upload progress): a fake one that records the form
    class FakeXhr {
      status = 201
      responseText = '{"violation_id":"v-1"}'
      upload = {}
      onload: (() => void) | null = null
      open() {}
      setRequestHeader() {}
      getResponseHeader() {
        return 'application/json'
      }
      send(form: FormData) {
        uploads.push(form)
        setTimeout(() => this.onload?.(), 0)
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const wrapper = mount(LiveAlertsView, { props: { sessionId: 'ses-1' }, global: { plugins: [ElementPlus, routerFor()] }, attachTo: document.body })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 30))
    await wrapper.get('[data-testid=alert-violation]').trigger('click')
    await flushPromises()
    const text = document.body.querySelector('[data-testid=alert-violation-text]') as HTMLTextAreaElement
    expect(text.value).toContain('已连续 3 次')
    ;(document.body.querySelector('[data-testid=alert-violation-submit]') as HTMLButtonElement).click()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    expect(uploads).toHaveLength(1)
    expect(uploads[0].get('live_check_id')).toBe('chk-9')
    expect(String(uploads[0].get('description'))).toContain('人脸与报名头像不一致')
    wrapper.unmount()
  })
})
