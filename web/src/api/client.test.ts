import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ProblemError, problemFrom, setAccessToken } from './client'
import { fakeFetch, tokens } from '@/test/fetch'

afterEach(() => {
  setAccessToken(null)
  vi.unstubAllGlobals()
})

describe('api client', () => {
  it('sends the in-memory token and parses JSON', async () => {
    const calls = fakeFetch(() => ({ status: 200, body: { ok: true } }))
    setAccessToken('abc')
    expect(await api.get('/api/registration/cities', { params: { city: '杭州', page: undefined } })).toEqual({ ok: true })
    expect(calls[0].url).toBe('/api/registration/cities?city=%E6%9D%AD%E5%B7%9E')
    expect(calls[0].headers.authorization).toBe('Bearer abc')
  })

  it('throws a ProblemError with the Chinese detail and row errors', async () => {
    fakeFetch(() => ({
      status: 422,
      body: {
        code: 'validation_failed',
        detail: '有 1 处问题',
        status: 422,
        errors: [{ row: 3, column: '身份证号', value: '1', code: 'id_invalid', message: '身份证号不正确' }],
      },
    }))
    const error = await api.post('/api/enrollment/batches', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProblemError)
    const problem = error as ProblemError
    expect(problem.status).toBe(422)
    expect(problem.detail).toBe('有 1 处问题')
    expect(problem.errors?.[0].row).toBe(3)
  })

  it('refreshes once on token_expired and repeats the request', async () => {
    let expired = true
    const calls = fakeFetch((call) => {
      if (call.url === '/api/gateway/auth/refresh') return { status: 200, body: tokens(2) }
      if (expired) {
        expired = false
        return { status: 401, body: { code: 'token_expired', detail: '登录已过期' } }
      }
      return { status: 200, body: { items: [] } }
    })
    setAccessToken('access-1')
    expect(await api.get('/api/enrollment/applicants')).toEqual({ items: [] })
    expect(calls.map((c) => c.url)).toEqual([
      '/api/enrollment/applicants',
      '/api/gateway/auth/refresh',
      '/api/enrollment/applicants',
    ])
    expect(calls[2].headers.authorization).toBe('Bearer access-2')
  })

  it('sends the idempotency key', async () => {
    const calls = fakeFetch(() => ({ status: 201, body: { order_id: 'o-1' } }))
    await api.post('/api/payment/orders', { applicant_ids: [] }, { idempotencyKey: 'k-1' })
    expect(calls[0].headers['Idempotency-Key']).toBe('k-1')
    expect(calls[0].headers['content-type']).toBe('application/json')
  })

  it('reads problems that are not JSON', () => {
    const problem = problemFrom(502, 'text/html', '<html>bad gateway</html>')
    expect(problem.code).toBe('http_502')
    expect(problem.detail).toContain('服务器暂时无法处理请求')
  })
})
