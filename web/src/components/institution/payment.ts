// Payments: the received amount typed by the institution is compared with the order (and the voucher)
// before confirming; the API compares the voucher with the order again. Orders just changed keep saying
// "处理中" in the list until its read model shows the change.
import type { OrderStatus } from './types'

const YUAN = /^\d{1,9}(\.\d{1,2})?$/

/** Yuan as typed (`1800`, `1800.5`, `1,800.00`) → fen, or null when it is not an amount. */
export function parseYuan(text: string): number | null {
  const t = text.trim().replace(/[,，\s]/g, '').replace(/^[¥￥]/, '')
  if (!YUAN.test(t)) return null
  const [whole, frac = ''] = t.split('.')
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2))
}

/** Why the received amount cannot be confirmed (null: it matches the order and the voucher). */
export function amountProblem(typed: string, orderFen: number, voucherFen: number | null | undefined): string | null {
  const fen = parseYuan(typed)
  const yuan = (v: number) => (v / 100).toFixed(2)
  if (fen === null) return '请填写实际收到的金额（单位：元，最多两位小数，如 1800.00）'
  if (fen !== orderFen) return `实收金额 ${yuan(fen)} 元与订单金额 ${yuan(orderFen)} 元不符，不能确认收款`
  if (voucherFen !== null && voucherFen !== undefined && voucherFen !== orderFen) {
    return `缴费凭证金额 ${yuan(voucherFen)} 元与订单金额 ${yuan(orderFen)} 元不符，请退回凭证`
  }
  return null
}

export const ORDER_STATUSES: Record<string, string> = {
  unpaid: '待缴费', paid: '已缴费（已报名）', cancelled: '已取消', refunded: '已退款',
}
export const ORDER_TAGS: Record<string, 'success' | 'warning' | 'danger' | 'info' | 'primary'> = {
  unpaid: 'warning', paid: 'success', cancelled: 'info', refunded: 'danger',
}
export const VOUCHER_STATES: Record<string, string> = {
  none: '未上传', pending: '待确认', rejected: '已退回', confirmed: '已确认',
}
export const INVOICE_TYPES: Record<string, string> = { ordinary: '普通发票', special: '增值税专用发票' }

/** What an order in the list should show after an action of ours (status and voucher state). */
export interface OrderChange {
  status?: OrderStatus
  voucher_state?: string
  invoice?: boolean
  at: number
}
const changes = new Map<string, OrderChange>()
const FORGET_AFTER_MS = 120_000

export function noteOrderChange(orderId: string, change: Omit<OrderChange, 'at'>, now = Date.now()): void {
  changes.set(orderId, { ...change, at: now })
}

/** The change the list's row does not show yet (null: none pending; caught-up ones are forgotten). */
export function pendingOrderChange(
  row: { order_id: string; status: string; voucher_state?: string; invoice?: unknown },
  now = Date.now(),
): OrderChange | null {
  const c = changes.get(row.order_id)
  if (!c) return null
  const caughtUp =
    (c.status === undefined || row.status === c.status) &&
    (c.voucher_state === undefined || row.voucher_state === c.voucher_state) &&
    (!c.invoice || !!row.invoice)
  if (caughtUp || now - c.at > FORGET_AFTER_MS) {
    changes.delete(row.order_id)
    return null
  }
  return c
}

export function clearOrderChanges(): void {
  changes.clear()
}
