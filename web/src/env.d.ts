/// <reference types="vite/client" />
import 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** the page's title (menu, breadcrumbs, document title) */
    title?: string
    /** roles allowed to open the page (and see it in the menu); none: every signed-in role */
    roles?: string[]
    /** shown in the side menu */
    menu?: boolean
    /** an @element-plus/icons-vue icon name, e.g. 'Document' */
    icon?: string
    /** reachable without signing in (login, sign-up) */
    public?: boolean
  }
}
