import fp from 'fastify-plugin'
import type { FlushEvent, InvokeFn } from '../batching/batcher.js'
import { SHUTTING_DOWN_RETRY_AFTER_S } from '../http/drain.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'
import { Batchers } from '../realtime/batchers.js'
import { createRealtime, type Realtime } from '../realtime/realtime.js'
import { jumpstartList } from '../sagemaker/contracts/jumpstart-list.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime
  }
}

export interface RealtimePluginOptions {
  /** The invoker for an endpoint of `contract` (the SDK's, see sagemaker/runtime.ts, counted by the ledger). */
  invokerFor: (contract: ContainerContract) => InvokeFn
  /** Replaces the list batcher's invoker (only the overhead benchmark sets it). */
  listInvoke?: InvokeFn
  calls?: TenantCalls
}

/**
 * Decorates `app.realtime`, the service of src/realtime/: builds its batchers from the settings
 * (the list one now, one per endpoint of another contract on first use) and wires every
 * batcher's flushes to metrics and the flush log line, the drain deadline to abort.
 * Needs `app.metrics`, `app.settings` and the invokers.
 */
export const realtimePlugin = fp<RealtimePluginOptions>(async (app, { invokerFor, listInvoke, calls }) => {
  const metrics = app.metrics
  const log = app.log.child({ component: 'batcher' })
  const onFlush = (event: FlushEvent): void => {
    metrics.batchSize.observe(event.items)
    metrics.invocations.inc({ outcome: event.outcome })
    metrics.invocationSeconds.observe({ outcome: event.outcome }, event.latencyMs / 1000)
    // one line per flush, never per item, and never the texts
    log.info({ batchId: event.batchId, endpoint: event.endpoint, items: event.items, bytes: event.bytes, attempt: event.attempt, latencyMs: Math.round(event.latencyMs), outcome: event.outcome, bisected: event.bisected }, 'flush')
  }
  const batchers = new Batchers({
    settings: app.settings.batcher,
    listInvoke: listInvoke ?? invokerFor(jumpstartList),
    invokerFor,
    maxConcurrentPerEndpoint: app.config.REALTIME_MAX_CONCURRENT_PER_ENDPOINT,
    wiring: { onFlush }
  })
  metrics.sources.queueDepth = () => batchers.depth
  metrics.sources.inFlight = () => batchers.inFlight

  const realtime = createRealtime({
    batchers,
    calls,
    onItem: (outcome) => { metrics.items.inc({ outcome }) },
    shutdownRetryAfterS: SHUTTING_DOWN_RETRY_AFTER_S
  })
  app.decorate('realtime', realtime)
  // at the drain deadline what is queued or in flight is answered SHUTTING_DOWN (http/drain.ts)
  app.shutdown.deadline.addEventListener('abort', () => { batchers.abort() }, { once: true })
}, { name: 'realtime', dependencies: ['metrics', 'drain'] })
