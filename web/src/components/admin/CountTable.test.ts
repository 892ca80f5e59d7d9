import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import CountTable from './CountTable.vue'
import type { CountTable as Table } from './types'

const table: Table = {
  title: '考生状态与合格率',
  dimension: '岗位',
  columns: [
    { key: 'passed', label: '合格' },
    { key: 'failed', label: '不合格' },
  ],
  rows: [
    { key: '施工员', counts: { passed: 2, failed: 1 }, total: 3, rate: 0.6667 },
    { key: '安全员', counts: { passed: 0 }, total: 0, rate: null },
  ],
  totals: { key: '合计', counts: { passed: 2, failed: 1 }, total: 3, rate: 0.6667 },
  rate_label: '合格率',
  note: '考试服务的数据不含城市，按岗位统计',
}

describe('CountTable', () => {
  it('shows a row per position, a column per status, the totals, the rate and the note', async () => {
    const wrapper = mount(CountTable, { props: { table }, global: { plugins: [ElementPlus] } })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const text = wrapper.text()
    for (const part of ['岗位', '合格', '不合格', '合计', '合格率', '施工员', '安全员', '66.7%', '—', '按岗位统计']) {
      expect(text).toContain(part)
    }
  })

  it('says there is nothing to count yet', async () => {
    const empty = { ...table, rows: [], totals: { key: '合计', counts: {}, total: 0, rate: null } }
    const wrapper = mount(CountTable, { props: { table: empty }, global: { plugins: [ElementPlus] } })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(wrapper.text()).toContain('暂无数据')
  })
})
