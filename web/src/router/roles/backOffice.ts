import type { RouteRecordRaw } from 'vue-router'

// Back-office integration: event feeds and webhooks (the administrator's console page, and the city
// authorities' and institutions' own subscriptions).
export const backOfficeRoutes: RouteRecordRaw[] = []
