import { describe, expect, it } from 'vitest'
import { AutosaveQueue, backoffMs, saveText, storageKey, type AutosaveDeps, type SaveStatus, type StorageLike } from './autosave'
import type { SaveAnswer } from './types'

class MemoryStorage implements StorageLike {
  data = new Map<string, string>()
  getItem(key: string) {
    return this.data.get(key) ?? null
  }
  setItem(key: string, value: string) {
    this.data.set(key, value)
  }
  removeItem(key: string) {
    this.data.delete(key)
  }
}

interface Call {
  answers: Record<string, number[]>
  saveNo: number | null
  resolve: (a: SaveAnswer) => void
  reject: (e: unknown) => void
}

/** A server whose answers the test gives by hand, timers run by hand, and a network switch. */
function harness(stored?: MemoryStorage) {
  const calls: Call[] = []
  const timers: Array<{ run: () => void; ms: number; cancelled: boolean }> = []
  const statuses: SaveStatus[] = []
  const net = { online: true }
  const storage = stored ?? new MemoryStorage()
  let saveNo = 0
  const deps: AutosaveDeps = {
    send: (answers, no) =>
      new Promise<SaveAnswer>((resolve, reject) => {
        calls.push({ answers, saveNo: no, resolve, reject })
      }),
    refreshSaveNo: () => Promise.resolve(41),
    storage,
    key: storageKey('cand-1'),
    schedule: (run, ms) => {
      const t = { run, ms, cancelled: false }
      timers.push(t)
      return t
    },
    cancel: (t) => {
      if (t) (t as { cancelled: boolean }).cancelled = true
    },
    online: () => net.online,
    onChange: (s) => statuses.push(s),
  }
  const ok = (call: Call) => {
    saveNo += 1
    call.resolve({ attempt_id: 'att-1', saved_at: `2026-05-01T02:00:0${saveNo}Z`, save_no: saveNo, answered: 1, seconds_left: 100 })
  }
  const fireTimers = () => {
    const due = timers.splice(0).filter((t) => !t.cancelled)
    due.forEach((t) => t.run())
    return due.map((t) => t.ms)
  }
  return { calls, timers, statuses, net, storage, deps, ok, fireTimers }
}

const settle = () => new Promise((r) => setTimeout(r, 0))
const fresh = { answers: {}, save_no: 0, saved_at: null }

describe('AutosaveQueue', () => {
  it('keeps each answer locally at once and sends all the answers with the last save number', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.start()
    queue.set('q1', [2])
    expect(JSON.parse(h.storage.getItem('exam-room:answers:cand-1')!)).toEqual({ attempt_id: 'att-1', answers: { q1: [2] }, pending: true })
    expect(queue.status.state).toBe('saving')
    expect(h.calls).toHaveLength(1)
    expect(h.calls[0]).toMatchObject({ answers: { q1: [2] }, saveNo: 0 })
    h.ok(h.calls[0])
    await settle()
    expect(queue.status).toMatchObject({ state: 'saved', pending: false, savedAt: '2026-05-01T02:00:01Z' })
    expect(JSON.parse(h.storage.getItem('exam-room:answers:cand-1')!).pending).toBe(false)
    expect(saveText(queue.status)).toBe('已保存（2026-05-01T02:00:01Z）')
  })

  it('sends answers given while a save is under way right after it, with the new save number', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.set('q1', [0])
    queue.set('q2', [1, 2])
    expect(h.calls).toHaveLength(1)
    h.ok(h.calls[0])
    await settle()
    expect(h.calls).toHaveLength(2)
    expect(h.calls[1]).toMatchObject({ answers: { q1: [0], q2: [1, 2] }, saveNo: 1 })
    expect(queue.status.pending).toBe(true)
    h.ok(h.calls[1])
    await settle()
    expect(queue.status).toMatchObject({ state: 'saved', pending: false })
  })

  it('retries a failed save with growing waits, keeping the answers locally', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.set('q1', [3])
    h.calls[0].reject({ status: 503, code: 'http_503', detail: '服务器暂时无法处理请求（503），请稍后重试' })
    await settle()
    expect(queue.status).toMatchObject({ state: 'retrying', failures: 1, retryInMs: 1000 })
    expect(saveText(queue.status)).toBe('保存失败，1 秒后自动重试（第 1 次）')
    expect(h.fireTimers()).toEqual([1000])
    h.calls[1].reject({ status: 502, code: 'http_502' })
    await settle()
    expect(queue.status).toMatchObject({ failures: 2, retryInMs: 2000 })
    h.fireTimers()
    h.ok(h.calls[2])
    await settle()
    expect(queue.status).toMatchObject({ state: 'saved', failures: 0, pending: false })
    expect(h.calls.map((c) => c.answers)).toEqual([{ q1: [3] }, { q1: [3] }, { q1: [3] }])
  })

  it('offline: queues locally, says so, and sends as soon as the network is back', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    h.net.online = false
    queue.set('q1', [1])
    queue.set('q2', [0])
    expect(h.calls).toHaveLength(0)
    expect(queue.status.state).toBe('offline')
    expect(saveText(queue.status)).toBe('网络中断，答案已在本机暂存，恢复后自动提交')
    expect(JSON.parse(h.storage.getItem('exam-room:answers:cand-1')!).answers).toEqual({ q1: [1], q2: [0] })
    h.net.online = true
    queue.networkBack()
    expect(h.calls).toHaveLength(1)
    expect(h.calls[0].answers).toEqual({ q1: [1], q2: [0] })
    h.ok(h.calls[0])
    await settle()
    expect(queue.status.state).toBe('saved')
    expect(h.timers.filter((t) => !t.cancelled)).toHaveLength(0)
  })

  it('a request that fails on the network (status 0) is an offline state too', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.set('q1', [1])
    h.calls[0].reject({ status: 0, code: 'network_error', detail: '无法连接服务器，请检查网络后重试' })
    await settle()
    expect(queue.status).toMatchObject({ state: 'offline', pending: true })
  })

  it('answers kept on this computer from an earlier page are merged over the server copy and sent', async () => {
    const storage = new MemoryStorage()
    storage.setItem('exam-room:answers:cand-1', JSON.stringify({ attempt_id: 'att-1', answers: { q2: [3] }, pending: true }))
    const h = harness(storage)
    const queue = new AutosaveQueue(h.deps, 'att-1', { answers: { q1: [0], q2: [1] }, save_no: 4, saved_at: '2026-05-01T02:00:00Z' })
    expect(queue.answers).toEqual({ q1: [0], q2: [3] })
    queue.start()
    expect(h.calls[0]).toMatchObject({ answers: { q1: [0], q2: [3] }, saveNo: 4 })
  })

  it('ignores a local copy of another attempt (a retake) or a confirmed one', () => {
    const storage = new MemoryStorage()
    storage.setItem('exam-room:answers:cand-1', JSON.stringify({ attempt_id: 'old', answers: { q2: [3] }, pending: true }))
    const h = harness(storage)
    const queue = new AutosaveQueue(h.deps, 'att-1', { answers: { q1: [0] }, save_no: 1, saved_at: null })
    queue.start()
    expect(queue.answers).toEqual({ q1: [0] })
    expect(h.calls).toHaveLength(0)
  })

  it('stops when the server has closed the paper (the deadline is the server’s) and drops the local copy', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.set('q1', [1])
    h.calls[0].reject({ status: 409, code: 'already_submitted', detail: '试卷已提交，不能再修改答案' })
    await settle()
    expect(queue.status).toMatchObject({ state: 'closed', closedCode: 'already_submitted' })
    expect(h.storage.getItem('exam-room:answers:cand-1')).toBeNull()
    queue.set('q2', [1])
    expect(h.calls).toHaveLength(1)
    expect(h.timers).toHaveLength(0)
  })

  it('a stale save (another page saved since) takes the server’s save number and sends this page’s answers', async () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', fresh)
    queue.set('q1', [1])
    h.calls[0].reject({ status: 409, code: 'stale_save' })
    await settle()
    await settle()
    expect(h.calls).toHaveLength(2)
    expect(h.calls[1]).toMatchObject({ answers: { q1: [1] }, saveNo: 41 })
  })

  it('an answer taken back removes the question', () => {
    const h = harness()
    const queue = new AutosaveQueue(h.deps, 'att-1', { answers: { q1: [1] }, save_no: 1, saved_at: null })
    queue.set('q1', [])
    expect(h.calls[0].answers).toEqual({})
  })

  it('waits at most 30 seconds between tries', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  })
})
