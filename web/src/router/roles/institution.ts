import type { RouteRecordRaw } from 'vue-router'

// The training institution's back office (offers, qualification review, payments, training plans,
// continuing-education hours). Pages are added here; `meta.menu` puts them in the side menu.
// The administrator may look at the review queue, an applicant's file and the orders too (read only: the
// decisions are the institution's).
const roles = ['institution']
const withAdmin = ['institution', 'admin']

export const institutionRoutes: RouteRecordRaw[] = [
  {
    path: '/institution',
    name: 'institution-home',
    component: () => import('@/views/institution/HomeView.vue'),
    meta: { title: '培训机构工作台', roles, menu: true, icon: 'HomeFilled' },
  },
  {
    path: '/institution/offer',
    name: 'institution-offer',
    component: () => import('@/views/institution/OfferView.vue'),
    meta: { title: '招生信息', roles, menu: true, icon: 'Tickets' },
  },
  {
    path: '/institution/review',
    name: 'institution-review',
    component: () => import('@/views/institution/ReviewQueueView.vue'),
    meta: { title: '资格审核', roles: withAdmin, menu: true, icon: 'Checked' },
  },
  {
    path: '/institution/review/:id',
    name: 'institution-applicant',
    component: () => import('@/views/institution/ApplicantFileView.vue'),
    meta: { title: '学员资料', roles: withAdmin, menu: false },
  },
  {
    path: '/institution/payments',
    name: 'institution-payments',
    component: () => import('@/views/institution/PaymentsView.vue'),
    meta: { title: '缴费确认', roles: withAdmin, menu: true, icon: 'Money' },
  },
  {
    path: '/institution/payments/:id',
    name: 'institution-order',
    component: () => import('@/views/institution/OrderView.vue'),
    meta: { title: '订单详情', roles: withAdmin, menu: false },
  },
]
