// The overview grid: each question answered, unanswered or marked (标记, a reminder to come back).

import type { PaperQuestion } from './types'

export type QuestionState = 'answered' | 'unanswered' | 'marked'

export const STATE_LABELS: Record<QuestionState, string> = {
  answered: '已作答',
  unanswered: '未作答',
  marked: '已标记',
}

export function isAnswered(answers: Record<string, number[]>, questionId: string): boolean {
  return (answers[questionId]?.length ?? 0) > 0
}

/** A marked question shows as marked whether answered or not (the candidate wants to come back to it). */
export function questionState(
  answers: Record<string, number[]>,
  marked: ReadonlySet<string>,
  questionId: string,
): QuestionState {
  if (marked.has(questionId)) return 'marked'
  return isAnswered(answers, questionId) ? 'answered' : 'unanswered'
}

export interface Overview {
  total: number
  answered: number
  unanswered: number
  marked: number
  /** 1-based numbers of the questions without an answer (the submit confirmation lists them) */
  unansweredNumbers: number[]
}

export function overview(
  questions: readonly PaperQuestion[],
  answers: Record<string, number[]>,
  marked: ReadonlySet<string>,
): Overview {
  const unansweredNumbers: number[] = []
  let answered = 0
  questions.forEach((q, i) => {
    if (isAnswered(answers, q.question_id)) answered += 1
    else unansweredNumbers.push(i + 1)
  })
  return {
    total: questions.length,
    answered,
    unanswered: unansweredNumbers.length,
    marked: questions.filter((q) => marked.has(q.question_id)).length,
    unansweredNumbers,
  }
}

/** A choice clicked: single and judge questions keep one option, multiple-choice toggles it (sorted). */
export function choose(kind: string, current: readonly number[] | undefined, option: number): number[] {
  if (kind !== 'multiple') return [option]
  const chosen = new Set(current ?? [])
  if (chosen.has(option)) chosen.delete(option)
  else chosen.add(option)
  return [...chosen].sort((a, b) => a - b)
}

/** "第 3、7、12 题" (at most `limit` numbers, then "等 N 题"). */
export function numbersText(numbers: readonly number[], limit = 20): string {
  if (numbers.length === 0) return ''
  const shown = numbers.slice(0, limit).join('、')
  return numbers.length > limit ? `第 ${shown} 等 ${numbers.length} 题` : `第 ${shown} 题`
}
