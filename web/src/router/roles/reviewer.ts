import type { RouteRecordRaw } from 'vue-router'

const roles = ['reviewer', 'admin']

export const reviewerRoutes: RouteRecordRaw[] = [
  {
    path: '/reviewer/queue',
    name: 'reviewer-queue',
    component: () => import('../../views/reviewer/QueueView.vue'),
    meta: { title: '企业注册审核', icon: 'Checked', roles, menu: true },
  },
  {
    path: '/reviewer/enterprises/:id',
    name: 'reviewer-enterprise',
    component: () => import('../../views/reviewer/EnterpriseReviewView.vue'),
    props: true,
    meta: { title: '企业注册材料', icon: 'Document', roles, menu: false },
  },
]
