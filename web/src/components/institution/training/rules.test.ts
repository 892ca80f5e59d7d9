import { describe, expect, it } from 'vitest'
import { addRefusals, examHint, hoursProblems, planBody, planProblems, platformUrlOk, type TraineeFacts } from './rules'
import type { ApplicantRow, PlanForm, PlanSummary, Trainee } from './types'

const form = (over: Partial<PlanForm> = {}): PlanForm => ({
  name: '施工员线下培训班',
  training_mode: 'offline',
  position: '施工员',
  starts_on: '2026-03-01',
  ends_on: '2026-03-05',
  place: '杭州市西湖区文三路 90 号',
  platform: '',
  schedule: '',
  continuing_education: false,
  professional_hours: undefined,
  general_hours: undefined,
  ...over,
})

const plan: PlanSummary = {
  plan_id: 'p1', institution_id: 'i1', name: '计划', training_mode: 'offline', training_mode_label: '线下',
  position: '施工员', starts_on: '2026-03-01', ends_on: '2026-03-05', place: '杭州', platform: '', schedule: '',
  continuing_education: false, professional_hours: null, general_hours: null,
  trainee_count: 1, completed_count: 0, exam_applied_count: 0,
}

const trainee = (over: Partial<Trainee> = {}): Trainee => ({
  applicant_id: 'a1', name: '张三', gender: '男', id_number: '330106199001011234', employer: '', enterprise_id: 'e1',
  state: 'completed', state_label: '已完成培训', planned_at: null, completed: true, completed_at: null,
  exam_applied: false, exam_applied_at: null, ...over,
})

const facts = (over: Partial<TraineeFacts> = {}): TraineeFacts => ({
  status: 'enrolled', status_label: '已报名', continuing_education: false,
  head_photo: { source: 'materials', photo_ok: true }, head_photo_locked: false, ...over,
})

describe('planProblems (the service’s validate_plan)', () => {
  it('passes a complete offline plan', () => {
    expect(planProblems(form())).toEqual([])
  })

  it('lists every problem at once', () => {
    const problems = planProblems(form({ name: '', position: '', starts_on: '2026-02-30', place: '' }))
    expect(problems.map((p) => p.field)).toEqual(['name', 'position', 'starts_on', 'place'])
    expect(problems[2].message).toContain('有效日期')
  })

  it('refuses an end before the start, an online plan without a platform, a bad address', () => {
    expect(planProblems(form({ ends_on: '2026-02-01' }))[0].message).toContain('不能早于开始日期')
    expect(planProblems(form({ training_mode: 'online', platform: '' }))[0].field).toBe('platform')
    expect(platformUrlOk('https://edu.example.cn/course')).toBe(true)
    expect(platformUrlOk('浙江建设培训网')).toBe(true)
    expect(platformUrlOk('ftp://x')).toBe(false)
    expect(platformUrlOk('www.')).toBe(false)
  })

  it('asks hours of a continuing-education plan only', () => {
    expect(planProblems(form({ professional_hours: 4 }))[0].message).toContain('新取证培训计划不登记学时')
    const ce = planProblems(form({ continuing_education: true }))
    expect(ce.map((p) => p.field)).toEqual(['professional_hours', 'general_hours'])
    expect(planProblems(form({ continuing_education: true, professional_hours: 0, general_hours: 0 }))[0].message).toContain('大于 0')
    expect(planProblems(form({ continuing_education: true, professional_hours: 150, general_hours: 60 }))[0].message).toContain('不能超过 200')
    expect(planProblems(form({ continuing_education: true, professional_hours: 16, general_hours: 8 }))).toEqual([])
  })

  it('sends the place of an offline plan and no hours for initial training', () => {
    const body = planBody(form({ platform: 'x', professional_hours: 3 }))
    expect(body.place).toBe('杭州市西湖区文三路 90 号')
    expect(body.platform).toBeNull()
    expect(body.professional_hours).toBeNull()
  })
})

describe('addRefusals (refuse_trainee)', () => {
  const applicant: ApplicantRow = {
    applicant_id: 'a2', batch_id: 'b', name: '李四', id_number: 'x', position: '施工员', training_mode: 'offline',
    continuing_education: false, status: 'enrolled', status_label: '已报名',
  }
  it('accepts a matching enrolled applicant', () => {
    expect(addRefusals(plan, applicant)).toEqual([])
  })
  it('names every mismatch and another plan', () => {
    const reasons = addRefusals(plan, { ...applicant, training_mode: 'online', position: '质量员', continuing_education: true }, '春季班')
    expect(reasons).toHaveLength(4)
    expect(reasons[0]).toContain('春季班')
  })
})

describe('examHint (refuse_exam_application)', () => {
  it('is eligible once completed with a usable photo', () => {
    expect(examHint(plan, trainee(), facts()).eligible).toBe(true)
  })
  it('flags a trainee not completed, without a photo or with a failed one', () => {
    const h = examHint(plan, trainee({ completed: false }), facts({ head_photo: null }))
    expect(h.eligible).toBe(false)
    expect(h.tags.map((t) => t.text)).toEqual(['未完成培训', '无头像'])
    const bad = examHint(plan, trainee(), facts({ head_photo: { photo_ok: false, photo_problems: [{ message: '背景不是白色' }] } }))
    expect(bad.reasons[0]).toContain('背景不是白色')
  })
  it('a locked photo is enough; a failed exam is a retake; continuing education never goes to the exam', () => {
    expect(examHint(plan, trainee(), facts({ head_photo: null, head_photo_locked: true })).eligible).toBe(true)
    const retake = examHint(plan, trainee(), facts({ status: 'exam_failed', status_label: '考试未通过（可申请补考）' }))
    expect(retake.eligible && retake.retake).toBe(true)
    expect(examHint({ ...plan, continuing_education: true }, trainee(), facts()).reasons[0]).toContain('继续教育学员不参加考试')
    const applied = examHint(plan, trainee(), facts({ status: 'exam_applied' }))
    expect(applied.applied && !applied.eligible).toBe(true)
    expect(applied.tags[0].text).toBe('已申请，无需重复申请')
  })
})

describe('hoursProblems (record_problems)', () => {
  it('checks the date, the hours step and bounds, the kind and the course', () => {
    expect(hoursProblems({ studied_on: '2026-05-01', hours: 4, kind: 'professional', course: '新规范' }, '2026-01-01', '2026-06-01')).toEqual([])
    const problems = hoursProblems({ studied_on: '2026-07-01', hours: 0.3, kind: '', course: ' ' }, '2026-01-01', '2026-06-01')
    expect(problems.map((p) => p.field)).toEqual(['studied_on', 'hours', 'kind', 'course'])
    expect(hoursProblems({ studied_on: '2025-12-01', hours: 13, kind: 'general', course: 'x' }, '2026-01-01', '2026-06-01').map((p) => p.message)).toEqual([
      '学习日期不能早于发证日期 2026-01-01',
      '每条记录学时应在 0.5 至 12 之间，且为 0.5 的整数倍',
    ])
  })
})
