// The head photo's rules checked in the browser before the upload (the server checks them again, with the
// background, the face and the sharpness: its verdict is the one that counts). The numbers are the
// platform's defaults (enrollment: ENROLLMENT_PHOTO_MAX_BYTES, ENROLLMENT_PHOTO_WIDTH / _HEIGHT; docs/uploads.md
// and the domain rules: 一寸 25×35 mm, 5:7 ± 2 %, at least 295×413 px, JPEG, ≤ 80 KB).

export interface PhotoRules {
  maxBytes: number
  width: number
  height: number
  aspect: number
  aspectTolerance: number
}

export const PHOTO_RULES: PhotoRules = {
  maxBytes: 80 * 1024,
  width: 295,
  height: 413,
  aspect: 5 / 7,
  aspectTolerance: 0.02,
}

export interface PhotoProblem {
  rule: 'format' | 'file_size' | 'dimensions' | 'aspect_ratio' | 'decode'
  message: string
}

/** The format named by the file's first bytes (JPEG, PNG, GIF, BMP, WebP, PDF or 未知格式). */
export function sniffFormat(head: Uint8Array): string {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b)
  const ascii = (from: number, text: string) => [...text].every((ch, i) => head[from + i] === ch.charCodeAt(0))
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG'
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG'
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'GIF'
  if (ascii(0, 'BM')) return 'BMP'
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP'
  if (ascii(0, '%PDF-')) return 'PDF'
  return '未知格式'
}

export function formatProblem(head: Uint8Array): PhotoProblem | null {
  const found = sniffFormat(head)
  return found === 'JPEG' ? null : { rule: 'format', message: `头像必须是 JPEG（.jpg）格式，实际是 ${found}` }
}

function kb(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${(bytes / 1024).toFixed(1)} KB`
}

export function sizeProblem(size: number, rules: PhotoRules = PHOTO_RULES): PhotoProblem | null {
  if (size <= rules.maxBytes) return null
  return {
    rule: 'file_size',
    message: `头像文件 ${size.toLocaleString('en-US')} 字节，超过 ${rules.maxBytes.toLocaleString('en-US')} 字节（${kb(rules.maxBytes)}）的上限`,
  }
}

export function dimensionsProblem(width: number, height: number, rules: PhotoRules = PHOTO_RULES): PhotoProblem | null {
  if (width >= rules.width && height >= rules.height) return null
  return {
    rule: 'dimensions',
    message: `头像尺寸 ${width}×${height} 像素，小于一寸照的最低 ${rules.width}×${rules.height} 像素（更高分辨率的 5:7 照片均可）`,
  }
}

/** Relative difference of width / height from 5:7 (−0.021: 2.1 % too narrow). */
export function aspectDeviation(width: number, height: number, rules: PhotoRules = PHOTO_RULES): number {
  return height ? width / height / rules.aspect - 1 : -1
}

export function aspectProblem(width: number, height: number, rules: PhotoRules = PHOTO_RULES): PhotoProblem | null {
  const deviation = aspectDeviation(width, height, rules)
  if (Math.abs(deviation) <= rules.aspectTolerance + 1e-12) return null
  const shape = deviation < 0 ? '偏窄' : '偏宽'
  let digits = 1
  const tolerance = rules.aspectTolerance * 100
  while (digits < 6 && Number((Math.abs(deviation) * 100).toFixed(digits)) === Number(tolerance.toFixed(digits))) digits++
  const percent = (Math.abs(deviation) * 100).toFixed(digits)
  return {
    rule: 'aspect_ratio',
    message: `头像宽高比 ${width}:${height}，比一寸照的 5:7 ${shape} ${percent}%（允许 ±${Math.round(tolerance)}%），应为 5:7 的竖版照片`,
  }
}

/** Every rule the browser can judge from the bytes' start, the size and the decoded dimensions. */
export function photoProblems(
  facts: { head: Uint8Array; size: number; width: number | null; height: number | null },
  rules: PhotoRules = PHOTO_RULES,
): PhotoProblem[] {
  const found: Array<PhotoProblem | null> = [formatProblem(facts.head), sizeProblem(facts.size, rules)]
  if (facts.width === null || facts.height === null) {
    if (sniffFormat(facts.head) === 'JPEG') found.push({ rule: 'decode', message: '无法读取该图片，文件可能已损坏' })
  } else {
    found.push(dimensionsProblem(facts.width, facts.height, rules), aspectProblem(facts.width, facts.height, rules))
  }
  return found.filter((p): p is PhotoProblem => p !== null)
}

/** The decoded size of an image file (null: the browser cannot decode it). */
export async function imageSize(file: Blob): Promise<{ width: number; height: number } | null> {
  const url = URL.createObjectURL(file)
  try {
    const image = new Image()
    image.src = url
    await image.decode()
    return { width: image.naturalWidth, height: image.naturalHeight }
  } catch {
    return null
  } finally {
    URL.revokeObjectURL(url)
  }
}

/** The browser's check of a chosen file (before anything is sent). */
export async function checkHeadPhoto(file: File, rules: PhotoRules = PHOTO_RULES): Promise<PhotoProblem[]> {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer())
  const size = sniffFormat(head) === 'JPEG' || sniffFormat(head) === 'PNG' ? await imageSize(file) : null
  return photoProblems({ head, size: file.size, width: size?.width ?? null, height: size?.height ?? null }, rules)
}

/** The server's rule names in Chinese (its verdict lists the failed rules). */
export const RULE_LABELS: Record<string, string> = {
  format: '格式（JPEG）',
  file_size: '文件大小（≤ 80 KB）',
  dimensions: '尺寸（≥ 295×413 像素）',
  aspect_ratio: '宽高比（5:7）',
  background: '白色背景',
  face_count: '人脸（仅本人一张）',
  frontal: '正面',
  tilt: '头部端正',
  sharpness: '清晰度',
  decode: '图片可读取',
}
