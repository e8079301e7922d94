import type { CancelSignal } from '../batching/batcher.js'
import { RETRY_AFTER_FLOOR_MS } from '../batching/backoff.js'
import { BatcherError } from '../batching/errors.js'
import type { Params } from '../batching/payload.js'
import type { CatalogError } from '../errors.js'
import type { GenerationEvent } from '../sagemaker/contracts/types.js'
import type { ResolvedEndpoint } from '../endpoints/resolver.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'
import type { Batchers } from './batchers.js'
import { batcherErrorToCatalog } from './errors.js'

/** One item's outcome: its sequences, or the catalog error it failed with. */
export type ItemOutcome = { ok: true, texts: string[] } | { ok: false, error: CatalogError }

/** What the routes use: real-time generation through the micro-batchers. */
export interface Realtime {
  /**
   * Runs each input through the batcher of `endpoint` (by its contract, batchers.ts); `params`
   * are the contract's own (translateParameters). Settles once every item has an outcome. A
   * list is admitted whole or refused whole, never half-queued: one the queue has no room for
   * rejects with QUEUE_FULL; one `tenant` (the caller's key id, which gets its turn among tenants
   * and its own queue bound) has no room for settles with QUEUE_FULL for every item. A single
   * input is the batcher's to refuse.
   */
  run: (opts: { endpoint: ResolvedEndpoint, params: Params, inputs: readonly string[], deadline: number, signal: CancelSignal, tenant?: string }) => Promise<ItemOutcome[]>
  /**
   * One input's generation as a stream, through the batcher of `endpoint` (its queue, deadline,
   * fairness, concurrency bound and retries before the first token), for an endpoint whose
   * contract streams: yields each token as the endpoint produces it, then the whole text. A
   * failure before the first token rejects with the catalog error, as `run` would answer it;
   * after it, the stream ends with a `failed` event. Stopping early (return()) cancels the item
   * and closes the endpoint's stream.
   */
  /**
   * Admits `count` streams of one request whole, or refuses them whole (QUEUE_FULL) when the
   * queue or `tenant`'s share of it has no room for all: called before a list's streams start,
   * as `run` admits a list.
   */
  admitStreams: (count: number, tenant?: string) => void
  stream: (opts: { endpoint: ResolvedEndpoint, params: Params, input: string, deadline: number, signal: CancelSignal, tenant?: string }) => AsyncGenerator<GenerationEvent, void, undefined>
  /** Stops intake, flushes the queues and waits for in-flight invocations. */
  drain: () => Promise<void>
  /** Items waiting in every batcher (QUEUE_MAX_SIZE bounds it). */
  readonly depth: number
  batchers: Batchers
}

/** What the real-time service is built on; the plugin (plugins/realtime.ts) wires these. */
export interface RealtimeOptions {
  batchers: Batchers
  /** counts the calls each tenant made per endpoint (usage) */
  calls?: TenantCalls
  /** called once per item with its final outcome: 'ok' or the catalog code in lower case (t2t_items_total) */
  onItem: (outcome: string) => void
  /** Retry-After (s) of an item refused because the gateway is shutting down */
  shutdownRetryAfterS: number
}

/** The real-time service: list admission over the batchers, and their errors as catalog errors. */
export function createRealtime ({ batchers, calls, onItem, shutdownRetryAfterS }: RealtimeOptions): Realtime {
  const toCatalog = (err: unknown): CatalogError => batcherErrorToCatalog(err, shutdownRetryAfterS)
  return {
    batchers,
    get depth () { return batchers.depth },
    async run ({ endpoint, params, inputs, deadline, signal, tenant }) {
      if (inputs.length > 1 && inputs.length > batchers.room()) {
        throw toCatalog(new BatcherError('QUEUE_FULL', `the queue cannot take ${inputs.length} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS }))
      }
      if (tenant !== undefined && inputs.length > 1 && inputs.length > batchers.room(tenant)) {
        const full = new BatcherError('QUEUE_FULL', `this key cannot queue ${inputs.length} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS })
        return inputs.map(() => {
          onItem('queue_full')
          return { ok: false, error: toCatalog(full) }
        })
      }
      const settled = await Promise.allSettled(inputs.map(input => batchers.submit(endpoint, { params, input, deadline, signal, key: tenant })))
      if (tenant !== undefined) calls?.record(tenant, endpoint.name, settled.filter(s => s.status === 'fulfilled').length)
      return settled.map((s): ItemOutcome => {
        if (s.status === 'fulfilled') {
          onItem('ok')
          return { ok: true, texts: s.value }
        }
        const error = toCatalog(s.reason)
        onItem(error.code.toLowerCase())
        return { ok: false, error }
      })
    },
    admitStreams (count, tenant) {
      if (count <= 1) return
      if (count > batchers.room()) throw toCatalog(new BatcherError('QUEUE_FULL', `the queue cannot take ${count} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS }))
      if (tenant !== undefined && count > batchers.room(tenant)) throw toCatalog(new BatcherError('QUEUE_FULL', `this key cannot queue ${count} more items now`, { retryAfterMs: RETRY_AFTER_FLOOR_MS }))
    },
    async * stream ({ endpoint, params, input, deadline, signal, tenant }) {
      // the caller's signal, and ours for a reader that stops early
      const cancel = new AbortController()
      const onCallerGone = (): void => { cancel.abort(signal.reason) }
      if (signal.aborted) cancel.abort(signal.reason)
      else signal.addEventListener('abort', onCallerGone, { once: true })
      const tokens: string[] = []
      let wake: (() => void) | undefined
      let outcome: { ok: true, texts: string[] } | { ok: false, reason: unknown } | undefined
      batchers.submit(endpoint, { params, input, deadline, signal: cancel.signal, key: tenant, onToken: (text) => { tokens.push(text); wake?.() } }).then(
        (texts) => { outcome = { ok: true, texts } },
        (reason: unknown) => { outcome = { ok: false, reason } }
      ).finally(() => { wake?.() })
      let sent = false
      try {
        for (;;) {
          const text = tokens.shift()
          if (text !== undefined) {
            sent = true
            yield { type: 'token', text }
            continue
          }
          if (outcome !== undefined) break
          await new Promise<void>((resolve) => { wake = resolve })
          wake = undefined
        }
        if (outcome.ok) {
          onItem('ok')
          if (tenant !== undefined) calls?.record(tenant, endpoint.name, 1)
          yield { type: 'done', text: outcome.texts[0] ?? '' }
          return
        }
        const error = toCatalog(outcome.reason)
        onItem(error.code.toLowerCase())
        if (!sent) throw error
        yield { type: 'failed', error }
      } finally {
        signal.removeEventListener('abort', onCallerGone)
        if (outcome === undefined) {
          // the reader stopped (a stop sequence, a client gone): what it received still counts
          cancel.abort(new Error('the reader stopped'))
          onItem('cancelled')
          if (sent && tenant !== undefined) calls?.record(tenant, endpoint.name, 1)
        }
      }
    },
    drain: async () => await batchers.drain()
  }
}
