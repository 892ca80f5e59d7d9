import { describe, expect, it } from 'vitest'
import { choose, numbersText, overview, questionState } from './overview'
import type { PaperQuestion } from './types'

const q = (id: string, kind = 'single'): PaperQuestion => ({
  question_id: id,
  kind,
  kind_label: '单选题',
  stem: id,
  options: ['甲', '乙', '丙', '丁'],
})

describe('overview', () => {
  const questions = [q('a'), q('b', 'multiple'), q('c', 'judge'), q('d')]

  it('counts answered, unanswered and marked, and lists the unanswered numbers', () => {
    const answers = { a: [1], b: [0, 2], c: [] }
    const marked = new Set(['b', 'd'])
    expect(overview(questions, answers, marked)).toEqual({
      total: 4,
      answered: 2,
      unanswered: 2,
      marked: 2,
      unansweredNumbers: [3, 4],
    })
    expect(questionState(answers, marked, 'a')).toBe('answered')
    expect(questionState(answers, marked, 'b')).toBe('marked')
    expect(questionState(answers, marked, 'c')).toBe('unanswered')
    expect(questionState(answers, marked, 'd')).toBe('marked')
  })

  it('keeps one option for single and judge questions, toggles options of a multiple-choice one', () => {
    expect(choose('single', [1], 2)).toEqual([2])
    expect(choose('judge', undefined, 0)).toEqual([0])
    expect(choose('multiple', [2], 0)).toEqual([0, 2])
    expect(choose('multiple', [0, 2], 2)).toEqual([0])
  })

  it('names the question numbers', () => {
    expect(numbersText([])).toBe('')
    expect(numbersText([3, 7, 12])).toBe('第 3、7、12 题')
    expect(numbersText([1, 2, 3, 4], 2)).toBe('第 1、2 等 4 题')
  })
})
