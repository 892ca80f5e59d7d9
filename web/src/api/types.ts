// Types of the platform's API, generated from the merged OpenAPI document (`make openapi`).
import type { components, paths } from './schema'

export type { components, paths }
/** a named schema of the API, e.g. `Schema<'TokenResponse'>` */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name]
