/**
 * The one place that decides which requests are tenant work: by the route the router matched
 * (its declared pattern), never by the raw URL. `/%761/jobs`, `//v1/jobs`, `/x/../v1/jobs`
 * and absolute-form targets all reach a route only through the router, which reports the
 * route it chose here; a request that matched no route is answered 404 by the not-found handler.
 */
import type { FastifyRequest } from 'fastify'

/** Route patterns under this prefix need a key (when keys are configured), are rate limited, shed and drained. */
export const PROTECTED_PREFIX = '/v1/'

/** True when `url`, a route pattern as declared, is tenant work. */
export function isProtectedPattern (url: string | undefined): boolean {
  return url !== undefined && url.startsWith(PROTECTED_PREFIX)
}

/** True when the route this request matched is tenant work. */
export function isProtectedRoute (request: FastifyRequest): boolean {
  return isProtectedPattern(request.routeOptions.url)
}
