import type { RouteRecordRaw } from 'vue-router'

// The training institution's training pages (training plans: trainees, completion, applying for the exam)
// and continuing-education hours. Pages are added here; `meta.menu` puts them in the side menu.
export const institutionTrainingRoutes: RouteRecordRaw[] = []
