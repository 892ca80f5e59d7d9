import { describe, expect, it } from 'vitest'
import { aspectDeviation, aspectProblem, dimensionsProblem, photoProblems, sizeProblem, sniffFormat } from './photo'

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

describe('head photo rules in the browser', () => {
  it('knows the format by the bytes, not the name', () => {
    expect(sniffFormat(JPEG)).toBe('JPEG')
    expect(sniffFormat(PNG)).toBe('PNG')
    expect(sniffFormat(new TextEncoder().encode('%PDF-1.4'))).toBe('PDF')
    expect(sniffFormat(new TextEncoder().encode('RIFF....WEBP'))).toBe('WebP')
    expect(sniffFormat(new Uint8Array([1, 2, 3]))).toBe('未知格式')
  })

  it('allows 80 KB exactly and refuses one byte more', () => {
    expect(sizeProblem(80 * 1024)).toBeNull()
    expect(sizeProblem(80 * 1024 + 1)?.message).toBe('头像文件 81,921 字节，超过 81,920 字节（80 KB）的上限')
  })

  it('takes any 5:7 picture of at least 295×413 pixels', () => {
    expect(dimensionsProblem(295, 413)).toBeNull()
    expect(dimensionsProblem(590, 826)).toBeNull()
    expect(dimensionsProblem(294, 413)?.rule).toBe('dimensions')
    expect(aspectProblem(295, 413)).toBeNull()
    expect(aspectProblem(500, 700)).toBeNull()
  })

  it('refuses a shape more than 2 % off 5:7 and says which way', () => {
    // 300 / 413 is 1.7 % wider than 5:7: within the tolerance; 310 / 413 is 5.1 % wider
    expect(aspectDeviation(300, 413)).toBeCloseTo(0.0169, 3)
    expect(aspectProblem(300, 413)).toBeNull()
    expect(aspectProblem(310, 413)?.message).toBe('头像宽高比 310:413，比一寸照的 5:7 偏宽 5.1%（允许 ±2%），应为 5:7 的竖版照片')
    expect(aspectProblem(413, 413)?.message).toContain('偏宽')
    expect(aspectProblem(280, 413)?.message).toContain('偏窄')
    // just over the tolerance does not read as the tolerance itself
    const edge = aspectProblem(5 * 1000 * 1.0201, 7 * 1000)
    expect(edge?.message).toMatch(/偏宽 2\.01%/)
  })

  it('lists every failed rule at once', () => {
    const rules = photoProblems({ head: PNG, size: 200 * 1024, width: 500, height: 500 }).map((p) => p.rule)
    expect(rules).toEqual(['format', 'file_size', 'aspect_ratio'])
    expect(photoProblems({ head: JPEG, size: 30_000, width: 295, height: 413 })).toEqual([])
    expect(photoProblems({ head: JPEG, size: 30_000, width: null, height: null }).map((p) => p.rule)).toEqual(['decode'])
  })
})
