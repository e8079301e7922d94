import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { ErrorObject } from 'ajv'
import type { DestinationStream } from 'pino'
import { type Config, isLocalMode } from './config.js'
import { catalogError, isCatalogError, type CatalogError } from './errors.js'
import { metricsPlugin } from './metrics.js'
import { securityPlugin } from './security.js'
import { isProtectedRoute } from './http/access.js'
import { scoringPlugin } from './scoring.js'
import { realtimePlugin } from './realtime.js'
import type { InvokeFn } from './batching/batcher.js'
import { createRuntimeClient, type AwsTarget } from './sagemaker/clients.js'
import { createInvoker } from './sagemaker/runtime.js'
import { describeValidation, validatorCompiler } from './validation.js'
import { ErrorResponse } from '../schemas/errors.js'
import { GENERATION_PARAMETER_NAMES } from '../schemas/params.js'
import opsRoutes from '../routes/ops.js'
import summarizeRoutes from '../routes/summarize.js'
import generateRoutes from '../routes/generate.js'
import evaluateRoutes from '../routes/evaluate.js'
import datasetsRoutes from '../routes/datasets.js'
import transformJobsRoutes from '../routes/transform-jobs.js'
import { jobsPlugin } from './jobs-plugin.js'
import { endpointsPlugin } from './plugins/endpoints.js'
import { InvocationLedger } from './endpoints/invocations.js'
import endpointsRoutes from '../routes/endpoints.js'
import usageRoutes from '../routes/usage.js'

/** Where the app is in its life: /ready answers 200 only in `ready`. */
export interface Lifecycle {
  state: 'starting' | 'ready' | 'draining'
  mode: 'local' | 'aws'
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    lifecycle: Lifecycle
  }
}

export interface BuildOptions {
  /** Where the AWS SDK clients point (the local stack in local mode). */
  aws: AwsTarget
  /** Log destination (tests capture it); default stdout. */
  logStream?: DestinationStream
  /**
   * Sends payloads instead of the AWS SDK invoker. Only the overhead benchmark sets it, to
   * measure the SDK's share of the gateway's cost against a bare HTTP POST.
   */
  invoke?: InvokeFn
}

/** Never logged: credentials, keys and what callers wrote. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie',
  'headers.authorization', 'authorization', 'apiKey', 'credentials', 'accessKeyId', 'secretAccessKey', 'sessionToken',
  'body', 'text', 'prompt', 'text_inputs', 'summary', 'generated_texts'
]

function loggerOptions (config: Config, stream: DestinationStream | undefined): FastifyServerOptions['logger'] {
  if (config.LOG_LEVEL === 'silent' && stream === undefined) return false
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // the path only: a query string can carry a prompt (POST /v1/datasets?prompt=...)
      req: (req: { method: string, url: string, ip?: string, id?: string }) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip })
    },
    ...(stream !== undefined ? { stream } : {})
  }
}

/**
 * 400 code for a validation failure: generation-parameter problems get their own code —
 * a bad value under a parameter name, or an unknown key where parameters are accepted.
 */
function validationCode (errors: ErrorObject[]): 'INVALID_PARAMETERS' | 'INVALID_REQUEST' {
  const touchesParams = errors.some(e => {
    const first = e.instancePath.split('/')[1] ?? ''
    if (first === 'parameters' || GENERATION_PARAMETER_NAMES.includes(first)) return true
    const siblings = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}
    return e.keyword === 'additionalProperties' && 'max_length' in siblings
  })
  return touchesParams ? 'INVALID_PARAMETERS' : 'INVALID_REQUEST'
}

/** Maps whatever was thrown to a catalog error; unknown errors become a bare 500. */
export function toClientError (err: FastifyError, data: unknown): CatalogError {
  if (isCatalogError(err)) return err
  if (err.validation !== undefined) {
    const errors = err.validation as ErrorObject[]
    const { message } = describeValidation(errors, err.validationContext ?? 'body', data)
    return catalogError(validationCode(errors), message, { cause: err })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return catalogError('BODY_TOO_LARGE', `request body is larger than this route accepts: ${err.message}`, { cause: err })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return catalogError('UNSUPPORTED_MEDIA_TYPE', `${err.message}; send application/json`, { cause: err })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return catalogError('INVALID_JSON', 'body is empty; send a JSON object', { cause: err })
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return catalogError('INVALID_JSON', `body is not valid JSON: ${err.message}`, { cause: err })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return catalogError('INVALID_REQUEST', err.message, { cause: err })
  }
  if (err instanceof SyntaxError) return catalogError('INVALID_JSON', `body is not valid JSON: ${err.message}`, { cause: err })
  if (err.statusCode === 429) return catalogError('RATE_LIMITED', err.message, { cause: err })
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return catalogError('INVALID_REQUEST', err.message, { cause: err })
  return catalogError('INTERNAL_ERROR', 'internal error', { cause: err })
}

/** Builds the whole gateway as a Fastify instance; no listen, no process handling. */
export async function buildApp (config: Config, options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: 1024 * 1024,
    // no cap on a whole request: dataset uploads stream for as long as they take. Deadlines of
    // real-time work are the batcher's (REQUEST_TIMEOUT_MS); an idle socket is closed after
    // this (ms), which must outlast the longest wait for a real-time answer
    requestTimeout: 0,
    connectionTimeout: config.REQUEST_TIMEOUT_MS + 60_000,
    // while closing, our own hook answers with the catalog's SHUTTING_DOWN (Fastify's built-in
    // 503 body has no `code`, which clients branch on)
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    genReqId: () => crypto.randomUUID()
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  app.decorate('lifecycle', { state: 'starting', mode: isLocalMode(config) ? 'local' : 'aws' } satisfies Lifecycle)
  app.setValidatorCompiler(validatorCompiler)
  // JSON only: a text/plain body would otherwise reach validation as a string
  app.removeContentTypeParser('text/plain')
  app.addSchema(ErrorResponse)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const parts: Record<string, unknown> = { body: request.body, querystring: request.query, params: request.params, headers: request.headers }
    const data = parts[err.validationContext ?? 'body']
    const clientError = toClientError(err, data)
    if (clientError.statusCode >= 500) request.log.error({ err: clientError.cause ?? err, code: clientError.code }, 'request failed')
    else request.log.info({ code: clientError.code, statusCode: clientError.statusCode }, 'request rejected')
    if (clientError.retryAfterSeconds !== undefined) void reply.header('retry-after', String(clientError.retryAfterSeconds))
    const status = clientError.statusCode
    void reply.code(status).send({
      statusCode: status,
      code: clientError.code,
      error: httpReason(status),
      message: clientError.message
    })
  })
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` })
  })

  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, which TypeBox emits (numeric exclusiveMinimum,
      // `type: 'null'`, `examples` arrays); 3.0 would need every such schema rewritten
      openapi: '3.1.0',
      info: {
        title: 'text2text-gateway',
        version: '0.1.0',
        description: 'REST gateway in front of Amazon SageMaker JumpStart text2text (FLAN-T5) models: micro-batched real time, batch transform jobs and ROUGE evaluation.\n\n' +
          'Errors share one shape, `{"statusCode","code","error","message"}` (ErrorResponse); branch on `code`, which is stable. ' +
          '429 and most 503s carry Retry-After (seconds). /v1 operations need `Authorization: Bearer <key>` when the gateway runs with API_KEYS; probes, metrics and these docs never do.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
      },
      // relative: the document describes whichever host serves it
      servers: [{ url: '/', description: 'This gateway' }],
      tags: [
        { name: 'real-time', description: 'Micro-batched real-time inference' },
        { name: 'datasets', description: 'NDJSON datasets streamed to S3 for batch jobs' },
        { name: 'transform-jobs', description: 'SageMaker Batch Transform jobs: submit, poll, list, stop, results, evaluation' },
        { name: 'evaluation', description: "ROUGE identical to Google's rouge-score" },
        { name: 'endpoints', description: 'Real-time endpoints as a resource: deploy, list, scale, tear down (admins manage; everyone uses)' },
        { name: 'usage', description: 'Instance time and ESTIMATED cost of jobs and endpoints' },
        { name: 'operations', description: 'Probes and metrics; no API key needed' }
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS, as `Authorization: Bearer <key>` (only enforced when API_KEYS is set).' }
        }
      }
    },
    // names of shared schemas are their $id (ErrorResponse, TransformJob, ...): readable
    // component names for generated clients; addSchema requires an $id, so def-N never shows
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` },
    // a query key with a default may be left out (validation fills the default in): documented
    // as optional, or generated clients would insist on it (GET /v1/transform-jobs?limit=)
    transform: ({ schema, url }) => {
      const query = schema?.querystring as { properties?: Record<string, { default?: unknown }>, required?: string[] } | undefined
      if (query?.required === undefined) return { schema, url }
      const required = query.required.filter(key => query.properties?.[key]?.default === undefined)
      return { schema: { ...schema, querystring: { ...query, required } }, url }
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // every asset is bundled and served from /docs/static: the page works offline
    staticCSP: true,
    // The stock policy sends upgrade-insecure-requests, which on plain HTTP under any host name
    // but loopback (http://gateway:3000/docs in a container network) rewrites every asset URL to
    // https:// and leaves a blank page; it also allows remote fonts and styles (https:) and
    // validator.swagger.io, none of which the page uses. Only same-origin sources remain, plus
    // the hash of the one inline <style> Swagger UI renders (inside its topbar logo SVG).
    transformStaticCSP: (header) => header
      .split(';')
      .map(directive => directive.trim())
      .filter(directive => directive !== '' && directive !== 'upgrade-insecure-requests')
      .map(directive => {
        const [name = '', ...sources] = directive.split(/\s+/)
        const kept = sources.filter(source => source !== 'https:' && source !== 'validator.swagger.io')
        if (name === 'style-src') kept.push("'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='")
        return [name, ...kept].join(' ')
      })
      .join('; ') + ';',
    uiConfig: { deepLinking: true, displayOperationId: true, displayRequestDuration: true }
  })

  await app.register(securityPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(scoringPlugin, { config })
  // counts what each endpoint is sent, for usage and idle tear-down (endpoints plugin)
  const invocations = new InvocationLedger()
  await app.register(realtimePlugin, { config, invoke: invocations.wrap(options.invoke ?? createInvoker(createRuntimeClient(options.aws, config.MAX_CONCURRENT_INVOCATIONS))) })
  await app.register(jobsPlugin, { config, aws: options.aws })
  await app.register(endpointsPlugin, { config, aws: options.aws, invocations })

  await app.register(opsRoutes)
  await app.register(summarizeRoutes)
  await app.register(generateRoutes)
  await app.register(evaluateRoutes)
  await app.register(datasetsRoutes)
  await app.register(transformJobsRoutes)
  await app.register(endpointsRoutes)
  await app.register(usageRoutes)

  // time inside the gateway, from the first byte read to the reply (ms): lets clients tell
  // our latency from the network's, and the burst test measure refusals honestly
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`)
    done(null, payload)
  })
  app.addHook('onRequest', (request, _reply, done) => {
    if (app.lifecycle.state === 'draining' && isProtectedRoute(request)) {
      done(catalogError('SHUTTING_DOWN', 'the gateway is shutting down; retry against another instance', { retryAfterSeconds: 5 }))
      return
    }
    done()
  })
  app.addHook('onReady', async () => { app.lifecycle.state = 'ready' })
  // drain the batcher before the server's connections are torn down
  app.addHook('preClose', async () => {
    app.lifecycle.state = 'draining'
    await app.realtime.drain()
  })
  return app
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 429: 'Too Many Requests', 499: 'Client Closed Request', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'
}
function httpReason (status: number): string {
  return REASONS[status] ?? 'Error'
}
