import type { RouteRecordRaw } from 'vue-router'

// The training institution's back office (offers, qualification review, payments, training plans,
// continuing-education hours). Pages are added here; `meta.menu` puts them in the side menu.
const roles = ['institution']

export const institutionRoutes: RouteRecordRaw[] = [
  {
    path: '/institution',
    name: 'institution-home',
    component: () => import('@/views/placeholder/UnderConstructionView.vue'),
    meta: { title: '培训机构工作台', roles, menu: true, icon: 'School' },
  },
]
