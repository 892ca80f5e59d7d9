import type { RouteRecordRaw } from 'vue-router'

// The candidate's (学员, role `person`) portal pages inside the application layout: 我的资料, enrollments and
// training plans, exam schedule and results, certificates, continuing education and renewal.
// `meta.menu` puts a page in the side menu. The exam itself (考试机) opens full screen: examRoom.ts.
const roles = ['person']

export const candidateRoutes: RouteRecordRaw[] = [
  {
    path: '/person',
    name: 'person-home',
    component: () => import('@/views/person/ProfileView.vue'),
    meta: { title: '我的资料', roles, menu: true, icon: 'User' },
  },
  {
    path: '/person/enrollments',
    name: 'person-enrollments',
    component: () => import('@/views/person/EnrollmentsView.vue'),
    meta: { title: '报名与培训', roles, menu: true, icon: 'Reading' },
  },
  {
    path: '/person/exams',
    name: 'person-exams',
    component: () => import('@/views/person/ExamsView.vue'),
    meta: { title: '考试与成绩', roles, menu: true, icon: 'Calendar' },
  },
  {
    path: '/person/certificates',
    name: 'person-certificates',
    component: () => import('@/views/person/CertificatesView.vue'),
    meta: { title: '我的证书', roles, menu: true, icon: 'Medal' },
  },
  {
    path: '/person/education',
    name: 'person-education',
    component: () => import('@/views/person/EducationView.vue'),
    meta: { title: '继续教育', roles, menu: true, icon: 'Notebook' },
  },
]
