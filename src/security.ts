import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyRequest } from 'fastify'
import { apiKeys, type Config } from './config.js'
import { catalogError } from './errors.js'

/** Only these paths need a key; probes, metrics and the docs stay open. */
const PROTECTED = /^\/v1\//

// keys compare as SHA-256 digests: equal length always, so timingSafeEqual never throws and
// the comparison leaks neither the key nor its length
const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

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

/** True when `token` equals one of the keys; every key is compared (constant time overall). */
export function keyMatches (token: string, keyDigests: readonly Buffer[]): boolean {
  const candidate = digest(token)
  let found = false
  for (const key of keyDigests) found = timingSafeEqual(candidate, key) || found
  return found
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Short, non-reversible id of the caller's key (rate limiting, logs); undefined without auth. */
    keyId?: string
  }
}

/**
 * Who gets in and how much: API keys on /v1, per-key rate limits, load shedding on event-loop
 * delay and memory, security headers.
 */
export const securityPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const keyDigests = apiKeys(config).map(digest)

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

  if (keyDigests.length > 0) {
    app.addHook('onRequest', async (request, reply) => {
      if (!PROTECTED.test(request.url)) return
      const token = bearer(request)
      if (token === undefined || !keyMatches(token, keyDigests)) {
        void reply.header('www-authenticate', 'Bearer')
        throw catalogError('UNAUTHORIZED', token === undefined
          ? 'missing API key: send Authorization: Bearer <key>'
          : 'API key not recognised')
      }
      request.keyId = digest(token).subarray(0, 6).toString('hex')
    })
  }

  if (config.RATE_LIMIT_MAX !== undefined) {
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: config.RATE_LIMIT_MAX,
      timeWindow: 60_000,
      // per key when auth is on, else per client address; probes and docs are never limited
      keyGenerator: (request) => request.keyId ?? request.ip,
      allowList: (request) => !PROTECTED.test(request.url),
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
        return catalogError('RATE_LIMITED', `rate limit of ${context.max} requests per minute exceeded; retry in ${seconds} s`, { retryAfterSeconds: seconds })
      }
    })
  }

  await app.register(underPressure, {
    maxEventLoopDelay: config.SHED_EVENT_LOOP_DELAY_MS,
    maxRssBytes: config.SHED_RSS_BYTES,
    maxHeapUsedBytes: config.SHED_HEAP_USED_BYTES,
    // async: under-pressure passes a rejected promise on to the error handler
    pressureHandler: async (request, _reply, type, value) => {
      // probes and metrics must answer under load; only work is shed
      if (!PROTECTED.test(request.url)) return
      request.log.warn({ type, value }, 'shedding load')
      throw catalogError('ENDPOINT_UNAVAILABLE', `the gateway is overloaded (${type}); retry shortly`, { retryAfterSeconds: 5 })
    }
  })
}, { name: 'security' })
