import type { RouteRecordRaw } from 'vue-router'

// The provincial administrator's console. Pages are added here; `meta.menu` puts them in the side menu.
const roles = ['admin']

export const adminRoutes: RouteRecordRaw[] = [
  {
    path: '/admin',
    name: 'admin-home',
    component: () => import('@/views/admin/DashboardView.vue'),
    meta: { title: '平台概况', roles, menu: true, icon: 'DataAnalysis' },
  },
  {
    path: '/admin/accounts',
    name: 'admin-accounts',
    component: () => import('@/views/admin/AccountsView.vue'),
    meta: { title: '账号管理', roles, menu: true, icon: 'User' },
  },
  {
    path: '/admin/institutions',
    name: 'admin-institutions',
    component: () => import('@/views/admin/InstitutionsView.vue'),
    meta: { title: '培训机构', roles, menu: true, icon: 'School' },
  },
  {
    path: '/admin/blacklist',
    name: 'admin-blacklist',
    component: () => import('@/views/admin/BlacklistView.vue'),
    meta: { title: '考试黑名单', roles, menu: true, icon: 'Lock' },
  },
  {
    path: '/admin/certificates',
    name: 'admin-certificates',
    component: () => import('@/views/admin/CertificatesView.vue'),
    meta: { title: '证书管理', roles, menu: true, icon: 'Medal' },
  },
  {
    path: '/admin/legacy',
    name: 'admin-legacy',
    component: () => import('@/views/admin/LegacyImportView.vue'),
    meta: { title: '旧版证书导入', roles, menu: true, icon: 'Upload' },
  },
  {
    path: '/admin/dead-letters',
    name: 'admin-dead-letters',
    component: () => import('@/views/admin/DeadLettersView.vue'),
    meta: { title: '死信与重放', roles, menu: true, icon: 'Warning' },
  },
]
