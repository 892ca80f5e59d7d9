import type { RouteRecordRaw } from 'vue-router'

// The training institution's exam pages (question banks, sessions and seats, candidates, the check-in desk,
// violations). Pages are added here; `meta.menu` puts them in the side menu.
export const institutionExamRoutes: RouteRecordRaw[] = []
