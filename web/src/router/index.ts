import { createRouter, createWebHistory, type RouteRecordRaw, type Router } from 'vue-router'
import AppLayout from '@/layouts/AppLayout.vue'
import LoginView from '@/views/auth/LoginView.vue'
import { useSession } from '@/stores/session'
import { enterpriseRoutes } from './roles/enterprise'
import { reviewerRoutes } from './roles/reviewer'
import { institutionRoutes } from './roles/institution'
import { institutionTrainingRoutes } from './roles/institutionTraining'
import { institutionExamRoutes } from './roles/institutionExam'
import { adminRoutes } from './roles/admin'
import { candidateRoutes } from './roles/candidate'
import { examRoomRoutes } from './roles/examRoom'
import { publicRoutes } from './roles/public'
import { backOfficeRoutes } from './roles/backOffice'
import { inboxRoutes } from './roles/inbox'

/** The first page of each role after signing in. */
export const HOME_BY_ROLE: Record<string, string> = {
  enterprise: '/enterprise/registration',
  reviewer: '/reviewer/queue',
  institution: '/institution',
  person: '/person',
  admin: '/admin',
}

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView, meta: { title: '登录', public: true } },
  {
    path: '/signup',
    name: 'signup',
    component: () => import('@/views/auth/SignupView.vue'),
    meta: { title: '企业注册账号', public: true },
  },
  {
    path: '/',
    component: AppLayout,
    children: [
      { path: '', name: 'home', redirect: () => homeOf(useSession().account?.role) },
      ...enterpriseRoutes,
      ...reviewerRoutes,
      ...institutionRoutes,
      ...institutionTrainingRoutes,
      ...institutionExamRoutes,
      ...adminRoutes,
      ...candidateRoutes,
      ...backOfficeRoutes,
      ...inboxRoutes,
      {
        path: 'forbidden',
        name: 'forbidden',
        component: () => import('@/views/placeholder/ForbiddenView.vue'),
        meta: { title: '无权访问' },
      },
    ],
  },
  ...examRoomRoutes,
  ...publicRoutes,
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/placeholder/NotFoundView.vue'),
    meta: { title: '页面不存在', public: true },
  },
]

export function homeOf(role: string | undefined): string {
  return (role && HOME_BY_ROLE[role]) || '/login'
}

/** The guard: anonymous users go to /login (after one silent refresh from the cookie), a page of another
 * role is refused, the signed-in user never sees the login page. */
export function installGuards(router: Router): void {
  router.beforeEach(async (to) => {
    const session = useSession()
    if (!session.restored) await session.restore()
    if (to.meta.public) {
      if (session.loggedIn && (to.name === 'login' || to.name === 'signup')) return homeOf(session.account?.role)
      return true
    }
    if (!session.loggedIn) {
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
    const roles = to.meta.roles
    if (roles && roles.length > 0 && !roles.includes(session.account!.role)) return { name: 'forbidden' }
    return true
  })
  router.afterEach((to) => {
    const title = to.meta.title
    document.title = title ? `${title} · 证书平台` : '浙江省建筑施工现场专业人员证书平台'
  })
}

export function buildRouter(): Router {
  const router = createRouter({ history: createWebHistory(), routes })
  installGuards(router)
  return router
}
