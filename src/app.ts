/**
 * buildApp(config): the whole gateway as a Fastify instance, assembled as an ordered list of
 * registrations (no listen, no process handling; server.ts does that). The picture:
 *
 *   client ──HTTP──> routes/ ──> realtime/ (batching/, the micro-batcher) ──> sagemaker/ runtime (InvokeEndpoint)
 *                           └──> bucket services: jobs/, openai/ files and batches ──> sagemaker/ control plane + S3 (Batch Transform)
 *                           └──> scoring/ (evaluation/, ROUGE)
 *                           └──> endpoints/ (deploy, scale, tear down, usage and cost; plugins/usage writes the reports)
 *   (each service is decorated on the app by its plugin in plugins/)
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import { deriveSettings, type Settings } from './settings.js'
import { catalogError } from './errors.js'
import type { InvokeFn } from './batching/batcher.js'
import { createControlClient, createRuntimeClient, createS3Client, type AwsTarget } from './sagemaker/clients.js'
import { createInvoker } from './sagemaker/runtime.js'
import { serializeError } from './util/redact-aws.js'
import { isProtectedRoute } from './http/access.js'
import { bodyBudgetPlugin } from './http/body-budget.js'
import { loadSheddingPlugin } from './http/load-shedding.js'
import { drainPlugin, SHUTTING_DOWN_RETRY_AFTER_S } from './http/drain.js'
import { installErrorHandlers } from './http/errors.js'
import { lingerAfterEarlyAnswers } from './http/lingering-close.js'
import { QuietRequestLog } from './http/request-log.js'
import { useDepthCheckedJsonParser } from './http/json-body.js'
import { registerOpenApi } from './http/openapi.js'
import { sendRequestIds } from './http/request-id.js'
import { validatorCompiler } from './util/validation.js'
import { securityPlugin } from './plugins/security.js'
import { metricsPlugin } from './plugins/metrics.js'
import { scoringPlugin } from './plugins/scoring.js'
import { realtimePlugin } from './plugins/realtime.js'
import { bucketServicesPlugin } from './plugins/bucket-services.js'
import { endpointsPlugin } from './plugins/endpoints.js'
import { UsageArchive } from './endpoints/archive.js'
import { usagePlugin } from './plugins/usage.js'
import { InvocationLedger } from './endpoints/invocations.js'
import { TenantCalls } from './endpoints/tenant-calls.js'
import { ErrorResponse, OpenAiErrorResponse } from '../schemas/errors.js'
import opsRoutes from '../routes/ops.js'
import summarizeRoutes from '../routes/summarize.js'
import generateRoutes from '../routes/generate.js'
import evaluateRoutes from '../routes/evaluate.js'
import datasetsRoutes from '../routes/datasets.js'
import transformJobsRoutes from '../routes/transform-jobs.js'
import endpointsRoutes from '../routes/endpoints.js'
import usageRoutes from '../routes/usage.js'
import openAiCompletionsRoutes from '../routes/openai-completions.js'
import openAiModelsRoutes from '../routes/openai-models.js'
import openAiFilesRoutes from '../routes/openai-files.js'
import openAiBatchesRoutes from '../routes/openai-batches.js'

/** Where the app is in its life: /ready answers 200 only in `ready`. */
export interface Lifecycle {
  state: 'starting' | 'ready' | 'draining'
  mode: 'local' | 'aws'
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    /** What buildApp derived from `config` once: key ring, prices, mode, batcher options, body limits. */
    settings: Settings
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
      // every logged error, from any component: redacted, no SDK internals
      err: serializeError,
      // the path only: a query string can carry a prompt (POST /v1/datasets?prompt=...)
      req: (req: { method: string, url: string, ip?: string, id?: string }) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip })
    },
    ...(stream !== undefined ? { stream } : {})
  }
}

/** Builds the whole gateway as a Fastify instance; no listen, no process handling. */
export async function buildApp (config: Config, options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    // per-request lines at debug, refusals and failures at info and above (http/request-log.ts)
    logController: new QuietRequestLog(),
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

  // 1. what every route shares: config, life cycle, validation, parsing, errors, the document
  app.decorate('config', config)
  const settings = deriveSettings(config)
  app.decorate('settings', settings)
  app.decorate('lifecycle', { state: 'starting', mode: settings.mode } satisfies Lifecycle)
  // first of all hooks: every answer carries it, refusals by the hooks below included
  sendRequestIds(app)
  app.setValidatorCompiler(validatorCompiler)
  // JSON only: a text/plain body would otherwise reach validation as a string
  app.removeContentTypeParser('text/plain')
  useDepthCheckedJsonParser(app)
  lingerAfterEarlyAnswers(app)
  app.addSchema(ErrorResponse)
  app.addSchema(OpenAiErrorResponse)

  installErrorHandlers(app)
  await registerOpenApi(app)
  await app.register(drainPlugin, { config })

  // 2. who gets in and how much (before any service, so every route is guarded)
  await app.register(securityPlugin, { config })
  await app.register(bodyBudgetPlugin, { config })
  await app.register(loadSheddingPlugin, { config })
  // 3. the services the routes use, each a plugin that decorates the app and closes on onClose
  await app.register(metricsPlugin)
  await app.register(scoringPlugin, { config })
  // the S3 and control-plane clients of the bucket services and the endpoints service; destroyed after
  // every service plugin's own onClose writes (onClose hooks run in reverse order of registration,
  // so this one, added before the services, runs after theirs)
  const clients = { bucket: options.aws.bucket ?? config.S3_BUCKET, s3: createS3Client(options.aws), control: createControlClient(options.aws) }
  app.addHook('onClose', async () => {
    clients.s3.destroy()
    clients.control.destroy()
  })
  // count what each endpoint is sent (endpoints plugin: idle tear-down, usage) and each tenant's calls (usage plugin)
  const invocations = new InvocationLedger()
  const calls = new TenantCalls(clients.bucket === undefined ? undefined : { s3: clients.s3, bucket: clients.bucket, prefix: config.S3_PREFIX })
  // one runtime client, its socket pool unbounded: the batchers bound what is in flight (the list
  // batcher MAX_CONCURRENT_INVOCATIONS, each single-input endpoint its own bound), and a pool
  // bound below their sum would make one endpoint's long streams hold up another's invocations
  // (all go to the same host), which then time out waiting for a socket
  const runtime = createRuntimeClient(options.aws, Number.POSITIVE_INFINITY)
  await app.register(realtimePlugin, {
    calls,
    invokerFor: (contract) => invocations.wrap(createInvoker(runtime, contract)),
    ...(options.invoke !== undefined ? { listInvoke: invocations.wrap(options.invoke) } : {})
  })
  // deleted endpoints' usage: written by the endpoints service, read by the usage report
  const archive = clients.bucket === undefined ? undefined : new UsageArchive(clients.s3, clients.bucket, config.S3_PREFIX)
  await app.register(endpointsPlugin, { config, control: clients.control, s3: clients.s3, region: options.aws.region, archive, invocations })
  await app.register(bucketServicesPlugin, { config, ...clients })
  await app.register(usagePlugin, { bucket: clients.bucket, archive, calls })

  // 4. the routes, one file per resource
  await app.register(opsRoutes)
  await app.register(summarizeRoutes)
  await app.register(generateRoutes)
  await app.register(evaluateRoutes)
  await app.register(datasetsRoutes)
  await app.register(transformJobsRoutes)
  await app.register(endpointsRoutes)
  await app.register(usageRoutes)
  await app.register(openAiCompletionsRoutes)
  await app.register(openAiModelsRoutes)
  await app.register(openAiFilesRoutes)
  await app.register(openAiBatchesRoutes)

  // 5. life-cycle hooks: Server-Timing, draining, ready
  // time inside the gateway, from the first byte read to the reply (ms): lets clients tell
  // our latency from the network's, and the burst test measure refusals honestly
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`)
    done(null, payload)
  })
  app.addHook('onRequest', (request, _reply, done) => {
    if (app.lifecycle.state === 'draining' && isProtectedRoute(request)) {
      done(catalogError('SHUTTING_DOWN', 'the gateway is shutting down; retry against another instance', { retryAfterSeconds: SHUTTING_DOWN_RETRY_AFTER_S }))
      return
    }
    done()
  })
  app.addHook('onReady', async () => { app.lifecycle.state = 'ready' })
  // drain before the listener closes (http/drain.ts): new requests are answered 503 meanwhile,
  // and what is still running at the drain deadline is answered 503 by its owner
  app.addHook('preClose', async () => {
    app.lifecycle.state = 'draining'
    // the batcher stops intake and flushes what is queued at once
    const batcher = app.realtime.drain()
    if (!await app.shutdown.settle()) app.log.warn({ inFlight: app.shutdown.inFlight }, 'drain deadline passed: work still running was answered 503 SHUTTING_DOWN')
    await batcher
  })
  return app
}
