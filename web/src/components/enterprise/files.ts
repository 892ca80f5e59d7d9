// The server's rules for registration documents, checked before upload: JPEG, PNG or PDF, ≤ 10 MB.
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
const TYPES = ['image/jpeg', 'image/png', 'application/pdf']
const EXTENSIONS = /\.(jpe?g|png|pdf)$/i

/** A message saying why the file cannot be uploaded, or null when it passes. */
export function documentProblem(file: File, maxBytes = MAX_DOCUMENT_BYTES): string | null {
  if (!TYPES.includes(file.type) && !EXTENSIONS.test(file.name)) {
    return `“${file.name}”不是 JPEG、PNG 或 PDF 文件`
  }
  if (file.size > maxBytes) {
    return `“${file.name}”超过 ${Math.round(maxBytes / 1048576)} MB（${(file.size / 1048576).toFixed(1)} MB）`
  }
  if (file.size === 0) return `“${file.name}”是空文件`
  return null
}

export function fen(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `¥${(v / 100).toFixed(2)}`
}

export function dateTime(v: string | null | undefined): string {
  if (!v) return ''
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? v : d.toLocaleString('zh-CN', { hour12: false })
}

export const POSITIONS = ['施工员', '质量员', '安全员', '标准员', '材料员', '机械员', '劳务员', '资料员']
export const SPECIALISED = ['施工员', '质量员']
export const SPECIALISATIONS = ['土建施工', '装饰装修', '设备安装', '市政工程']
export const MODES: Record<string, string> = { online: '线上', offline: '线下' }
export const MATERIAL_DOCUMENTS = ['报名表', '身份证正面', '身份证反面', '工作年限证明', '学历证书', '头像']
