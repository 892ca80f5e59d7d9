import type { RouteRecordRaw } from 'vue-router'

// Pages anyone may open without signing in (meta.public), outside the application layout: the public
// certificate verification page that the certificate's QR code opens (证书查验).
export const publicRoutes: RouteRecordRaw[] = []
