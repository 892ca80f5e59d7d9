import type { RouteRecordRaw } from 'vue-router'

// Back-office integration: event feeds and webhooks (the administrator's console page, and the city
// authorities' and institutions' own subscriptions).
export const backOfficeRoutes: RouteRecordRaw[] = [
  {
    path: '/admin/webhooks',
    name: 'admin-webhooks',
    component: () => import('@/views/backoffice/WebhooksAdminView.vue'),
    meta: { title: '数据对接 / Webhook', roles: ['admin'], menu: true, icon: 'Files' },
  },
  {
    path: '/backoffice/webhooks',
    name: 'backoffice-webhooks',
    component: () => import('@/views/backoffice/MyWebhooksView.vue'),
    meta: { title: '数据对接', roles: ['reviewer', 'institution'], menu: true, icon: 'Files' },
  },
]
