import type { RouteRecordRaw } from 'vue-router'

// The provincial administrator's console. Pages are added here; `meta.menu` puts them in the side menu.
const roles = ['admin']

export const adminRoutes: RouteRecordRaw[] = [
  {
    path: '/admin',
    name: 'admin-home',
    component: () => import('@/views/placeholder/UnderConstructionView.vue'),
    meta: { title: '平台管理', roles, menu: true, icon: 'Setting' },
  },
]
