import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, onTokens, refreshSession, setAccessToken, type TokenAnswer } from '@/api/client'

export interface Account {
  account_id: string
  role: string
  org_id: string | null
  city: string | null
  username: string
  display_name: string | null
}

interface MeAnswer {
  account_id: string
  username: string
  role: string
  org_id: string | null
  city: string | null
  display_name: string | null
}

export const ROLE_LABELS: Record<string, string> = {
  enterprise: '企业',
  reviewer: '审核员',
  institution: '培训机构',
  person: '学员',
  admin: '管理员',
}

/** The signed-in account. The access token stays in memory (api/client); a reload restores the session
 * from the HttpOnly refresh cookie (`restore()`). */
export const useSession = defineStore('session', () => {
  const account = ref<Account | null>(null)
  const restored = ref(false)
  const loggedIn = computed(() => account.value !== null)
  const roleLabel = computed(() => (account.value ? (ROLE_LABELS[account.value.role] ?? account.value.role) : ''))

  function fromTokens(answer: TokenAnswer, displayName?: string | null): void {
    const previous = account.value
    account.value = {
      account_id: answer.account_id,
      role: answer.role,
      org_id: answer.org_id,
      city: answer.city,
      username: answer.username,
      display_name:
        displayName ?? (previous && previous.account_id === answer.account_id ? previous.display_name : null),
    }
  }

  onTokens((answer) => {
    if (answer) fromTokens(answer)
    else account.value = null
  })

  async function loadProfile(): Promise<void> {
    const me = await api.get<MeAnswer>('/api/gateway/auth/me')
    if (account.value) account.value = { ...account.value, display_name: me.display_name, username: me.username }
  }

  async function begin(answer: TokenAnswer): Promise<void> {
    setAccessToken(answer.access_token)
    fromTokens(answer)
    restored.value = true
    try {
      await loadProfile()
    } catch {
      // the display name is a nicety: the session works without it
    }
  }

  async function login(username: string, password: string): Promise<void> {
    const answer = await api.post<TokenAnswer>('/api/gateway/auth/login', { username, password })
    await begin(answer)
  }

  /** an enterprise's own account (display_name: the enterprise's name); signed in at once */
  async function signupEnterprise(username: string, password: string, displayName: string): Promise<void> {
    const body = { username, password, display_name: displayName }
    const answer = await api.post<TokenAnswer>('/api/gateway/auth/signup/enterprise', body)
    await begin(answer)
  }

  /** Restore the session from the refresh cookie (once per page load). */
  async function restore(): Promise<boolean> {
    if (restored.value) return loggedIn.value
    const answer = await refreshSession()
    restored.value = true
    if (answer) {
      fromTokens(answer)
      try {
        await loadProfile()
      } catch {
        // keep the session
      }
    }
    return answer !== null
  }

  async function logout(): Promise<void> {
    try {
      await api.post<void>('/api/gateway/auth/logout', {})
    } catch {
      // the session ends here whatever the server said
    } finally {
      setAccessToken(null)
      account.value = null
    }
  }

  return { account, loggedIn, roleLabel, restored, login, logout, signupEnterprise, restore }
})
