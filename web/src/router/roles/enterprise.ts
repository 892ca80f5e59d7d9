import type { RouteRecordRaw } from 'vue-router'

const roles = ['enterprise']

export const enterpriseRoutes: RouteRecordRaw[] = [
  {
    path: '/enterprise/registration',
    name: 'enterprise-registration',
    component: () => import('../../views/enterprise/RegistrationView.vue'),
    meta: { title: '企业注册', icon: 'OfficeBuilding', roles, menu: true },
  },
  {
    path: '/enterprise/institutions',
    name: 'enterprise-institutions',
    component: () => import('../../views/enterprise/InstitutionsView.vue'),
    meta: { title: '选择培训机构', icon: 'School', roles, menu: true },
  },
  {
    path: '/enterprise/batches',
    name: 'enterprise-batches',
    component: () => import('../../views/enterprise/BatchesView.vue'),
    meta: { title: '批量报名', icon: 'Upload', roles, menu: true },
  },
  {
    path: '/enterprise/applicants',
    name: 'enterprise-applicants',
    component: () => import('../../views/enterprise/ApplicantsView.vue'),
    meta: { title: '报名学员', icon: 'UserFilled', roles, menu: true },
  },
  {
    path: '/enterprise/orders',
    name: 'enterprise-orders',
    component: () => import('../../views/enterprise/OrdersView.vue'),
    meta: { title: '订单缴费', icon: 'CreditCard', roles, menu: true },
  },
  {
    path: '/enterprise/staff',
    name: 'enterprise-staff',
    component: () => import('../../views/enterprise/StaffView.vue'),
    meta: { title: '人员与证书', icon: 'Medal', roles, menu: true },
  },
]
