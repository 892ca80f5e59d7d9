// The one way the web application talks to the gateway: the access token is kept in memory only (never in
// localStorage); the refresh token lives in an HttpOnly cookie the gateway sets at login, sent only to
// /api/gateway/auth. A 401 `token_expired` refreshes silently once and repeats the request.

export interface ProblemRowError {
  row?: number
  column?: string
  field?: string
  value?: unknown
  code: string
  message: string
}

/** An error answer of the platform (application/problem+json), with its Chinese `detail`. */
export class ProblemError extends Error {
  status: number
  code: string
  detail: string
  errors?: ProblemRowError[]
  details?: unknown

  constructor(status: number, code: string, detail: string, errors?: ProblemRowError[], details?: unknown) {
    super(detail)
    this.name = 'ProblemError'
    this.status = status
    this.code = code
    this.detail = detail
    this.errors = errors
    this.details = details
  }
}

export interface TokenAnswer {
  access_token: string
  refresh_token: string
  expires_in: number
  refresh_expires_in: number
  account_id: string
  username: string
  role: string
  org_id: string | null
  city: string | null
}

const REFRESH_PATH = '/api/gateway/auth/refresh'
let accessToken: string | null = null
let refreshing: Promise<TokenAnswer | null> | null = null
const listeners = new Set<(answer: TokenAnswer | null) => void>()

export function setAccessToken(token: string | null): void {
  accessToken = token
}

export function getAccessToken(): string | null {
  return accessToken
}

/** Called with every new token answer (a refresh) and with null when the session ended. */
export function onTokens(listener: (answer: TokenAnswer | null) => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function notify(answer: TokenAnswer | null): void {
  for (const listener of listeners) listener(answer)
}

async function refreshOnce(): Promise<TokenAnswer | null> {
  const response = await fetch(REFRESH_PATH, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{}',
  })
  if (!response.ok) return null
  return (await response.json()) as TokenAnswer
}

/**
 * Exchange the refresh cookie for a new access token (null: no session). One refresh at a time, across
 * tabs too (Web Locks): a refresh token presented twice ends every session of the account.
 */
export function refreshSession(): Promise<TokenAnswer | null> {
  if (!refreshing) {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
    const run: Promise<TokenAnswer | null> = locks
      ? (locks.request('zj-cert-refresh', () => refreshOnce()) as unknown as Promise<TokenAnswer | null>)
      : refreshOnce()
    refreshing = run
      .catch(() => null)
      .then((answer) => {
        setAccessToken(answer ? answer.access_token : null)
        notify(answer)
        return answer
      })
      .finally(() => {
        refreshing = null
      })
  }
  return refreshing
}

export function queryString(params?: Record<string, string | number | boolean | undefined>): string {
  if (!params) return ''
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.append(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** The ProblemError of a failed answer's body (problem+json, or anything else). */
export function problemFrom(status: number, contentType: string | null, text: string): ProblemError {
  let body: Record<string, unknown> | null = null
  if (text && (contentType ?? '').includes('json')) {
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = null
    }
  }
  if (body && typeof body === 'object') {
    const detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : ''
    const code = typeof body.code === 'string' ? body.code : `http_${status}`
    const errors = Array.isArray(body.errors) ? (body.errors as ProblemRowError[]) : undefined
    const details = body.details ?? (errors ? undefined : body.errors)
    return new ProblemError(status, code, detail || fallbackDetail(status), errors, details)
  }
  return new ProblemError(status, `http_${status}`, fallbackDetail(status))
}

function fallbackDetail(status: number): string {
  if (status === 0) return '无法连接服务器，请检查网络后重试'
  if (status === 401) return '请先登录'
  if (status === 403) return '无权执行此操作'
  if (status === 404) return '请求的地址不存在'
  if (status === 413) return '文件太大'
  if (status >= 500) return `服务器暂时无法处理请求（${status}），请稍后重试`
  return `请求失败（${status}）`
}

interface Request {
  method: string
  path: string
  body?: BodyInit
  headers?: Record<string, string>
}

async function send(req: Request): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
  if (accessToken) headers.authorization = `Bearer ${accessToken}`
  try {
    return await fetch(req.path, { method: req.method, headers, body: req.body, credentials: 'same-origin' })
  } catch {
    throw new ProblemError(0, 'network_error', fallbackDetail(0))
  }
}

async function isExpired(response: Response): Promise<boolean> {
  if (response.status !== 401) return false
  try {
    const body = (await response.clone().json()) as { code?: string }
    return body.code === 'token_expired'
  } catch {
    return false
  }
}

/** Send; on 401 `token_expired` refresh once and send again. */
async function exchange(req: Request): Promise<Response> {
  let response = await send(req)
  if (accessToken && (await isExpired(response))) {
    const answer = await refreshSession()
    if (answer) response = await send(req)
  }
  if (!response.ok) {
    throw problemFrom(response.status, response.headers.get('content-type'), await response.text())
  }
  return response
}

async function parse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('json')) return (await response.json()) as T
  return (await response.text()) as T
}

function jsonBody(body: unknown): Pick<Request, 'body' | 'headers'> {
  return body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
}

interface RawAnswer {
  status: number
  contentType: string | null
  text: string
}

function uploadOnce(
  path: string,
  form: FormData,
  method: string,
  onProgress?: (percent: number) => void,
): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, path)
    xhr.setRequestHeader('accept', 'application/json')
    if (accessToken) xhr.setRequestHeader('authorization', `Bearer ${accessToken}`)
    if (onProgress) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100))
      }
    }
    xhr.onload = () =>
      resolve({ status: xhr.status, contentType: xhr.getResponseHeader('content-type'), text: xhr.responseText })
    xhr.onerror = () => resolve({ status: 0, contentType: null, text: '' })
    xhr.send(form)
  })
}

function expiredText(status: number, text: string): boolean {
  if (status !== 401) return false
  try {
    return (JSON.parse(text) as { code?: string }).code === 'token_expired'
  } catch {
    return false
  }
}

export const api = {
  async get<T>(path: string, opts?: { params?: Record<string, string | number | boolean | undefined> }): Promise<T> {
    return parse<T>(await exchange({ method: 'GET', path: path + queryString(opts?.params) }))
  },

  async post<T>(path: string, body?: unknown, opts?: { idempotencyKey?: string }): Promise<T> {
    const req: Request = { method: 'POST', path, ...jsonBody(body) }
    if (opts?.idempotencyKey) req.headers = { ...req.headers, 'Idempotency-Key': opts.idempotencyKey }
    return parse<T>(await exchange(req))
  },

  async put<T>(path: string, body?: unknown): Promise<T> {
    return parse<T>(await exchange({ method: 'PUT', path, ...jsonBody(body) }))
  },

  async del<T>(path: string): Promise<T> {
    return parse<T>(await exchange({ method: 'DELETE', path }))
  },

  /** multipart upload with progress (XMLHttpRequest); the form is sent again after a silent refresh */
  async upload<T>(
    path: string,
    form: FormData,
    opts?: { method?: 'POST' | 'PUT'; onProgress?: (percent: number) => void },
  ): Promise<T> {
    const method = opts?.method ?? 'POST'
    let answer = await uploadOnce(path, form, method, opts?.onProgress)
    if (accessToken && expiredText(answer.status, answer.text) && (await refreshSession())) {
      answer = await uploadOnce(path, form, method, opts?.onProgress)
    }
    if (answer.status < 200 || answer.status >= 300) throw problemFrom(answer.status, answer.contentType, answer.text)
    if (answer.status === 204 || !answer.text) return undefined as T
    return ((answer.contentType ?? '').includes('json') ? JSON.parse(answer.text) : answer.text) as T
  },

  /** fetch a file with the token and hand it to the browser as a download named `filename` */
  async download(path: string, filename: string, opts?: { params?: Record<string, string> }): Promise<void> {
    const response = await exchange({ method: 'GET', path: path + queryString(opts?.params) })
    const blob = await response.blob()
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = filename
    document.body.appendChild(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  },
}
