import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { fakeFetch, type Call } from '@/test/fetch'
import ExamRoomView from './ExamRoomView.vue'
import type { Paper } from './types'

const candidate = {
  candidate_id: 'cand-1',
  name: '张三',
  position: '施工员',
  specialisation: '土建施工',
  status: 'in_exam',
  session: { session_id: 's1', room: '第一考场', seat: 3, starts_at: '2026-05-01T01:00:00Z' },
}

function paper(over: Partial<Paper> = {}): Paper {
  return {
    attempt_id: 'att-1',
    candidate_id: 'cand-1',
    session_id: 's1',
    started_at: '2026-05-01T01:00:00Z',
    deadline: '2026-05-01T03:00:00Z',
    earliest_submission: '2026-05-01T01:30:00Z',
    // the server says 01:00 whatever this computer's clock says
    server_time: '2026-05-01T01:00:00Z',
    seconds_left: 7200,
    seconds_until_submission: 1800,
    submitted: false,
    questions: [
      { question_id: 'q1', kind: 'single', kind_label: '单选题', stem: '临时用电应采用的系统是？', options: ['TN-S', 'TN-C', 'TT', 'IT'], points: 2 },
      { question_id: 'q2', kind: 'multiple', kind_label: '多选题', stem: '个人防护用品包括？', options: ['安全帽', '安全带', '手机'], points: 2 },
      { question_id: 'q3', kind: 'judge', kind_label: '判断题', stem: '高处作业须系安全带。', options: ['正确', '错误'], points: 1 },
    ],
    answers: {},
    saved_at: null,
    save_no: 0,
    ...over,
  }
}

function mountRoom() {
  return mount(ExamRoomView, {
    props: { candidateId: 'cand-1' },
    global: { plugins: [ElementPlus], stubs: { RouterLink: true } },
    attachTo: document.body,
  })
}

const tick = () => new Promise((r) => setTimeout(r, 20))

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('ExamRoomView', { timeout: 30_000 }, () => {
  it("counts down on the server's clock, saves each answer and keeps 交卷 off for the first 30 minutes", async () => {
    let saves = 0
    const calls = fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: candidate }
      if (call.url === '/api/exam/candidates/cand-1/paper') return { status: 200, body: paper() }
      if (call.url === '/api/exam/candidates/cand-1/answers') {
        saves += 1
        return { status: 200, body: { attempt_id: 'att-1', saved_at: '2026-05-01T01:00:05Z', save_no: saves, answered: 1, seconds_left: 7195 } }
      }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    // this computer's clock is years off: the countdown is the server's two hours all the same
    vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2031-01-01T00:00:00Z'))
    const wrapper = mountRoom()
    await flushPromises()
    await tick()
    expect(wrapper.get('[data-testid=exam-countdown]').text()).toMatch(/^剩余时间(02:00:00|01:59:5\d)$/)
    expect(wrapper.get('[data-testid=exam-submit]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid=exam-submit-wait]').text()).toBe('开考 30 分钟后方可交卷，还需等待 30 分钟')
    expect(wrapper.get('[data-testid=exam-question-number]').text()).toBe('第 1 题 / 共 3 题')
    expect(wrapper.find('[data-testid=exam-consent]').exists()).toBe(false) // no live checks on this paper

    await wrapper.get('[data-testid=exam-option-0]').trigger('click')
    await flushPromises()
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.body).toEqual({ answers: { q1: [0] }, save_no: 0 })
    expect(wrapper.get('[data-testid=exam-save-state]').text()).toContain('已保存')
    expect(wrapper.get('[data-testid=exam-cell-1]').attributes('data-state')).toBe('answered')
    expect(wrapper.get('[data-testid=exam-cell-2]').attributes('data-state')).toBe('unanswered')

    await wrapper.get('[data-testid=exam-next]').trigger('click')
    await wrapper.get('[data-testid=exam-mark]').trigger('click')
    expect(wrapper.get('[data-testid=exam-cell-2]').attributes('data-state')).toBe('marked')
    expect(wrapper.get('[data-testid=exam-counts]').text()).toBe('已作答 1 / 3，未作答 2，已标记 1')
    wrapper.unmount()
  })

  it('asks for the consent first, then starts the camera loop; the exam goes on without a camera', async () => {
    const calls = fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: candidate }
      if (call.url === '/api/exam/candidates/cand-1/paper')
        return { status: 200, body: paper({ live_check: { interval_seconds: 60, jitter_seconds: 10, consented: false } }) }
      if (call.url === '/api/exam/candidates/cand-1/face-consent') return { status: 200, body: { consented: true } }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mountRoom()
    await flushPromises()
    await tick()
    const consent = wrapper.get('[data-testid=exam-consent]')
    expect(consent.text()).toContain('约每 60 秒')
    expect(consent.text()).toContain('保存期限')
    expect(wrapper.find('[data-testid=exam-question]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=exam-consent-submit]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid=exam-consent-check] input').setValue(true)
    await wrapper.get('[data-testid=exam-consent-submit]').trigger('click')
    await flushPromises()
    await tick()
    expect(calls.find((c) => c.url.endsWith('/face-consent'))?.body).toEqual({ consented: true })
    expect(wrapper.find('[data-testid=exam-question]').exists()).toBe(true)
    // jsdom has no camera: said in Chinese, the paper still usable
    expect(wrapper.get('[data-testid=exam-camera-problem]').text()).toContain('摄像头')
    wrapper.unmount()
  })

  it('after 30 minutes: the confirmation lists the unanswered questions, then the score at once', async () => {
    const calls = fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: candidate }
      if (call.url === '/api/exam/candidates/cand-1/paper')
        return { status: 200, body: paper({ server_time: '2026-05-01T01:40:00Z', answers: { q2: [0, 1] }, save_no: 3 }) }
      if (call.url === '/api/exam/candidates/cand-1/submit')
        return {
          status: 200,
          body: { attempt_id: 'att-1', candidate_id: 'cand-1', score: 2, pass_mark: 3, full_marks: 5, passed: false, result_label: '不合格', automatic: false, submitted_at: '2026-05-01T01:40:10Z' },
        }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mountRoom()
    await flushPromises()
    await tick()
    expect(wrapper.get('[data-testid=exam-submit-wait]').text()).toBe('可以交卷')
    await wrapper.get('[data-testid=exam-submit]').trigger('click')
    await flushPromises()
    await tick()
    const confirm = document.body.querySelector('[data-testid=exam-submit-confirm]')
    expect(confirm?.textContent).toContain('还有 2 题未作答：第 1、3 题')
    const ok = [...document.body.querySelectorAll('.el-message-box button')].find((b) => b.textContent?.includes('确认交卷'))
    ;(ok as HTMLButtonElement).click()
    await flushPromises()
    await tick()
    expect(calls.find((c) => c.url.endsWith('/submit'))?.body).toEqual({ answers: { q2: [0, 1] } })
    expect(wrapper.get('[data-testid=exam-score]').text()).toContain('2')
    expect(wrapper.get('[data-testid=exam-verdict]').text()).toBe('不合格')
    expect(localStorage.getItem('exam-room:answers:cand-1')).toBeNull()
    wrapper.unmount()
  })

  it('a paper submitted meanwhile (by the server at the deadline) shows the result', async () => {
    fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: candidate }
      if (call.url === '/api/exam/candidates/cand-1/paper')
        return {
          status: 200,
          body: paper({
            submitted: true,
            result: { attempt_id: 'att-1', candidate_id: 'cand-1', score: 88, pass_mark: 60, full_marks: 100, passed: true, result_label: '合格', automatic: true, submitted_at: '2026-05-01T03:00:00Z' },
          }),
        }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mountRoom()
    await flushPromises()
    await tick()
    expect(wrapper.get('[data-testid=exam-automatic]').text()).toContain('系统已自动交卷')
    expect(wrapper.get('[data-testid=exam-score]').text()).toContain('88')
    wrapper.unmount()
  })

  it("at the deadline (the server's clock) the page stops and shows the paper the server submitted", async () => {
    let asked = 0
    fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: candidate }
      // one second before the deadline on the server's clock
      if (call.url === '/api/exam/candidates/cand-1/paper') return { status: 200, body: paper({ server_time: '2026-05-01T02:59:59Z' }) }
      if (call.url === '/api/exam/candidates/cand-1/result') {
        asked += 1
        if (asked === 1) return { status: 404, body: { code: 'no_result', detail: '尚无考试成绩' } }
        return {
          status: 200,
          body: { attempt_id: 'att-1', candidate_id: 'cand-1', score: 72, pass_mark: 60, full_marks: 100, passed: true, result_label: '合格', automatic: true, submitted_at: '2026-05-01T03:00:00Z' },
        }
      }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mountRoom()
    await vi.waitFor(() => expect(wrapper.find('[data-testid=exam-question]').exists()).toBe(true))
    await vi.waitFor(() => expect(wrapper.find('[data-testid=exam-ending]').exists()).toBe(true), { timeout: 10_000 })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=exam-result]').exists()).toBe(true), { timeout: 10_000 })
    expect(wrapper.get('[data-testid=exam-automatic]').text()).toContain('系统已自动交卷')
    expect(wrapper.get('[data-testid=exam-score]').text()).toContain('72')
    expect(asked).toBe(2)
    wrapper.unmount()
  })

  it('before the start: the seat, the check-in state, and why starting is refused', async () => {
    fakeFetch((call: Call) => {
      if (call.url === '/api/exam/candidates/cand-1') return { status: 200, body: { ...candidate, status: 'verified' } }
      if (call.url === '/api/exam/candidates/cand-1/paper') return { status: 409, body: { code: 'exam_not_started', detail: '考试尚未开始' } }
      if (call.url === '/api/exam/candidates/cand-1/check-in') return { status: 200, body: { verified: true, override: false } }
      if (call.url === '/api/exam/candidates/cand-1/start')
        return { status: 409, body: { code: 'session_not_started', detail: '考场尚未开考：09:00 开考后方可开始答题，还需等待 5 分钟' } }
      return { status: 404, body: { code: 'not_found', detail: '不存在' } }
    })
    const wrapper = mountRoom()
    await flushPromises()
    await tick()
    expect(wrapper.get('[data-testid=exam-before]').text()).toContain('第一考场')
    expect(wrapper.get('[data-testid=exam-checkin-state]').text()).toBe('已通过')
    await wrapper.get('[data-testid=exam-start]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid=exam-start-problem]').text()).toContain('还需等待 5 分钟')
    wrapper.unmount()
  })
})
