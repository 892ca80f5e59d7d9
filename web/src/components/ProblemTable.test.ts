import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ProblemTable from './ProblemTable.vue'

describe('ProblemTable', () => {
  it('lists every problem with its row, column, value and message', async () => {
    const wrapper = mount(ProblemTable, {
      props: {
        errors: [
          { row: 3, column: '身份证号', value: '1.10101E+17', code: 'id_as_number', message: '身份证号被存成了数字' },
          { field: 'credit_code', code: 'invalid', message: '统一社会信用代码校验位不正确' },
        ],
      },
      global: { plugins: [ElementPlus] },
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const text = wrapper.text()
    expect(text).toContain('第 3 行 · 身份证号')
    expect(text).toContain('1.10101E+17')
    expect(text).toContain('身份证号被存成了数字')
    expect(text).toContain('credit_code')
    expect(text).toContain('统一社会信用代码校验位不正确')
  })
})
