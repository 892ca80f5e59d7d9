import type { RouteRecordRaw } from 'vue-router'

// The training institution's training pages (training plans: trainees, completion, applying for the exam)
// and continuing-education hours. Pages are added here; `meta.menu` puts them in the side menu.
// The administrator may read plans and record hours (the API allows it); creating and changing plans and
// importing hours sheets are the institution's (the pages hide those actions for others).
const roles = ['institution', 'admin']

export const institutionTrainingRoutes: RouteRecordRaw[] = [
  {
    path: '/institution/training-plans',
    name: 'institution-training-plans',
    component: () => import('../../views/institution/training/TrainingPlansView.vue'),
    meta: { title: '培训计划', icon: 'Calendar', roles, menu: true },
  },
  {
    path: '/institution/training-plans/:planId',
    name: 'institution-training-plan',
    component: () => import('../../views/institution/training/TrainingPlanView.vue'),
    meta: { title: '培训计划详情', icon: 'Calendar', roles, menu: false },
  },
  {
    path: '/institution/hours',
    name: 'institution-hours',
    component: () => import('../../views/institution/training/HoursView.vue'),
    meta: { title: '继续教育学时', icon: 'Timer', roles, menu: true },
  },
]
