import { vi } from 'vitest'

export interface Call {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
}

/** A fake fetch answering from a list of handlers (first match wins); records every call. */
export function fakeFetch(handler: (call: Call) => { status: number; body?: unknown; type?: string }) {
  const calls: Call[] = []
  const fn = vi.fn(async (url: string, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body,
    }
    calls.push(call)
    const answer = handler(call)
    const type = answer.type ?? (answer.status >= 400 ? 'application/problem+json' : 'application/json')
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body)
    return new Response(answer.status === 204 ? null : text, {
      status: answer.status,
      headers: { 'content-type': type },
    })
  })
  vi.stubGlobal('fetch', fn)
  return calls
}

export function tokens(n: number, role = 'admin') {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'bearer',
    expires_in: 900,
    refresh_expires_in: 604800,
    account_id: 'acc-1',
    username: 'root-admin',
    role,
    org_id: null,
    city: null,
  }
}
