import fp from 'fastify-plugin'
import { MicroBatcher, type FlushEvent, type InvokeFn } from '../batching/batcher.js'
import { SHUTTING_DOWN_RETRY_AFTER_S } from '../http/drain.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'
import { createRealtime, type Realtime } from '../realtime/realtime.js'

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime
  }
}

/**
 * Decorates `app.realtime`, the service of src/realtime/: builds its batcher from the settings
 * and wires the batcher's flushes to metrics and the flush log line, the drain deadline to abort.
 * Needs `app.metrics`, `app.settings` and the invoker (the SDK's, see sagemaker/runtime.ts).
 */
export const realtimePlugin = fp<{ invoke: InvokeFn, calls?: TenantCalls }>(async (app, { invoke, calls }) => {
  const metrics = app.metrics
  const log = app.log.child({ component: 'batcher' })
  const batcher = new MicroBatcher({
    ...app.settings.batcher,
    invoke,
    onFlush: (event: FlushEvent) => {
      metrics.batchSize.observe(event.items)
      metrics.invocations.inc({ outcome: event.outcome })
      metrics.invocationSeconds.observe({ outcome: event.outcome }, event.latencyMs / 1000)
      // one line per flush, never per item, and never the texts
      log.info({ batchId: event.batchId, endpoint: event.endpoint, items: event.items, bytes: event.bytes, attempt: event.attempt, latencyMs: Math.round(event.latencyMs), outcome: event.outcome, bisected: event.bisected }, 'flush')
    }
  })
  metrics.sources.queueDepth = () => batcher.depth
  metrics.sources.inFlight = () => batcher.inFlight

  const realtime = createRealtime({
    batcher,
    calls,
    onItem: (outcome) => { metrics.items.inc({ outcome }) },
    shutdownRetryAfterS: SHUTTING_DOWN_RETRY_AFTER_S
  })
  app.decorate('realtime', realtime)
  // at the drain deadline what is queued or in flight is answered SHUTTING_DOWN (http/drain.ts)
  app.shutdown.deadline.addEventListener('abort', () => { batcher.abort() }, { once: true })
}, { name: 'realtime', dependencies: ['metrics', 'drain'] })
