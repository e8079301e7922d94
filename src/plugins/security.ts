import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { catalogError } from '../errors.js'
import { isProtectedRoute } from '../http/access.js'
import { MemoryWindowCounter, RedisWindowCounter, type WindowCounter } from '../http/window-counter.js'
import { DEFAULT_TENANT, type Tenant } from '../tenants.js'

/** The window of RATE_LIMIT_MAX and AUTH_FAILURES_MAX (ms). */
const LIMIT_WINDOW_MS = 60_000
/** ms a gateway waits for REDIS_URL to answer at boot before refusing to start. */
const REDIS_CONNECT_TIMEOUT_MS = 5_000
/** Key prefixes in Redis (one database may serve several gateways' other data). */
const REDIS_NAMESPACE = 't2t:'

/** The bearer token of a request, or undefined. */
function bearer (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/** The headers helmet sets with these options, captured once from its middleware. */
export function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value) },
    removeHeader (name: string) { Reflect.deleteProperty(headers, name.toLowerCase()) }
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, () => {})
  return headers
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling a /v1 route (the only tenant when auth is off); null on open routes. */
    tenant: Tenant | null
  }
}

/** The caller of a /v1 route; throws when called from a route the security plugin does not guard. */
export function tenantOf (request: FastifyRequest): Tenant {
  if (request.tenant === null) throw new Error(`no tenant on ${request.routeOptions.url ?? 'an unmatched route'}: it is not a /v1 route`)
  return request.tenant
}

/** Connects to REDIS_URL or stops the boot naming it (a limit that silently went per-process would be a lie). */
async function connectRedis (url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: REDIS_CONNECT_TIMEOUT_MS })
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`invalid configuration: REDIS_URL: cannot connect (${(err as Error).message})`)
  }
  return redis
}

/**
 * Who gets in and how much: API keys (tenants) on /v1 routes, failed-authentication limits per
 * address, per-tenant rate limits (shared through Redis with REDIS_URL), security headers
 * (load shedding is http/load-shedding.ts). What is a /v1 route is decided on the route
 * the router matched (http/access.ts).
 */
export const securityPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const keys = app.settings.keyring
  const redis = config.REDIS_URL === undefined ? undefined : await connectRedis(config.REDIS_URL)
  if (redis !== undefined) app.addHook('onClose', async () => { await redis.quit().catch(() => redis.disconnect()) })
  app.decorateRequest('tenant', null)

  // helmet's headers are the same for every response, so they are computed once here and
  // set in one step per request (running helmet's middleware chain per request cost ~20% of
  // the gateway's throughput in the overhead benchmark)
  const securityHeaders = helmetHeaders({
    // the Swagger UI page sets its own CSP for its static assets (staticCSP)
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false
  })
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(securityHeaders)
    done()
  })

  if (!keys.enabled) {
    app.addHook('onRequest', (request, _reply, done) => {
      if (isProtectedRoute(request)) request.tenant = DEFAULT_TENANT
      done()
    })
  } else {
    // failures are counted per client address, never per key: a guesser is slowed down
    // without locking the key's owner (at another address) out
    const failures: WindowCounter | undefined = config.AUTH_FAILURES_MAX === 0
      ? undefined
      : redis !== undefined ? new RedisWindowCounter(redis, LIMIT_WINDOW_MS, REDIS_NAMESPACE + 'auth-failures:') : new MemoryWindowCounter(LIMIT_WINDOW_MS)
    if (failures instanceof MemoryWindowCounter) app.addHook('onClose', async () => { failures.close() })
    const tooManyFailures = (ttlMs: number): Error => {
      const seconds = Math.max(1, Math.ceil(ttlMs / 1000))
      return catalogError('RATE_LIMITED', `too many failed authentications from this address (limit ${config.AUTH_FAILURES_MAX} per minute, AUTH_FAILURES_MAX); retry in ${seconds} s`, { retryAfterSeconds: seconds })
    }
    app.addHook('onRequest', async (request, reply) => {
      if (!isProtectedRoute(request)) return
      // over the limit, no key is even compared: an address that guesses learns nothing more
      if (failures !== undefined) {
        const state = await failures.peek(request.ip)
        if (state.count >= config.AUTH_FAILURES_MAX) throw tooManyFailures(state.ttlMs)
      }
      const token = bearer(request)
      const tenant = token === undefined ? undefined : keys.identify(token)
      if (tenant === undefined) {
        if (failures !== undefined) await failures.hit(request.ip)
        void reply.header('www-authenticate', 'Bearer')
        throw catalogError('UNAUTHORIZED', token === undefined
          ? 'missing API key: send Authorization: Bearer <key>'
          : 'API key not recognised')
      }
      request.tenant = tenant
    })
  }

  if (config.RATE_LIMIT_MAX !== undefined) {
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: config.RATE_LIMIT_MAX,
      timeWindow: LIMIT_WINDOW_MS,
      // shared by every replica, and kept across restarts, when REDIS_URL is set
      ...(redis !== undefined ? { redis, nameSpace: REDIS_NAMESPACE + 'rate-limit:' } : {}),
      // per tenant when auth is on (a tenant's keys share one budget), else per client
      // address; probes and docs are never limited
      keyGenerator: (request) => keys.enabled && request.tenant !== null ? `tenant:${request.tenant.id}` : `ip:${request.ip}`,
      allowList: (request) => !isProtectedRoute(request),
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
        return catalogError('RATE_LIMITED', `rate limit of ${context.max} requests per minute exceeded; retry in ${seconds} s`, { retryAfterSeconds: seconds })
      }
    })
  }
}, { name: 'security' })
