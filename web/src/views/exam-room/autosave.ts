// Autosave with a local queue: every answer is written to localStorage at once (keyed by the candidate) and
// sent to the server; a failed save is retried with backoff, and a lost network keeps the answers on this
// computer until it comes back. The server's deadline stays authoritative: once it refuses answers because
// the paper is closed, the queue stops and says so.

import type { SaveAnswer } from './types'

export type SaveState = 'idle' | 'saving' | 'saved' | 'offline' | 'retrying' | 'closed'

export interface SaveStatus {
  state: SaveState
  /** answers changed on this computer that the server has not confirmed yet */
  pending: boolean
  /** consecutive failures (for the retry text) */
  failures: number
  /** when the next try happens (ms from the failure), while retrying or offline */
  retryInMs: number | null
  /** the server's time of the last save (ISO) */
  savedAt: string | null
  /** the Chinese detail of the last error */
  problem: string
  /** the code the server closed the paper with (already_submitted, exam_not_started, …) */
  closedCode: string
}

/** An error answer as the API client throws it (ProblemError): status 0 is a network failure. */
export interface FailureLike {
  status: number
  code: string
  detail?: string
}

export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export interface AutosaveDeps {
  /** PUT …/answers with all the answers and the last save number known */
  send(answers: Record<string, number[]>, saveNo: number | null): Promise<SaveAnswer>
  /** the server's current save number (GET …/paper), after a `stale_save` */
  refreshSaveNo?(): Promise<number>
  storage: StorageLike | null
  key: string
  schedule(run: () => void, ms: number): unknown
  cancel(handle: unknown): void
  online(): boolean
  onChange(status: SaveStatus): void
}

/** The codes with which the server refuses answers for good: the paper is closed. */
export const CLOSED_CODES = new Set(['already_submitted', 'exam_not_started', 'exam_over', 'not_found'])

export function backoffMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1))
}

export function storageKey(candidateId: string): string {
  return `exam-room:answers:${candidateId}`
}

interface Stored {
  attempt_id: string
  answers: Record<string, number[]>
  pending: boolean
}

export function readStored(storage: StorageLike | null, key: string, attemptId: string): Stored | null {
  if (!storage) return null
  try {
    const raw = storage.getItem(key)
    if (!raw) return null
    const parsed = JSON.parse(raw) as Stored
    if (parsed.attempt_id !== attemptId || typeof parsed.answers !== 'object' || parsed.answers === null) return null
    return parsed
  } catch {
    return null
  }
}

function failureOf(e: unknown): FailureLike {
  if (e && typeof e === 'object' && 'status' in e && 'code' in e) {
    const f = e as { status: unknown; code: unknown; detail?: unknown }
    return {
      status: Number(f.status),
      code: String(f.code),
      detail: typeof f.detail === 'string' ? f.detail : undefined,
    }
  }
  return { status: 0, code: 'network_error' }
}

export class AutosaveQueue {
  answers: Record<string, number[]>
  private saveNo: number | null
  private version = 0
  private confirmed = 0
  private inFlight = false
  private timer: unknown = null
  private staleTries = 0
  private disposed = false
  status: SaveStatus

  constructor(
    private readonly deps: AutosaveDeps,
    readonly attemptId: string,
    server: { answers: Record<string, number[]>; save_no: number; saved_at: string | null },
  ) {
    this.saveNo = server.save_no
    this.answers = { ...server.answers }
    this.status = {
      state: server.saved_at ? 'saved' : 'idle',
      pending: false,
      failures: 0,
      retryInMs: null,
      savedAt: server.saved_at,
      problem: '',
      closedCode: '',
    }
    // answers kept on this computer and never confirmed (the page was closed or the network was down)
    const stored = readStored(deps.storage, deps.key, attemptId)
    if (stored?.pending) {
      this.answers = { ...this.answers, ...stored.answers }
      this.version = 1
      this.status.pending = true
    }
  }

  /** Start: send what this computer kept (if anything). */
  start(): void {
    if (this.status.pending) this.flush()
    else this.persist()
  }

  /** An answer changed: kept locally at once, then sent. */
  set(questionId: string, choice: number[]): void {
    if (this.status.state === 'closed' || this.disposed) return
    if (choice.length === 0) delete this.answers[questionId]
    else this.answers[questionId] = [...choice]
    this.version += 1
    this.update({ pending: true })
    this.persist()
    this.flush()
  }

  /** The network came back: send at once instead of waiting for the next retry. */
  networkBack(): void {
    if (this.version > this.confirmed && !this.inFlight && this.status.state !== 'closed') {
      this.deps.cancel(this.timer)
      this.timer = null
      this.flush()
    }
  }

  /** The paper is closed (submitted, or the server said so): no more saves; the local copy is dropped. */
  close(code = 'already_submitted'): void {
    this.deps.cancel(this.timer)
    this.timer = null
    this.update({ state: 'closed', closedCode: code, retryInMs: null })
    this.deps.storage?.removeItem(this.deps.key)
  }

  dispose(): void {
    this.disposed = true
    this.deps.cancel(this.timer)
    this.timer = null
  }

  flush(): void {
    if (this.inFlight || this.disposed || this.status.state === 'closed') return
    if (this.version <= this.confirmed && this.status.pending === false) return
    this.deps.cancel(this.timer)
    this.timer = null
    if (!this.deps.online()) {
      this.failed({ status: 0, code: 'network_error' })
      return
    }
    const version = this.version
    const answers = { ...this.answers }
    this.inFlight = true
    this.update({ state: 'saving', retryInMs: null })
    this.deps.send(answers, this.saveNo).then(
      (answer) => {
        this.inFlight = false
        if (this.disposed) return
        this.saveNo = answer.save_no
        this.confirmed = version
        this.staleTries = 0
        const pending = this.version > version
        this.update({ state: 'saved', pending, failures: 0, savedAt: answer.saved_at, problem: '' })
        this.persist()
        if (pending) this.flush()
      },
      (e: unknown) => {
        this.inFlight = false
        if (this.disposed) return
        this.failed(failureOf(e))
      },
    )
  }

  private failed(f: FailureLike): void {
    if (f.status === 409 && CLOSED_CODES.has(f.code)) {
      this.update({ problem: f.detail ?? '' })
      this.close(f.code)
      return
    }
    if (f.status === 409 && f.code === 'stale_save' && this.deps.refreshSaveNo && this.staleTries < 3) {
      // another page of the same candidate saved since: this page's answers are the newer ones
      this.staleTries += 1
      this.deps.refreshSaveNo().then(
        (saveNo) => {
          this.saveNo = saveNo
          this.flush()
        },
        (e: unknown) => this.failed(failureOf(e)),
      )
      return
    }
    const failures = this.status.failures + 1
    const retryInMs = backoffMs(failures)
    const offline = f.status === 0
    this.update({
      state: offline ? 'offline' : 'retrying',
      failures,
      retryInMs,
      problem: f.detail ?? (offline ? '网络中断' : `保存失败（${f.code}）`),
    })
    this.timer = this.deps.schedule(() => {
      this.timer = null
      this.flush()
    }, retryInMs)
  }

  private persist(): void {
    if (!this.deps.storage) return
    const stored: Stored = { attempt_id: this.attemptId, answers: this.answers, pending: this.version > this.confirmed }
    try {
      this.deps.storage.setItem(this.deps.key, JSON.stringify(stored))
    } catch {
      // a full or disabled storage: the server copy is the one that counts
    }
  }

  private update(change: Partial<SaveStatus>): void {
    this.status = { ...this.status, ...change }
    this.deps.onChange(this.status)
  }
}

/** The visible text of a save state. */
export function saveText(status: SaveStatus, time: (iso: string) => string = (iso) => iso): string {
  switch (status.state) {
    case 'saving':
      return '保存中…'
    case 'saved':
      return status.savedAt ? `已保存（${time(status.savedAt)}）` : '已保存'
    case 'offline':
      return '网络中断，答案已在本机暂存，恢复后自动提交'
    case 'retrying':
      return `保存失败，${Math.round((status.retryInMs ?? 0) / 1000)} 秒后自动重试（第 ${status.failures} 次）`
    case 'closed':
      return '试卷已提交，答案不再保存'
    default:
      return status.pending ? '待保存' : '尚未作答'
  }
}
