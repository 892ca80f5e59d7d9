import type { RouteRecordRaw } from 'vue-router'

// Pages anyone may open without signing in (meta.public), outside the application layout: the public
// certificate verification page that the certificate's QR code opens (证书查验), and the candidate's account
// activation (学员激活账号).
export const publicRoutes: RouteRecordRaw[] = [
  {
    path: '/verify',
    name: 'verify',
    component: () => import('@/views/public/VerifyView.vue'),
    meta: { title: '证书查验', public: true },
  },
  {
    path: '/activate',
    name: 'activate',
    component: () => import('@/views/auth/ActivateView.vue'),
    meta: { title: '学员激活账号', public: true },
  },
]
