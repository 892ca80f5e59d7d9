// Correcting a rejected applicant: the reason in the list and in the dialog, every field sent back (the
// graduation date too), "处理中" until the list has caught up.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { fakeFetch } from '@/test/fetch'
import ApplicantsView from './ApplicantsView.vue'

const rejected = {
  applicant_id: 'a2', batch_id: 'b1', name: '李四', gender: '男', id_number: '330106198703050036', mobile: '13800002222',
  education: '高中', employer: '杭州测试建工有限公司', major: '', graduated_on: '2010-07-01', years_in_post: 3,
  position: '施工员', specialisation: '土建施工', training_mode: 'online', institution_id: 'i1', status: 'rejected',
  status_label: '未通过', rejection_reason: '学历证书与所填学历不符',
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('ApplicantsView: correcting a rejected applicant', { timeout: 30_000 }, () => {
  it('shows the reason, sends the corrected row and says 处理中 until the list has it', async () => {
    const calls = fakeFetch(({ url, method }) => {
      if (method === 'PUT') return { status: 200, body: { applicant_id: 'a2' } }
      if (url.startsWith('/api/enrollment/applicants')) return { status: 200, body: { items: [rejected], total: 1 } }
      return { status: 404, body: { code: 'not_found', detail: url } }
    })
    const wrapper = mount(ApplicantsView, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const table = wrapper.get('[data-testid=applicants]')
    expect(table.text()).toContain('未通过原因：学历证书与所填学历不符')
    await wrapper.findAll('button').find((b) => b.text() === '修改')?.trigger('click')
    await flushPromises()
    const dialog = document.body.querySelector('[data-testid=edit-dialog]')
    expect(dialog?.textContent).toContain('未通过原因：学历证书与所填学历不符')
    ;(document.body.querySelector('[data-testid=edit-submit]') as HTMLButtonElement).click()
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.url).toBe('/api/enrollment/applicants/a2')
    expect(put?.body).toMatchObject({
      name: '李四', gender: '男', id_number: '330106198703050036', education: '高中', graduated_on: '2010-07-01', years_in_post: 3,
    })
    // the list still says rejected: 处理中, no reason, no 修改
    expect(wrapper.get('[data-testid=applicants]').text()).toContain('处理中')
    expect(wrapper.get('[data-testid=applicants]').text()).not.toContain('未通过原因')
    expect(wrapper.findAll('button').some((b) => b.text() === '修改')).toBe(false)
    wrapper.unmount()
  })
})
