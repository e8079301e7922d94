import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { Endpoint, Usage } from '../../schemas/endpoints.js'
import type { Config } from '../config.js'
import type { UsageArchive } from '../endpoints/archive.js'
import type { InvocationLedger } from '../endpoints/invocations.js'
import { Endpoints } from '../endpoints/service.js'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import type { S3Client } from '@aws-sdk/client-s3'
import { JumpStartCatalog } from '../jumpstart/catalog.js'
import type { Tenant } from '../tenants.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Endpoints as a resource, real-time model resolution and idle tear-down. */
    endpoints: Endpoints
  }
}

export interface EndpointsPluginOptions {
  config: Config
  /** The control-plane client the service uses (built and destroyed by app.ts). */
  control: SageMakerClient
  /** The S3 client JumpStart's catalog is read with (app.ts), and the region whose catalog it is. */
  s3: S3Client
  region: string
  /** Where a deleted endpoint's usage is kept (app.ts; none without a bucket). */
  archive: UsageArchive | undefined
  /** The ledger the realtime invoker was wrapped with (app.ts). */
  invocations: InvocationLedger
  /** Clock of the service and its sweeper (tests pin it). */
  now?: () => number
}

/**
 * Decorates `app.endpoints`, registers the endpoint counters and gauges (the
 * gauges follow every listing), starts the idle sweeper (endpoints/sweeper.ts) every
 * ENDPOINT_SWEEP_INTERVAL_MS once ready and stops it on close. Needs `app.metrics`.
 */
export const endpointsPlugin = fp<EndpointsPluginOptions>(async (app, { config, control, s3, region, archive, invocations, now = Date.now }) => {
  app.addSchema(Usage)
  app.addSchema(Endpoint)
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
  const gauges = (list: readonly Endpoint[]): void => {
    for (const e of list) {
      if (!e.managed) continue
      instanceSeconds.set({ endpoint: e.name }, e.usage.instanceSeconds)
      if (e.usage.estimatedCostUsd !== null) costUsd.set({ endpoint: e.name }, e.usage.estimatedCostUsd)
    }
  }

  const endpoints = new Endpoints({
    control,
    prices: app.settings.prices,
    staticNames: app.settings.endpointNames,
    endpointContracts: app.settings.endpointContracts,
    ...(config.SAGEMAKER_MODEL_NAME !== undefined ? { staticModel: config.SAGEMAKER_MODEL_NAME } : {}),
    invocations,
    log: app.log.child({ component: 'endpoints' }),
    cacheMs: config.ENDPOINT_CACHE_MS,
    now,
    onIdleDelete: () => { idleDeleted.inc() },
    onList: gauges,
    ...(archive !== undefined ? { archive } : {}),
    instances: app.settings.instances,
    jumpstart: new JumpStartCatalog({ s3, region })
  })
  const admin: Tenant = { id: 'sweeper', admin: true }

  app.decorate('endpoints', endpoints)
  if (config.ENDPOINT_SWEEP_INTERVAL_MS > 0) {
    // after each sweep, a listing refreshes the gauges
    app.addHook('onReady', async () => { endpoints.sweeper.start(config.ENDPOINT_SWEEP_INTERVAL_MS, async () => { await endpoints.list(admin) }) })
  }
  // no sweep starts once closing has begun (a sweep deletes endpoints; onClose hooks run late)
  app.addHook('preClose', async () => { await endpoints.sweeper.stop() })
  app.addHook('onClose', async () => {
    // what this replica sent since its last write goes to the tags before it exits
    await endpoints.activity.writeAllCounts(invocations.names())
  })
}, { name: 'endpoints', dependencies: ['metrics'] })
