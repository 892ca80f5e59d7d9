import type { RouteRecordRaw } from 'vue-router'

// The exam room (考试机): full-screen pages outside the application layout, for the signed-in candidate.
export const examRoomRoutes: RouteRecordRaw[] = [
  {
    path: '/exam-room/:candidateId',
    name: 'exam-room',
    component: () => import('@/views/exam-room/ExamRoomView.vue'),
    props: true,
    meta: { title: '考试', roles: ['person'] },
  },
]
