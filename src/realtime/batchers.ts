/**
 * The micro-batchers of the real-time service, one per way of talking to an endpoint:
 * - every jumpstart-list endpoint shares today's batcher (`list`), which coalesces callers into
 *   list payloads (BATCH_*, MAX_CONCURRENT_INVOCATIONS, the flush policy);
 * - an endpoint of any other contract gets its own, created on first use, with an invoker for
 *   that contract: a single-input contract (TGI, LMI rolling batch) sends one item per
 *   invocation ('eager': the container batches continuously, the lever is concurrency), at most
 *   instances × the container's MAX_CONCURRENT_REQUESTS at once, capped by
 *   REALTIME_MAX_CONCURRENT_PER_ENDPOINT; a list contract with a bound (LMI dynamic batch) takes
 *   at most its maxInputsPerCall per payload.
 * They share one queue bound: QUEUE_MAX_SIZE (and QUEUE_MAX_PER_KEY per tenant) hold across all
 * of them together, so N endpoints never multiply the gateway's queue.
 */
import { MicroBatcher, type BatcherOptions, type BatcherSettings, type InvokeFn, type SubmitOptions } from '../batching/batcher.js'
import { RETRY_AFTER_FLOOR_MS } from '../batching/backoff.js'
import { BatcherError } from '../batching/errors.js'
import type { ResolvedEndpoint } from '../endpoints/resolver.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'

/**
 * Bytes a contract's body may exceed the list body of the same inputs and parameters by, which
 * is what the batcher sizes (payload.ts): `{"inputs":…,"parameters":{…}}` and `"stream":true`
 * cost at most 25 more than `{"text_inputs":[…],…}`, and list-valued parameters (stop) are
 * shorter decoded than as the JSON text the batcher counts. A contract's batcher is bounded by
 * BATCH_MAX_BYTES minus this, so its real body stays within BATCH_MAX_BYTES, itself at most
 * SageMaker's 6 MiB (test/realtime/batchers.test.ts measures the difference).
 */
export const CONTRACT_BODY_MARGIN_BYTES = 64

export interface BatchersOptions {
  /** The list batcher's limits and policies; the base of every other batcher's. */
  settings: BatcherSettings
  /** The invoker of the shared list batcher. */
  listInvoke: InvokeFn
  /** The invoker for an endpoint of `contract` (the SDK's, built for that contract). */
  invokerFor: (contract: ContainerContract) => InvokeFn
  /** REALTIME_MAX_CONCURRENT_PER_ENDPOINT: a single-input endpoint's invocations in flight, at most. */
  maxConcurrentPerEndpoint: number
  /** Wiring every batcher shares (onFlush, clock, random). */
  wiring?: Pick<BatcherOptions, 'onFlush' | 'clock' | 'random'>
}

/** A contract's own batcher, and what it was built for. */
interface Own {
  /** contract name, list or not, inputs per call and concurrency: a change needs a new batcher */
  shape: string
  batcher: MicroBatcher
}

/** Invocations in flight a single-input endpoint may have: instances × per instance, capped. */
export function endpointConcurrency (endpoint: Pick<ResolvedEndpoint, 'contract' | 'instances'>, cap: number): number {
  const perInstance = endpoint.contract.maxConcurrentPerInstance
  return perInstance === undefined ? cap : Math.max(1, Math.min(cap, endpoint.instances * perInstance))
}

/** The real-time service's batchers, their shared queue bound, drain and abort. */
export class Batchers {
  /** Every jumpstart-list endpoint's. */
  readonly list: MicroBatcher
  readonly #settings: BatcherSettings
  readonly #invokerFor: (contract: ContainerContract) => InvokeFn
  readonly #cap: number
  readonly #wiring: Pick<BatcherOptions, 'onFlush' | 'clock' | 'random'>
  /** endpoint name → its own batcher (contracts other than jumpstart-list). */
  readonly #own = new Map<string, Own>()
  /** Batchers replaced (the endpoint changed) that still hold work; dropped once drained. */
  readonly #retiring = new Set<MicroBatcher>()
  #draining = false

  constructor (opts: BatchersOptions) {
    this.#settings = opts.settings
    this.#invokerFor = opts.invokerFor
    this.#cap = opts.maxConcurrentPerEndpoint
    this.#wiring = opts.wiring ?? {}
    this.list = new MicroBatcher({ ...opts.settings, ...this.#wiring, invoke: opts.listInvoke })
  }

  /** Every batcher, the list one first. */
  all (): MicroBatcher[] {
    return [this.list, ...[...this.#own.values()].map(o => o.batcher), ...this.#retiring]
  }

  /** Items waiting (not in flight) in every batcher. */
  get depth (): number {
    return this.all().reduce((sum, b) => sum + b.depth, 0)
  }

  /** Invocation slots held in every batcher. */
  get inFlight (): number {
    return this.all().reduce((sum, b) => sum + b.inFlight, 0)
  }

  /** Items `key` (or, without one, anyone) may still queue, across every batcher, before QUEUE_FULL. */
  room (key?: string): number {
    const overall = this.#settings.maxQueue - this.depth
    if (key === undefined) return overall
    const mine = this.all().reduce((sum, b) => sum + b.queued(key), 0)
    return Math.min(overall, this.#settings.maxQueuePerKey - mine)
  }

  /** Queues one item for `endpoint` in its batcher; QUEUE_FULL when the shared bound has no room. */
  async submit (endpoint: ResolvedEndpoint, opts: Omit<SubmitOptions, 'endpoint'>): Promise<string[]> {
    if (this.#draining) throw new BatcherError('SHUTTING_DOWN', 'the batcher is shutting down')
    if (this.depth >= this.#settings.maxQueue) {
      throw new BatcherError('QUEUE_FULL', `${this.depth} items are already waiting (limit ${this.#settings.maxQueue})`, { retryAfterMs: RETRY_AFTER_FLOOR_MS })
    }
    if (opts.key !== undefined && this.room(opts.key) <= 0) {
      throw new BatcherError('QUEUE_FULL', `this key has ${this.#settings.maxQueuePerKey} items waiting already (the limit per key)`, { retryAfterMs: RETRY_AFTER_FLOOR_MS })
    }
    return await this.of(endpoint).submit({ ...opts, endpoint: endpoint.name })
  }

  /** The batcher of `endpoint`: the shared list one, or its own (created, or replaced when its contract or concurrency changed). */
  of (endpoint: ResolvedEndpoint): MicroBatcher {
    const contract = endpoint.contract
    if (contract.name === 'jumpstart-list') return this.list
    const concurrency = contract.takesList ? this.#settings.maxConcurrent : endpointConcurrency(endpoint, this.#cap)
    const maxSize = Math.min(this.#settings.maxSize, contract.maxInputsPerCall ?? this.#settings.maxSize)
    const shape = `${contract.name}\n${contract.takesList}\n${maxSize}\n${concurrency}`
    const known = this.#own.get(endpoint.name)
    if (known?.shape === shape) return known.batcher
    const batcher = new MicroBatcher({
      ...this.#settings,
      ...this.#wiring,
      invoke: this.#invokerFor(contract),
      maxSize,
      maxConcurrent: concurrency,
      maxBytes: this.#settings.maxBytes - CONTRACT_BODY_MARGIN_BYTES,
      // one input per call: nothing to wait for; a list contract keeps the configured policy
      ...(contract.takesList ? {} : { flushPolicy: 'eager' as const })
    })
    this.#own.set(endpoint.name, { shape, batcher })
    if (known !== undefined) this.#retire(known.batcher)
    return batcher
  }

  /** Stops intake everywhere, flushes what is queued and waits for what is in flight. */
  async drain (): Promise<void> {
    this.#draining = true
    await Promise.all(this.all().map(async b => { await b.drain() }))
  }

  /** Answers everything queued or in flight SHUTTING_DOWN (the drain deadline). */
  abort (): void {
    for (const b of this.all()) b.abort()
  }

  /** A replaced batcher finishes what it holds (it takes nothing new), then is dropped. */
  #retire (batcher: MicroBatcher): void {
    this.#retiring.add(batcher)
    void batcher.drain().finally(() => { this.#retiring.delete(batcher) })
  }
}
