import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { setAccessToken } from '@/api/client'
import { fakeFetch, tokens } from '@/test/fetch'
import { homeOf, installGuards, routes } from './index'

function router() {
  const r = createRouter({ history: createMemoryHistory(), routes })
  installGuards(r)
  return r
}

function signedInAs(role: string | null) {
  fakeFetch((call) => {
    if (call.url === '/api/gateway/auth/refresh') {
      return role ? { status: 200, body: tokens(1, role) } : { status: 401, body: { code: 'token_missing', detail: '未登录' } }
    }
    return { status: 200, body: { account_id: 'acc-1', username: 'u', role, org_id: null, city: null, display_name: 'X' } }
  })
}

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => {
  setAccessToken(null)
  vi.unstubAllGlobals()
})

describe('router guard', () => {
  it('sends an anonymous visitor to the login page, remembering where they were going', async () => {
    signedInAs(null)
    const r = router()
    await r.push('/admin')
    expect(r.currentRoute.value.name).toBe('login')
    expect(r.currentRoute.value.query.redirect).toBe('/admin')
  })

  it('restores the session on page load and opens the home of the role', async () => {
    signedInAs('admin')
    const r = router()
    await r.push('/')
    expect(r.currentRoute.value.path).toBe('/admin')
  })

  it('refuses a page of another role', async () => {
    signedInAs('institution')
    const r = router()
    await r.push('/admin')
    expect(r.currentRoute.value.name).toBe('forbidden')
  })

  it('keeps a signed-in user away from the login page', async () => {
    signedInAs('person')
    const r = router()
    await r.push('/login')
    expect(r.currentRoute.value.path).toBe('/person')
  })

  it('has a home per role', () => {
    expect(homeOf('enterprise')).toBe('/enterprise/registration')
    expect(homeOf('reviewer')).toBe('/reviewer/queue')
    expect(homeOf(undefined)).toBe('/login')
  })
})
