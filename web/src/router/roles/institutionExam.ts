import type { RouteRecordRaw } from 'vue-router'

// The training institution's exam pages (question banks, sessions and seats, candidates, the check-in desk,
// violations). Pages are added here; `meta.menu` puts them in the side menu.
const institution = ['institution']
const managers = ['institution', 'admin'] // what the exam API lets the administrator see too

export const institutionExamRoutes: RouteRecordRaw[] = [
  {
    path: '/institution/exam/banks',
    name: 'institution-exam-banks',
    component: () => import('../../views/institution/exam/BanksView.vue'),
    meta: { title: '题库管理', icon: 'Collection', roles: managers, menu: true },
  },
  {
    path: '/institution/exam/sessions',
    name: 'institution-exam-sessions',
    component: () => import('../../views/institution/exam/SessionsView.vue'),
    meta: { title: '考场安排', icon: 'Calendar', roles: managers, menu: true },
  },
  {
    path: '/institution/exam/sessions/:id',
    name: 'institution-exam-session',
    component: () => import('../../views/institution/exam/SessionDetailView.vue'),
    props: true,
    meta: { title: '考场座位表', icon: 'Calendar', roles: managers, menu: false },
  },
  {
    path: '/institution/exam/candidates',
    name: 'institution-exam-candidates',
    component: () => import('../../views/institution/exam/CandidatesView.vue'),
    meta: { title: '考生名单', icon: 'Tickets', roles: managers, menu: true },
  },
  {
    path: '/institution/exam/checkin',
    name: 'institution-exam-checkin',
    component: () => import('../../views/institution/exam/CheckInView.vue'),
    meta: { title: '入场核验', icon: 'Camera', roles: institution, menu: true },
  },
  {
    path: '/institution/exam/checkin/:candidateId',
    name: 'institution-exam-checkin-candidate',
    component: () => import('../../views/institution/exam/CheckInView.vue'),
    props: true,
    meta: { title: '入场核验', icon: 'Camera', roles: institution, menu: false },
  },
  {
    path: '/institution/exam/live-alerts',
    name: 'institution-exam-live-alerts',
    component: () => import('../../views/institution/exam/LiveAlertsView.vue'),
    meta: { title: '考中人脸提醒', icon: 'Monitor', roles: managers, menu: true },
  },
  {
    path: '/institution/exam/live-alerts/:sessionId',
    name: 'institution-exam-live-alerts-session',
    component: () => import('../../views/institution/exam/LiveAlertsView.vue'),
    props: true,
    meta: { title: '考中人脸提醒', icon: 'Monitor', roles: managers, menu: false },
  },
  {
    path: '/institution/exam/violations',
    name: 'institution-exam-violations',
    component: () => import('../../views/institution/exam/ViolationsView.vue'),
    meta: { title: '考场违纪', icon: 'Warning', roles: managers, menu: true },
  },
]
