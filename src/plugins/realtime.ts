import fp from 'fastify-plugin'
import { MicroBatcher, type CancelSignal, type FlushEvent, type InvokeFn } from '../batching/batcher.js'
import { RETRY_AFTER_FLOOR_MS } from '../batching/backoff.js'
import { BatcherError } from '../batching/errors.js'
import type { Params } from '../batching/payload.js'
import { catalogError, type CatalogError } from '../errors.js'
import { SHUTTING_DOWN_RETRY_AFTER_S } from '../http/drain.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'

/** One item's outcome: its sequences, or the catalog error it failed with. */
export type ItemOutcome = { ok: true, texts: string[] } | { ok: false, error: CatalogError }

/** What the routes use: real-time generation through the micro-batcher. */
export interface Realtime {
  /**
   * Runs each input through the batcher; settles once every item has an outcome. A list is
   * admitted whole or refused whole, never half-queued: one the queue has no room for rejects
   * with QUEUE_FULL; one `tenant` (the caller's key id, which gets its turn among tenants and its
   * own queue bound) has no room for settles with QUEUE_FULL for every item. A single input is
   * the batcher's to refuse.
   */
  run: (opts: { model: string, params: Params, inputs: readonly string[], deadline: number, signal: CancelSignal, tenant?: string }) => Promise<ItemOutcome[]>
  /** Stops intake, flushes the queue and waits for in-flight invocations. */
  drain: () => Promise<void>
  batcher: MicroBatcher
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime
  }
}

const SECONDS = (ms: number | undefined): number => Math.max(1, Math.ceil((ms ?? 1000) / 1000))

/** Maps a batcher rejection to the catalog (the HTTP status lives there, not in the batcher). */
export function toCatalogError (err: unknown): CatalogError {
  if (!(err instanceof BatcherError)) return catalogError('INTERNAL_ERROR', 'internal error', { cause: err })
  switch (err.code) {
    case 'QUEUE_FULL': return catalogError('QUEUE_FULL', err.message, { cause: err, retryAfterSeconds: SECONDS(err.retryAfterMs) })
    case 'ENDPOINT_UNAVAILABLE': return catalogError('ENDPOINT_UNAVAILABLE', err.message, { cause: err, retryAfterSeconds: SECONDS(err.retryAfterMs) })
    case 'SHUTTING_DOWN': return catalogError('SHUTTING_DOWN', err.message, { cause: err, retryAfterSeconds: SHUTTING_DOWN_RETRY_AFTER_S })
    case 'DEADLINE_EXCEEDED': return catalogError('DEADLINE_EXCEEDED', err.message, { cause: err })
    case 'MODEL_ERROR': return catalogError('MODEL_ERROR', err.message, { cause: err })
    case 'PAYLOAD_TOO_LARGE': return catalogError('PAYLOAD_TOO_LARGE', err.message, { cause: err })
    case 'CANCELLED': return catalogError('CANCELLED', err.message, { cause: err })
  }
}

/** Item outcome label for t2t_items_total. */
function itemOutcome (err: CatalogError | undefined): string {
  return err === undefined ? 'ok' : err.code.toLowerCase()
}

/** Decorates `app.realtime`; needs `app.metrics` and the invoker (the SDK's, see sagemaker/runtime.ts). */
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
      log.info({ batchId: event.batchId, model: event.model, items: event.items, bytes: event.bytes, attempt: event.attempt, latencyMs: Math.round(event.latencyMs), outcome: event.outcome, bisected: event.bisected }, 'flush')
    }
  })
  metrics.sources.queueDepth = () => batcher.depth
  metrics.sources.inFlight = () => batcher.inFlight

  const realtime: Realtime = {
    batcher,
    async run ({ model, params, inputs, deadline, signal, tenant }) {
      if (inputs.length > 1 && inputs.length > batcher.room()) {
        throw toCatalogError(new BatcherError('QUEUE_FULL', `the queue cannot take ${inputs.length} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS }))
      }
      if (tenant !== undefined && inputs.length > 1 && inputs.length > batcher.room(tenant)) {
        const full = new BatcherError('QUEUE_FULL', `this key cannot queue ${inputs.length} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS })
        return inputs.map(() => {
          metrics.items.inc({ outcome: 'queue_full' })
          return { ok: false, error: toCatalogError(full) }
        })
      }
      const settled = await Promise.allSettled(inputs.map(input => batcher.submit({ model, params, input, deadline, signal, key: tenant })))
      if (tenant !== undefined) calls?.record(tenant, model, settled.filter(s => s.status === 'fulfilled').length)
      return settled.map((s): ItemOutcome => {
        if (s.status === 'fulfilled') {
          metrics.items.inc({ outcome: 'ok' })
          return { ok: true, texts: s.value }
        }
        const error = toCatalogError(s.reason)
        metrics.items.inc({ outcome: itemOutcome(error) })
        return { ok: false, error }
      })
    },
    drain: async () => await batcher.drain()
  }
  app.decorate('realtime', realtime)
  // at the drain deadline what is queued or in flight is answered SHUTTING_DOWN (http/drain.ts)
  app.shutdown.deadline.addEventListener('abort', () => { batcher.abort() }, { once: true })
}, { name: 'realtime', dependencies: ['metrics', 'drain'] })
