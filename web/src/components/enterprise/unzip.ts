// A minimal ZIP reader for the browser: the central directory, stored and deflated entries (the browser's
// DecompressionStream('deflate-raw'), also in Node ≥ 18), CRC checked. No ZIP64, no encryption: an .xlsx
// (a zip of XML parts) is read with it. The counterpart of zip.ts (the writer).
import { crc32, type ZipEntry } from './zip'

export class ZipError extends Error {}

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') throw new ZipError('此浏览器不支持解压（DecompressionStream）')
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data)
      controller.close()
    },
  })
  const reader = source.pipeThrough(new DecompressionStream('deflate-raw') as unknown as TransformStream<Uint8Array, Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** Every file entry of the zip (directories left out), in the order of the central directory. */
export async function readZip(input: Uint8Array | ArrayBuffer): Promise<ZipEntry[]> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let end = -1
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i
      break
    }
  }
  if (end < 0) throw new ZipError('不是 zip 文件（找不到中央目录）')
  const count = view.getUint16(end + 10, true)
  let at = view.getUint32(end + 16, true)
  if (count === 0xffff || at === 0xffffffff) throw new ZipError('不支持 ZIP64')
  const decoder = new TextDecoder()
  const entries: ZipEntry[] = []
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw new ZipError('zip 中央目录已损坏')
    const flags = view.getUint16(at + 8, true)
    const method = view.getUint16(at + 10, true)
    const crc = view.getUint32(at + 16, true)
    const compressed = view.getUint32(at + 20, true)
    const size = view.getUint32(at + 24, true)
    const nameLength = view.getUint16(at + 28, true)
    const extraLength = view.getUint16(at + 30, true)
    const commentLength = view.getUint16(at + 32, true)
    const local = view.getUint32(at + 42, true)
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength))
    at += 46 + nameLength + extraLength + commentLength
    if (name.endsWith('/')) continue
    if (flags & 1) throw new ZipError('zip 文件已加密')
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff) throw new ZipError('不支持 ZIP64')
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) throw new ZipError(`zip 条目 ${name} 已损坏`)
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true)
    if (start + compressed > bytes.length) throw new ZipError(`zip 条目 ${name} 不完整`)
    const raw = bytes.subarray(start, start + compressed)
    let data: Uint8Array
    if (method === 0) data = raw.slice()
    else if (method === 8) data = await inflateRaw(raw)
    else throw new ZipError(`不支持的压缩方式 ${method}（${name}）`)
    if (data.length !== size || crc32(data) !== crc) throw new ZipError(`zip 条目 ${name} 校验失败`)
    entries.push({ name, data })
  }
  return entries
}
