// Back-office webhooks: the API's shapes (generated types) and the small rules the pages share.
import type { Schema } from '@/api/types'

export type Webhook = Schema<'Webhook'>
export type WebhookCreated = Schema<'WebhookCreated'>
export type Delivery = Schema<'Delivery'>
export type DeliveryList = Schema<'DeliveryList'>

export const WEBHOOKS_PATH = '/api/feeds/webhooks'

/** 2026/5/1 09:30:00 in China time ('' when absent). */
export function chinaTime(value: string | null | undefined): string {
  if (!value) return ''
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })
}

export function stateTagType(state: string): 'success' | 'warning' | 'danger' {
  return state === 'ok' ? 'success' : state === 'retrying' ? 'warning' : 'danger'
}

export function deliveryTagType(status: string): 'success' | 'warning' | 'danger' | 'info' {
  if (status === 'delivered') return 'success'
  if (status === 'failed') return 'danger'
  if (status === 'queued') return 'info'
  return 'warning'
}

/** What a replay answered, shown until the delivery task has tried again: never the old 失败. */
export function replayed(delivery: Delivery, answer: Delivery): Delivery {
  return { ...delivery, ...answer, status_label: answer.status === 'queued' ? '处理中（等待重新投递）' : answer.status_label }
}

/** The scope a subscription follows, in words. */
export function scopeLabel(webhook: Pick<Webhook, 'scope' | 'owner'>): string {
  if (webhook.scope === 'province') return '全省'
  if (webhook.scope.startsWith('city:')) return `${webhook.owner}市企业及其人员`
  if (webhook.scope.startsWith('institution:')) return '本机构学员、订单、考场、证书'
  return webhook.scope
}

/** A secret checked in the browser the way the platform checks it (≥ 32 printable ASCII characters). */
export function secretProblem(secret: string): string {
  const s = secret.trim()
  if (!s) return ''
  if (s.length < 32) return `签名密钥至少 32 个字符（当前 ${s.length} 个）；留空则由平台生成`
  if (!/^[\x21-\x7e]+$/.test(s)) return '签名密钥应为可打印 ASCII 字符'
  return ''
}
