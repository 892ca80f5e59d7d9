import type { RouteRecordRaw } from 'vue-router'

// The candidate's (学员, role `person`) portal pages inside the application layout: 我的资料, enrollments and
// training plans, exam schedule and results, certificates, continuing education and renewal.
// `meta.menu` puts a page in the side menu.
export const candidateRoutes: RouteRecordRaw[] = [
  {
    path: '/person',
    name: 'person-home',
    component: () => import('@/views/placeholder/UnderConstructionView.vue'),
    meta: { title: '我的资料', roles: ['person'], menu: true, icon: 'User' },
  },
]
