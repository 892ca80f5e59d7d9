import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import CheckInResult from './CheckInResult.vue'
import type { CheckInStatus } from './types'

const base: CheckInStatus = {
  candidate_id: 'c1',
  verified: false,
  override: false,
  override_reason: null,
  distance: null,
  pending_check_id: null,
  checks: 1,
  failures: 1,
  attempts_left: 2,
  max_attempts: 3,
  override_allowed: false,
  last_failure: {
    check_id: 'k1',
    reasons: ['人脸比对不一致（距离 0.812，阈值 0.6）：请核对考生身份后重新拍摄'],
    reason_codes: ['face_mismatch'],
    distance: 0.812,
    attempt_no: 1,
  },
  state_label: '人脸核验未通过，还可尝试 2 次',
}

function render(status: CheckInStatus | null, pending = false) {
  return mount(CheckInResult, { props: { status, pending }, global: { plugins: [ElementPlus] } })
}

describe('CheckInResult', () => {
  it('shows a failed check: distance, mismatch, no replay, tries left and the reasons', () => {
    const text = render(base).text()
    expect(text).toContain('核验未通过，还可尝试 2 次')
    expect(text).toContain('0.812')
    expect(text).toContain('不一致')
    expect(text).toContain('2 / 3')
    expect(text).toContain('人脸比对不一致')
  })

  it('says 比对中… while the face worker has not answered', () => {
    const wrapper = render({ ...base, pending_check_id: 'k2' })
    expect(wrapper.text()).toContain('比对中…')
    expect(wrapper.find('[data-testid=checkin-distance]').text()).toBe('—')
    expect(render(base, true).find('[data-testid=checkin-result]').attributes('data-state')).toBe('pending')
  })

  it('shows a pass and an override with its reason', () => {
    const passed = render({ ...base, verified: true, distance: 0.412, last_failure: null, state_label: '已通过入场核验' })
    expect(passed.text()).toContain('核验通过')
    expect(passed.find('[data-testid=checkin-match]').text()).toBe('一致')
    expect(passed.find('[data-testid=checkin-distance]').text()).toBe('0.412')
    const overridden = render({ ...base, verified: true, override: true, override_reason: '已核对身份证原件', failures: 3, attempts_left: 0 })
    expect(overridden.text()).toContain('核验通过（监考人工放行）')
    expect(overridden.text()).toContain('已核对身份证原件')
  })
})
