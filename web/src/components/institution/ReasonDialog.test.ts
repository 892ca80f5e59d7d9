import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ReasonDialog from './ReasonDialog.vue'

describe('ReasonDialog', () => {
  it('sends a reason only once one is written (trimmed)', async () => {
    const wrapper = mount(ReasonDialog, {
      props: { open: false, title: '审核不通过', label: '不通过的原因（企业可见）', confirmText: '审核不通过' },
      global: { plugins: [ElementPlus] },
      attachTo: document.body,
    })
    await wrapper.setProps({ open: true })
    await vi.waitFor(() => expect(document.querySelector('[data-testid=reason-confirm]')).not.toBeNull())
    const confirm = () => document.querySelector<HTMLButtonElement>('[data-testid=reason-confirm]')!
    expect(confirm().disabled).toBe(true)
    const input = document.querySelector<HTMLTextAreaElement>('[data-testid=reason-input]')!
    input.value = '  工作年限不足  '
    input.dispatchEvent(new Event('input'))
    await vi.waitFor(() => expect(confirm().disabled).toBe(false))
    confirm().click()
    expect(wrapper.emitted('confirm')?.[0]).toEqual(['工作年限不足'])
    wrapper.unmount()
  })
})
