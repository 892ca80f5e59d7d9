import type { RouteRecordRaw } from 'vue-router'

// The exam room (考试机): full-screen pages outside the application layout, for the signed-in candidate.
export const examRoomRoutes: RouteRecordRaw[] = []
