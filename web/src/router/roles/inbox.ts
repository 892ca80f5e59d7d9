import type { RouteRecordRaw } from 'vue-router'

// Every signed-in account's notification inbox (站内消息): no `roles`, every role has one.
export const inboxRoutes: RouteRecordRaw[] = [
  {
    path: '/inbox',
    name: 'inbox',
    component: () => import('../../views/inbox/InboxView.vue'),
    meta: { title: '站内消息', icon: 'Tickets', menu: false },
  },
]
