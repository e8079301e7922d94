import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { Endpoint, Usage } from '../../schemas/endpoints.js'
import { isLocalMode, LOCAL_MODEL_NAME, type Config } from '../config.js'
import { UsageArchive } from '../endpoints/archive.js'
import type { InvocationLedger } from '../endpoints/invocations.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'
import type { PriceTable } from '../endpoints/prices.js'
import { usageReport } from '../endpoints/report.js'
import { Endpoints } from '../endpoints/service.js'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Tenant } from '../tenants.js'
import type { UsageReport } from '../../schemas/endpoints.js'
import type { TransformJob } from '../../schemas/jobs.js'

/** ms between two writes of the tenants' calls to S3 by one replica. */
const TENANT_CALLS_FLUSH_MS = 60_000

declare module 'fastify' {
  interface FastifyInstance {
    /** Endpoints as a resource, real-time model resolution and idle tear-down. */
    endpoints: Endpoints
    /** GET /v1/usage for a tenant. */
    usage: (tenant: Tenant, query: { from?: string, to?: string }) => Promise<UsageReport>
    prices: PriceTable
  }
}

export interface EndpointsPluginOptions {
  config: Config
  /** The local stack's bucket in local mode, else S3_BUCKET; none = no usage archive, no job usage. */
  bucket: string | undefined
  /** The SDK clients the service uses (built and destroyed by app.ts). */
  s3: S3Client
  control: SageMakerClient
  /** The ledger the realtime invoker was wrapped with (app.ts). */
  invocations: InvocationLedger
  /** Each tenant's real-time calls, counted by the realtime plugin (app.ts); written to S3 here. */
  calls?: TenantCalls
  /** Clock of the service and its sweeper (tests pin it). */
  now?: () => number
}

/**
 * Decorates `app.endpoints` and `app.usage`, registers the endpoint and usage counters, and runs
 * the idle sweeper every ENDPOINT_SWEEP_INTERVAL_MS (unref'd: it never holds the process open;
 * stopped on close). Needs `app.metrics` and, for job usage and archived endpoints, `app.batchJobs`.
 */
export const endpointsPlugin = fp<EndpointsPluginOptions>(async (app, { config, bucket, s3, control, invocations, calls: tenantCalls, now = Date.now }) => {
  app.addSchema(Usage)
  app.addSchema(Endpoint)
  const prices = app.settings.prices
  const registry = app.metrics.registry
  const calls = new Counter({ name: 't2t_endpoint_invocations_total', help: 'Successful endpoint invocations by endpoint.', labelNames: ['endpoint'], registers: [registry] })
  const items = new Counter({ name: 't2t_endpoint_items_total', help: 'Inputs carried by successful endpoint invocations, by endpoint.', labelNames: ['endpoint'], registers: [registry] })
  const saved = new Counter({ name: 't2t_endpoint_invocations_saved_total', help: 'Invocations micro-batching saved (items - invocations), by endpoint.', labelNames: ['endpoint'], registers: [registry] })
  const idleDeleted = new Counter({ name: 't2t_endpoints_idle_deleted_total', help: 'Endpoints this replica deleted after idleDeleteAfterMinutes without an invocation.', registers: [registry] })
  const instanceSeconds = new Gauge({ name: 't2t_endpoint_instance_seconds', help: 'Instance-seconds of each managed endpoint so far (as of the last sweep or listing).', labelNames: ['endpoint'], registers: [registry] })
  const costUsd = new Gauge({ name: 't2t_endpoint_estimated_cost_usd', help: 'ESTIMATED cost of each managed endpoint so far (price table x instance-seconds; not a bill).', labelNames: ['endpoint'], registers: [registry] })
  invocations.onInvocation((endpoint, n) => {
    calls.inc({ endpoint })
    items.inc({ endpoint }, n)
    saved.inc({ endpoint }, n - 1)
  })

  const archive = bucket === undefined ? undefined : new UsageArchive(s3, bucket, config.S3_PREFIX)
  const endpoints = new Endpoints({
    control,
    prices,
    staticNames: app.settings.endpointNames,
    builtIn: isLocalMode(config) ? [LOCAL_MODEL_NAME] : [],
    ...(config.SAGEMAKER_MODEL_NAME !== undefined ? { staticModel: config.SAGEMAKER_MODEL_NAME } : {}),
    invocations,
    log: app.log.child({ component: 'endpoints' }),
    cacheMs: config.ENDPOINT_CACHE_MS,
    now,
    onIdleDelete: () => { idleDeleted.inc() },
    ...(archive !== undefined ? { archive } : {}),
    instances: app.settings.instances
  })
  const gauges = (list: Array<{ name: string, managed: boolean, usage: { instanceSeconds: number, estimatedCostUsd: number | null } }>): void => {
    for (const e of list) {
      if (!e.managed) continue
      instanceSeconds.set({ endpoint: e.name }, e.usage.instanceSeconds)
      if (e.usage.estimatedCostUsd !== null) costUsd.set({ endpoint: e.name }, e.usage.estimatedCostUsd)
    }
  }
  const admin: Tenant = { id: 'usage', admin: true }

  app.decorate('prices', prices)
  app.decorate('endpoints', endpoints)
  app.decorate('usage', async (tenant: Tenant, query: { from?: string, to?: string }) => {
    const batch = bucket === undefined ? undefined : app.batchJobs()
    return await usageReport({
      prices,
      now,
      endpoints: async (t) => {
        const list = await endpoints.list(t)
        gauges(list)
        return list
      },
      // JobList's jobs are TransformJob references, which Static<> types as unknown
      ...(batch !== undefined ? { jobs: async (t, nextToken) => await batch.jobs.list(t, { limit: 100, ...(nextToken !== undefined ? { nextToken } : {}) }) as { jobs: TransformJob[], nextToken?: string } } : {}),
      ...(archive !== undefined ? { archived: async () => await archive.all() } : {}),
      ...(tenantCalls !== undefined ? { calls: async (t, fromMs, toMs) => await tenantCalls.lines(t, fromMs, toMs) } : {})
    }, tenant, query)
  })

  let timer: NodeJS.Timeout | undefined
  let sweeping: Promise<void> | undefined
  const sweep = async (): Promise<void> => {
    try {
      await endpoints.sweep()
      gauges(await endpoints.list(admin))
    } catch (err) {
      app.log.warn({ err }, 'endpoint sweep failed; the next one retries')
    }
  }
  // each tenant's calls reach S3 once a minute (and on close), so every replica's report has them
  const callsTimer = tenantCalls === undefined
    ? undefined
    : setInterval(() => { tenantCalls.flush().catch((err: unknown) => { app.log.warn({ err }, 'could not record tenants\' calls; the next flush retries') }) }, TENANT_CALLS_FLUSH_MS)
  callsTimer?.unref()
  if (config.ENDPOINT_SWEEP_INTERVAL_MS > 0) {
    app.addHook('onReady', async () => {
      timer = setInterval(() => {
        if (sweeping !== undefined) return
        sweeping = sweep().finally(() => { sweeping = undefined })
      }, config.ENDPOINT_SWEEP_INTERVAL_MS)
      timer.unref()
    })
  }
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer)
    if (callsTimer !== undefined) clearInterval(callsTimer)
    await tenantCalls?.flush().catch((err: unknown) => { app.log.warn({ err }, 'could not record tenants\' calls on close') })
    await sweeping
    // what this replica sent since its last write goes to the tags before it exits
    await endpoints.flushAll(invocations.names())
  })
}, { name: 'endpoints', dependencies: ['metrics', 'batch-jobs'] })
