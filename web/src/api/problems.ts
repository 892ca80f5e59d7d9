import { h } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import ProblemTable from '@/components/ProblemTable.vue'
import { ProblemError } from './client'

/** The Chinese text to show for any error (a ProblemError's `detail`, else a generic sentence). */
export function problemText(e: unknown): string {
  if (e instanceof ProblemError) return e.detail
  if (e instanceof Error && e.message) return `操作失败：${e.message}`
  return '操作失败，请稍后重试'
}

/** Show an error to the user: a message with its detail, or a dialog listing every row/field problem. */
export function showProblem(e: unknown): void {
  if (e instanceof ProblemError && e.errors && e.errors.length > 0) {
    void ElMessageBox({
      title: '提交的内容有问题',
      message: h('div', [h('p', { class: 'problem-detail' }, e.detail), h(ProblemTable, { errors: e.errors })]),
      confirmButtonText: '知道了',
      customClass: 'problem-box',
    }).catch(() => undefined)
    return
  }
  ElMessage({ type: 'error', message: problemText(e), showClose: true, duration: 6000 })
}
