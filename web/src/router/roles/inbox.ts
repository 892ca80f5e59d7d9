import type { RouteRecordRaw } from 'vue-router'

// Every signed-in account's notification inbox (站内消息).
export const inboxRoutes: RouteRecordRaw[] = []
