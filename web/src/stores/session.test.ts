import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { getAccessToken, setAccessToken } from '@/api/client'
import { useSession } from './session'
import { fakeFetch, tokens } from '@/test/fetch'

const me = {
  account_id: 'acc-1',
  username: 'root-admin',
  role: 'admin',
  org_id: null,
  city: null,
  display_name: '省级管理员',
}

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => {
  setAccessToken(null)
  vi.unstubAllGlobals()
})

describe('session store', () => {
  it('logs in, keeps the token in memory only, and logs out', async () => {
    const calls = fakeFetch((call) => {
      if (call.url === '/api/gateway/auth/login') return { status: 200, body: tokens(1) }
      if (call.url === '/api/gateway/auth/me') return { status: 200, body: me }
      if (call.url === '/api/gateway/auth/logout') return { status: 204 }
      return { status: 404, body: { code: 'http_404', detail: '请求的地址不存在' } }
    })
    const session = useSession()
    await session.login('root-admin', 'secret-password')
    expect(session.account).toMatchObject({ role: 'admin', display_name: '省级管理员' })
    expect(session.roleLabel).toBe('管理员')
    expect(getAccessToken()).toBe('access-1')
    expect(localStorage.length).toBe(0)
    expect(sessionStorage.length).toBe(0)

    await session.logout()
    expect(calls.at(-1)).toMatchObject({ url: '/api/gateway/auth/logout', body: {} })
    expect(calls.at(-1)?.headers.authorization).toBe('Bearer access-1')
    expect(session.account).toBeNull()
    expect(getAccessToken()).toBeNull()
  })

  it('restores the session from the refresh cookie on page load', async () => {
    fakeFetch((call) => {
      if (call.url === '/api/gateway/auth/refresh') return { status: 200, body: tokens(7, 'reviewer') }
      return { status: 200, body: { ...me, role: 'reviewer', display_name: '杭州市建设局' } }
    })
    const session = useSession()
    expect(await session.restore()).toBe(true)
    expect(session.account?.role).toBe('reviewer')
    expect(session.account?.display_name).toBe('杭州市建设局')
    expect(getAccessToken()).toBe('access-7')
  })

  it('stays anonymous when there is no cookie', async () => {
    fakeFetch(() => ({ status: 401, body: { code: 'token_missing', detail: '未登录' } }))
    const session = useSession()
    expect(await session.restore()).toBe(false)
    expect(session.loggedIn).toBe(false)
  })

  it('shows the Chinese detail of a wrong password', async () => {
    fakeFetch(() => ({ status: 401, body: { code: 'invalid_credentials', detail: '用户名或密码不正确' } }))
    const session = useSession()
    await expect(session.login('x', 'y')).rejects.toMatchObject({ detail: '用户名或密码不正确' })
    expect(session.loggedIn).toBe(false)
  })
})
