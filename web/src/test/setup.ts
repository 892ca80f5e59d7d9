import { afterEach, vi } from 'vitest'
import { disableAutoUnmount, enableAutoUnmount } from '@vue/test-utils'

// The test files share one jsdom per worker (`isolate: false` in vite.config.ts: a fresh environment per file
// cost 50 of the suite's 68 s). What one test leaves behind in the browser's globals is cleared after each.
// A component a test mounted stops (its polling and pending requests) before the next test starts. This file
// runs once per test file in the shared module registry: the hook is registered again for each file.
disableAutoUnmount()
enableAutoUnmount(afterEach)

afterEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  document.body.innerHTML = ''
  vi.useRealTimers()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})
