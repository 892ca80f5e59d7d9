import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import { fakeFetch } from '@/test/fetch'
import VerifyView from './VerifyView.vue'

const ANSWER = {
  certificate_number: '3320260100000012', state: 'superseded', state_label: '已更新', holder_name: '钱**',
  id_number: '330106********6354', position: '施工员', specialisation: '土建施工', institution_name: '某学校',
  issued_on: '2025-08-10', legacy: true, renewed_by_number: '3320260100000099', renews_number: null,
}

async function open(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/verify', name: 'verify', component: VerifyView },
      { path: '/login', name: 'login', component: { template: '<p>login</p>' } },
    ],
  })
  await router.push(path)
  const wrapper = mount(VerifyView, { global: { plugins: [ElementPlus, router] } })
  await flushPromises()
  return { wrapper, router }
}

afterEach(() => vi.unstubAllGlobals())

describe('VerifyView', () => {
  it('checks by number and name and explains the state, with the link to the new certificate', async () => {
    const calls = fakeFetch(() => ({ status: 200, body: ANSWER }))
    const { wrapper } = await open('/verify?number=3320%20260100000012&name=钱学员')
    expect(calls.map((c) => c.url)).toEqual([
      `/api/certification/verify/3320260100000012?name=${encodeURIComponent('钱学员')}`,
    ])
    expect(wrapper.get('[data-testid=verify-state]').text()).toBe('已更新')
    expect(wrapper.get('[data-testid=verify-result]').text()).toContain('以更新后的证书为准')
    expect(wrapper.get('[data-testid=verify-holder]').text()).toBe('钱**')
    expect(wrapper.get('[data-testid=verify-related]').text()).toContain('3320260100000099')
  })

  it('verifies the QR token and shows the signature; a refusal in Chinese', async () => {
    let refuse = false
    const calls = fakeFetch(() =>
      refuse
        ? { status: 400, body: { code: 'invalid_token', detail: '查验码无效或已被篡改' } }
        : { status: 200, body: { ...ANSWER, state: 'valid', state_label: '有效', signature_valid: true } },
    )
    const { wrapper, router } = await open('/verify?token=a.b')
    expect(calls[0].url).toBe('/api/certification/verify?token=a.b')
    expect(wrapper.get('[data-testid=verify-state]').text()).toBe('有效')
    expect(wrapper.find('[data-testid=verify-signature]').exists()).toBe(true)
    refuse = true
    await router.push('/verify?token=forged')
    await flushPromises()
    expect(wrapper.get('[data-testid=verify-problem]').text()).toContain('查验码无效或已被篡改')
    expect(wrapper.find('[data-testid=verify-result]').exists()).toBe(false)
  })
})
