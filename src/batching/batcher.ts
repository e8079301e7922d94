import { randomUUID } from 'node:crypto'
import { RETRY_AFTER_FLOOR_MS, backoffMs, estimateRetryAfterMs, retryPlan, type RetryOptions } from './backoff.js'
import { MAX_TIMER_MS, realClock, type Clock } from './clock.js'
import { DeadlineHeap, type HeapEntry } from './deadline-heap.js'
import { classify, type AttemptResult } from './attempt.js'
import { BatcherError } from './errors.js'
import { FairQueue, FairTags } from './fair-queue.js'
import { decideFlush, FLUSH_POLICIES, type FlushDecision, type FlushPolicy } from './flush-policy.js'
import { LatencyModel, type LatencyFit } from './latency-model.js'
import { ArrivalRate, RecentMax } from './population.js'
import { ReturnShare } from './return-share.js'
import { assemblePayload, normaliseParams, partitionKey, payloadBytes, payloadOverheadBytes, payloadTail, type Params } from './payload.js'

/** One invocation of the endpoint: a list payload of inputs that share an endpoint and params. */
export interface InvokeRequest {
  /** The SageMaker endpoint to invoke (EndpointName). */
  endpoint: string
  /** Normalised: keys sorted, values as submitted. */
  params: Params
  /** In arrival order; the result must have one entry per input, in the same order. */
  inputs: readonly string[]
  /** The JSON body `{"text_inputs":[...],...params}` whose bytes the limits were checked on. */
  body: string
  /** Aborted when every item of this payload has expired or been cancelled. */
  signal: AbortSignal
  /** Epoch ms: the latest deadline among the items; an answer after it is useless to all. */
  deadline: number
  /** Shared by the retries of a payload; bisection halves append `.1` / `.2`. */
  batchId: string
  /** 1-based; counts the sends of this exact payload. */
  attempt: number
  /**
   * Per input, in order: where its tokens go as the endpoint produces them (SubmitOptions.onToken);
   * present only when some input streams. An invoker that streams must not fail retryably once a
   * token has gone out: the batcher would send the item again.
   */
  tokenSinks?: ReadonlyArray<((text: string) => void) | undefined>
}

/** Sends one payload; resolves with, per input in order, the list of generated sequences, or throws an `InvokeError`. */
export type InvokeFn = (req: InvokeRequest) => Promise<string[][]>

/**
 * What `submit` needs of a caller's cancellation: an AbortSignal fits, and so does a lighter
 * one-shot source (the routes use one per request: an AbortController costs a few µs each).
 */
export interface CancelSignal {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void
  removeEventListener: (type: 'abort', listener: () => void) => void
}

/** One caller's text and what it should be generated with. */
export interface SubmitOptions {
  /** The SageMaker endpoint the input is for: inputs share a payload only with the same endpoint and params. */
  endpoint: string
  params: Params
  input: string
  /** Epoch ms after which the caller no longer wants an answer. */
  deadline: number
  /** Aborting it withdraws the item: rejected CANCELLED, never sent or its result discarded. */
  signal?: CancelSignal
  /** The caller's tenant (API key id): batches take tenants round-robin, and each has its own queue bound. */
  key?: string
  /** Streams the generation: called with each token as the endpoint produces it, where the invoker streams (InvokeRequest.tokenSinks). */
  onToken?: (text: string) => void
}

export type { FlushPolicy } from './flush-policy.js'

/** How one invocation ended; `aborted` means every item left before the endpoint answered. */
export type FlushOutcome = 'ok' | 'retryable' | 'model_error' | 'fatal' | 'aborted'

/** Reported once per invocation (every retry and bisection step included): one log line, one metrics update. */
export interface FlushEvent {
  batchId: string
  endpoint: string
  /** Inputs in the payload. */
  items: number
  /** UTF-8 bytes of the JSON payload. */
  bytes: number
  /** 1-based send of this payload. */
  attempt: number
  /** ms from sending to the answer (or failure). */
  latencyMs: number
  outcome: FlushOutcome
  /** True for a half (of a half...) of a payload the model failed on. */
  bisected: boolean
  /** The failure's message, for every outcome but `ok`. */
  message?: string
}

/** Construction options; every limit has a default in `BATCHER_DEFAULTS`. */
export interface BatcherOptions {
  invoke: InvokeFn
  /** Inputs per payload. */
  maxSize?: number
  /** ms the oldest waiting item of a partition may wait before its partition is flushed ('wait' policy; also drain). */
  maxWaitMs?: number
  /** UTF-8 bytes of a payload's JSON; no payload exceeds it, a lone item that would is rejected PAYLOAD_TOO_LARGE. */
  maxBytes?: number
  /** Items waiting (not in flight) across all partitions; one more is rejected QUEUE_FULL. */
  maxQueue?: number
  /** Items waiting with the same `key`; one more of that key is rejected QUEUE_FULL (items without a key: only `maxQueue`). */
  maxQueuePerKey?: number
  /** Items per round-robin turn for a key (default 1 each). */
  tenantWeights?: ReadonlyMap<string, number>
  /** Batches holding an invocation slot at once (invoking, backing off, or bisecting). */
  maxConcurrent?: number
  retry?: Partial<RetryOptions>
  flushPolicy?: FlushPolicy
  /** Time and timers; the real ones by default. */
  clock?: Clock
  /** Uniform in [0, 1), for backoff jitter; `Math.random` by default. */
  random?: () => number
  /** Called synchronously after each invocation; exceptions it throws are ignored. */
  onFlush?: (event: FlushEvent) => void
  /** Batch ids are `${prefix}-${n}`; a random 8-hex prefix by default, unique across restarts in practice. */
  batchIdPrefix?: string
}

/** A batcher's limits and policies, every one set (the rest of BatcherOptions is wiring): what the gateway's settings hold. */
export type BatcherSettings = Required<Omit<BatcherOptions, 'invoke' | 'clock' | 'random' | 'onFlush' | 'batchIdPrefix'>>

/**
 * The defaults of every limit in `BatcherOptions`: a bare batcher's (the unit tests build one).
 * The gateway's configuration (src/config.ts) takes its defaults from here except where it runs
 * otherwise (GATEWAY_BATCHER_DEFAULTS there): a learning flush policy, a 25 ms retry base,
 * payloads of at most 5 MiB and a per-tenant bound of half the queue.
 */
export const BATCHER_DEFAULTS = {
  maxSize: 32,
  maxWaitMs: 10,
  // SageMaker caps a real-time payload at 6 MB; reading MB as 10^6 holds whichever unit AWS means
  maxBytes: 6_000_000,
  maxQueue: 1000,
  maxQueuePerKey: 1000,
  maxConcurrent: 4,
  flushPolicy: 'eager',
  // a safety cap: the binding limit of retries is the items' deadlines
  retry: { maxAttempts: 50, baseMs: 100, capMs: 2000 }
} as const satisfies Omit<Required<BatcherOptions>, 'invoke' | 'clock' | 'random' | 'onFlush' | 'batchIdPrefix' | 'tenantWeights'>

// ms; bounds of the window over which a partition's population is remembered (see RecentMax):
// two invocations of a full batch, as learnt, within these
const POPULATION_WINDOW_MIN_MS = 50
const POPULATION_WINDOW_MAX_MS = 5000

// weight of the newest sample in the invocation latency average behind QUEUE_FULL's Retry-After
const LATENCY_EWMA_ALPHA = 0.2

interface Partition {
  readonly key: string
  readonly endpoint: string
  readonly params: Params
  // bytes of the payload with no inputs: `{"text_inputs":[],...params}`
  readonly overhead: number
  // the body after the inputs (see payloadTail)
  readonly tail: string
  // one FIFO lane per key, taken round-robin (dispatch) or left anywhere (expiry, cancellation)
  readonly queue: FairQueue<Item>
  // sum of `bytes` over `queue`
  queuedBytes: number
  // items of this partition in flight
  inFlightItems: number
  // the most items (queued + in flight) of late: who comes back in a closed loop
  readonly recent: RecentMax
  readonly arrivals: ArrivalRate
  // as of the latest decision: the items counted on (see #decisions) and its endpoint's ReturnShare
  population: number
  returnShare: number
  returnPoint: number
}

type ItemState = 'queued' | 'in_flight' | 'settled'

interface Item extends HeapEntry {
  readonly input: string
  // JSON.stringify(input), encoded once: sized here, sent as is
  readonly encoded: string
  // UTF-8 bytes of `encoded`: what this item adds to a payload, comma excluded
  readonly bytes: number
  readonly deadline: number
  // epoch ms at submit; a partition's wait is measured from its oldest item's arrival
  readonly arrival: number
  // fair-queueing virtual time (FairTags): the order items are served in, within a partition
  // (across its tenants' lanes) and across partitions (the head with the lowest tag goes first)
  readonly tag: number
  // the caller's key; '' without one
  readonly lane: string
  readonly partition: Partition
  state: ItemState
  flight?: Flight
  readonly resolve: (value: string[]) => void
  readonly reject: (error: BatcherError) => void
  readonly signal?: CancelSignal
  readonly onToken?: (text: string) => void
  onAbort?: () => void
}

/** A logical flush: the items dispatched together, holding one slot through retries and bisection. */
interface Flight {
  readonly batchId: string
  readonly endpoint: string
  readonly params: Params
  readonly overhead: number
  readonly tail: string
  readonly items: readonly Item[]
  // epoch ms of the first send
  readonly started: number
  // the payload being sent now, aborted once all of its items are settled
  current?: { readonly items: readonly Item[], readonly controller: AbortController }
  // the payload sleeping before a retry, woken early once all of its items are settled
  sleeping?: { readonly items: readonly Item[], readonly wake: () => void }
}

/**
 * Coalesces concurrent single-text submissions into list invocations, one partition per
 * (endpoint, params), and hands each caller its own result.
 *
 * Decisions:
 * - A batch keeps its slot while it backs off before a retry. Retries happen because the
 *   endpoint is throttling or failing; releasing the slot would let another batch hit it
 *   meanwhile, so total pressure on a struggling endpoint stays bounded by `maxConcurrent`.
 * - Bisection runs inside the failed batch's slot, one half after the other (depth first), so
 *   `maxConcurrent` bounds invocations in flight even while hunting a poisoned input; the
 *   innocent items of a half are answered as soon as that half succeeds.
 * - One timer serves the whole batcher: it is armed for the earliest item deadline (queued or in
 *   flight) or, under 'wait', the earliest partition wait expiry, whichever comes first.
 */
export class MicroBatcher {
  readonly #invoke: InvokeFn
  readonly #maxSize: number
  readonly #maxWaitMs: number
  readonly #maxBytes: number
  readonly #maxQueue: number
  readonly #maxQueuePerKey: number
  readonly #tags: FairTags
  readonly #maxConcurrent: number
  readonly #retry: RetryOptions
  readonly #policy: FlushPolicy
  readonly #clock: Clock
  readonly #random: () => number
  readonly #onFlush?: (event: FlushEvent) => void
  readonly #batchIdPrefix: string

  readonly #partitions = new Map<string, Partition>()
  // the flights holding a slot
  readonly #flights = new Set<Flight>()
  // per endpoint: its latency curve, learnt from answered invocations
  readonly #latency = new Map<string, LatencyModel>()
  // per endpoint: how many of the items answered come back (ReturnShare)
  readonly #returns = new Map<string, ReturnShare>()
  // items waiting per lane (key, '' without one); lanes with none are absent
  readonly #queuedPerKey = new Map<string, number>()
  // every unsettled item, queued or in flight
  readonly #deadlines = new DeadlineHeap<Item>()
  #depth = 0
  #inFlight = 0
  // epoch ms a slot last became free
  #slotFreedAt = Number.NEGATIVE_INFINITY
  #batchSeq = 0
  // ms, exponentially weighted average of invocation latency; 0 until the first answer
  #latencyMs = 0
  #pumpScheduled = false
  #timer: unknown = undefined
  // epoch ms the timer is armed for; Infinity when unarmed
  #timerAt = Number.POSITIVE_INFINITY
  #draining = false
  #drained?: Promise<void>
  #resolveDrained?: () => void

  /** Validates the options (RangeError naming the bad one) and applies `BATCHER_DEFAULTS`. */
  constructor (options: BatcherOptions) {
    this.#invoke = options.invoke
    this.#maxSize = positiveInteger('maxSize', options.maxSize ?? BATCHER_DEFAULTS.maxSize)
    this.#maxWaitMs = nonNegative('maxWaitMs', options.maxWaitMs ?? BATCHER_DEFAULTS.maxWaitMs)
    this.#maxBytes = positiveInteger('maxBytes', options.maxBytes ?? BATCHER_DEFAULTS.maxBytes)
    this.#maxQueue = positiveInteger('maxQueue', options.maxQueue ?? BATCHER_DEFAULTS.maxQueue)
    this.#maxQueuePerKey = positiveInteger('maxQueuePerKey', options.maxQueuePerKey ?? BATCHER_DEFAULTS.maxQueuePerKey)
    const weights = options.tenantWeights ?? new Map<string, number>()
    for (const [key, weight] of weights) positiveInteger(`tenantWeights.${key}`, weight)
    this.#tags = new FairTags((lane) => weights.get(lane) ?? 1)
    this.#maxConcurrent = positiveInteger('maxConcurrent', options.maxConcurrent ?? BATCHER_DEFAULTS.maxConcurrent)
    this.#retry = {
      maxAttempts: positiveInteger('retry.maxAttempts', options.retry?.maxAttempts ?? BATCHER_DEFAULTS.retry.maxAttempts),
      baseMs: nonNegative('retry.baseMs', options.retry?.baseMs ?? BATCHER_DEFAULTS.retry.baseMs),
      capMs: nonNegative('retry.capMs', options.retry?.capMs ?? BATCHER_DEFAULTS.retry.capMs)
    }
    const policy = options.flushPolicy ?? BATCHER_DEFAULTS.flushPolicy
    if (!FLUSH_POLICIES.includes(policy)) throw new RangeError(`flushPolicy must be one of ${FLUSH_POLICIES.join(', ')}, got ${String(policy)}`)
    this.#policy = policy
    this.#clock = options.clock ?? realClock
    this.#random = options.random ?? Math.random
    this.#onFlush = options.onFlush
    this.#batchIdPrefix = options.batchIdPrefix ?? randomUUID().slice(0, 8)
  }

  /** Items waiting for a slot (not in flight). */
  get depth (): number { return this.#depth }

  /** Batches holding an invocation slot: invoking, backing off before a retry, or bisecting. */
  get inFlight (): number { return this.#inFlight }

  /** Items `key` (or, without one, anyone) may still queue before QUEUE_FULL. */
  room (key?: string): number {
    const overall = this.#maxQueue - this.#depth
    if (key === undefined) return overall
    return Math.min(overall, this.#maxQueuePerKey - (this.#queuedPerKey.get(key) ?? 0))
  }

  /** Items of `key` waiting (not in flight). */
  queued (key: string): number {
    return this.#queuedPerKey.get(key) ?? 0
  }

  /** The latency curve learnt for `endpoint` so far; undefined before its first answer. */
  latencyFit (endpoint: string): LatencyFit | undefined {
    return this.#latency.get(endpoint)?.fit()
  }

  /** Queue one text; resolves with its generated sequences or rejects with a `BatcherError`. */
  submit (opts: SubmitOptions): Promise<string[]> {
    const now = this.#clock.now()
    if (this.#draining) return Promise.reject(new BatcherError('SHUTTING_DOWN', 'the batcher is shutting down'))
    if (opts.signal?.aborted === true) {
      return Promise.reject(new BatcherError('CANCELLED', 'cancelled before it was queued', { cause: opts.signal.reason }))
    }
    // also catches NaN
    if (!(opts.deadline > now)) return Promise.reject(new BatcherError('DEADLINE_EXCEEDED', 'deadline passed before it was queued'))
    const key = partitionKey(opts.endpoint, opts.params)
    const existing = this.#partitions.get(key)
    const overhead = existing?.overhead ?? payloadOverheadBytes(opts.params)
    const encoded = JSON.stringify(opts.input)
    const bytes = Buffer.byteLength(encoded, 'utf8')
    const alone = payloadBytes(overhead, 1, bytes)
    if (alone > this.#maxBytes) {
      return Promise.reject(new BatcherError('PAYLOAD_TOO_LARGE', `a payload with this input alone is ${alone} bytes, over the ${this.#maxBytes}-byte limit`))
    }
    if (this.#depth >= this.#maxQueue) {
      const retryAfterMs = estimateRetryAfterMs(this.#latencyMs, this.#queuedBatches(), this.#maxConcurrent)
      return Promise.reject(new BatcherError('QUEUE_FULL', `${this.#depth} items are already waiting (limit ${this.#maxQueue})`, { retryAfterMs }))
    }
    const lane = opts.key ?? ''
    if (opts.key !== undefined && this.room(opts.key) <= 0) {
      const retryAfterMs = estimateRetryAfterMs(this.#latencyMs, this.#queuedBatches(), this.#maxConcurrent)
      return Promise.reject(new BatcherError('QUEUE_FULL', `this key has ${this.#maxQueuePerKey} items waiting already (the limit per key)`, { retryAfterMs }))
    }
    let partition = existing
    if (partition === undefined) {
      partition = {
        key,
        endpoint: opts.endpoint,
        params: normaliseParams(opts.params),
        overhead,
        tail: payloadTail(opts.params),
        queue: new FairQueue<Item>(),
        queuedBytes: 0,
        inFlightItems: 0,
        recent: new RecentMax(),
        arrivals: new ArrivalRate(),
        population: 0,
        returnShare: 1,
        returnPoint: 1
      }
      this.#partitions.set(key, partition)
    }
    const home = partition
    const promise = new Promise<string[]>((resolve, reject) => {
      const item: Item = {
        input: opts.input,
        encoded,
        bytes,
        deadline: opts.deadline,
        arrival: now,
        tag: this.#tags.next(lane),
        lane,
        partition: home,
        state: 'queued',
        heapIndex: -1,
        resolve,
        reject,
        signal: opts.signal,
        ...(opts.onToken !== undefined ? { onToken: opts.onToken } : {})
      }
      if (opts.signal !== undefined) {
        const signal = opts.signal
        item.onAbort = () => { this.#reject(item, new BatcherError('CANCELLED', 'cancelled by the caller', { cause: signal.reason })) }
        signal.addEventListener('abort', item.onAbort, { once: true })
      }
      home.queue.push(item)
      home.queuedBytes += bytes
      this.#queuedPerKey.set(lane, (this.#queuedPerKey.get(lane) ?? 0) + 1)
      home.recent.observe(home.queue.size + home.inFlightItems, now, this.#populationWindowMs(home.endpoint))
      home.arrivals.arrive(now)
      this.#returnsOf(home.endpoint).arrive(now)
      this.#deadlines.push(item)
      this.#depth++
    })
    // the pump also re-arms the timer for this item's deadline and its partition's wait
    this.#schedulePump()
    return promise
  }

  /**
   * Stop intake (submit rejects SHUTTING_DOWN), flush everything queued regardless of wait time
   * (still at most `maxConcurrent` at once), and resolve once nothing is queued or in flight.
   */
  drain (): Promise<void> {
    this.#draining = true
    if (this.#drained === undefined) {
      this.#drained = new Promise((resolve) => { this.#resolveDrained = resolve })
    }
    this.#schedulePump()
    return this.#drained
  }

  /**
   * Reject every item still queued or in flight with SHUTTING_DOWN and abort their invocations;
   * also stops intake. For the end of a bounded drain: `drain()` resolves once invocations return.
   */
  abort (): void {
    this.#draining = true
    for (let item = this.#deadlines.peek(); item !== undefined; item = this.#deadlines.peek()) {
      this.#reject(item, new BatcherError('SHUTTING_DOWN', 'the batcher shut down before this item was answered'))
    }
    this.#schedulePump()
  }

  #schedulePump (): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    // a microtask, not a timer: submits of the same tick coalesce, and no fake time has to pass
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /** Dispatch ready partitions into free slots, lowest tag first, then re-arm the timer. */
  #pump (): void {
    const now = this.#clock.now()
    while (this.#inFlight < this.#maxConcurrent) {
      const ready = this.#nextReady(now)
      if (ready === undefined) break
      this.#dispatch(ready.partition, ready.take, now)
    }
    this.#rearm(now)
    if (this.#draining && this.#depth === 0 && this.#inFlight === 0) this.#resolveDrained?.()
  }

  /** The policy's decision for every partition with waiting items; forgets idle partitions. */
  #decisions (now: number): Array<{ partition: Partition, next: Item, decision: FlushDecision }> {
    let totalPopulation = 0
    for (const partition of this.#partitions.values()) {
      const recent = partition.recent.value(now, this.#populationWindowMs(partition.endpoint))
      const here = partition.queue.size + partition.inFlightItems
      if (recent === 0 && here === 0) {
        this.#partitions.delete(partition.key)
        continue
      }
      // the even share is cut from every caller of late; whether those not here now are waited
      // for depends on whether answered callers come back (the policy weighs them by it):
      // independent callers who were here have left, and waiting for them swelled the count
      // (fuller queues, longer invocations, more waiting). Scaling the count itself cut the
      // share below ⌈C/S⌉ when a closed loop read low, and a slot left a caller behind
      const returns = this.#returnsOf(partition.endpoint)
      partition.returnShare = returns.value(now)
      partition.returnPoint = returns.point(now)
      partition.population = Math.max(here, recent)
      totalPopulation += partition.population
    }
    // per busy slot, ms until its answer is expected (first send + the learnt latency)
    const busyFreeInMs: number[] = []
    for (const flight of this.#flights) {
      const expected = this.#latency.get(flight.endpoint)?.predict(flight.items.length)
      busyFreeInMs.push(expected === undefined ? Number.POSITIVE_INFINITY : flight.started + expected - now)
    }
    const out: Array<{ partition: Partition, next: Item, decision: FlushDecision }> = []
    for (const partition of this.#partitions.values()) {
      const next = partition.queue.peek()
      if (next === undefined) continue
      const queued = partition.queue.size
      const { population, returnShare, returnPoint } = partition
      const decision = decideFlush(this.#policy, {
        now,
        queued,
        bytesFull: payloadBytes(partition.overhead, queued, partition.queuedBytes) >= this.#maxBytes,
        oldestArrival: partition.queue.oldestArrival(),
        slotFreedAt: this.#slotFreedAt,
        inFlightItems: partition.inFlightItems,
        population,
        returnShare,
        returnPoint,
        arrivalsPerMs: partition.arrivals.perMs(),
        lastArrival: partition.arrivals.last,
        totalPopulation,
        inFlight: this.#inFlight,
        busyFreeInMs,
        slots: this.#maxConcurrent,
        maxSize: this.#maxSize,
        maxWaitMs: this.#maxWaitMs,
        meanLatencyMs: this.#latencyMs,
        fit: this.latencyFit(partition.endpoint),
        draining: this.#draining
      })
      out.push({ partition, next, decision })
    }
    return out
  }

  // fairness: the partition whose next item has the lowest tag goes first, so a rare parameter
  // set is never starved by a busy one, nor one tenant by another's burst in other parameters
  #nextReady (now: number): { partition: Partition, take: number } | undefined {
    let best: { partition: Partition, next: Item, take: number } | undefined
    for (const { partition, next, decision } of this.#decisions(now)) {
      if (!('take' in decision)) continue
      if (best === undefined || next.tag < best.next.tag) best = { partition, next, take: decision.take }
    }
    return best
  }

  /** Whether an endpoint's answered callers come back (per endpoint: it outlives partitions, which go when idle). */
  #returnsOf (endpoint: string): ReturnShare {
    let returns = this.#returns.get(endpoint)
    if (returns === undefined) {
      returns = new ReturnShare()
      this.#returns.set(endpoint, returns)
    }
    return returns
  }

  /** ms over which a partition's population is remembered: two invocations of a full batch, as learnt. */
  #populationWindowMs (endpoint: string): number {
    const full = this.#latency.get(endpoint)?.predict(this.#maxSize)
    if (full === undefined) return POPULATION_WINDOW_MAX_MS
    return Math.min(POPULATION_WINDOW_MAX_MS, Math.max(POPULATION_WINDOW_MIN_MS, 2 * full))
  }

  /** Take up to `take` items (and maxBytes), tenants round-robin, into a new flight. */
  #dispatch (partition: Partition, take: number, now: number): void {
    const taken: Item[] = []
    let sum = 0
    for (let item = partition.queue.peek(); item !== undefined && taken.length < Math.min(take, this.#maxSize); item = partition.queue.peek()) {
      if (item.deadline <= now) {
        this.#reject(item, deadlineError('queued'))
        continue
      }
      // an item with less time left than the endpoint usually takes would spend a slot on an
      // answer nobody waits for; it fails now, a little before its deadline, and is never sent
      if (item.deadline - now < this.#latencyMs) {
        this.#reject(item, new BatcherError('DEADLINE_EXCEEDED', `${item.deadline - now} ms were left, less than the endpoint's usual ${Math.round(this.#latencyMs)} ms`))
        continue
      }
      // in turn: stop at the first item that does not fit rather than skip ahead of it
      if (payloadBytes(partition.overhead, taken.length + 1, sum + item.bytes) > this.#maxBytes) break
      this.#unqueue(item)
      this.#tags.served(item.tag)
      item.state = 'in_flight'
      partition.inFlightItems++
      taken.push(item)
      sum += item.bytes
    }
    if (taken.length === 0) return
    const flight: Flight = {
      batchId: `${this.#batchIdPrefix}-${++this.#batchSeq}`,
      endpoint: partition.endpoint,
      params: partition.params,
      overhead: partition.overhead,
      tail: partition.tail,
      items: taken,
      started: now
    }
    this.#flights.add(flight)
    for (const item of taken) item.flight = flight
    this.#inFlight++
    void this.#runFlight(flight)
  }

  async #runFlight (flight: Flight): Promise<void> {
    try {
      await this.#runPayload(flight, flight.items, flight.batchId, false)
    } catch (err) {
      // only a bug in the batcher gets here; answer everyone rather than leave callers hanging
      this.#rejectAll(flight.items, new BatcherError('ENDPOINT_UNAVAILABLE', 'internal batcher error', { cause: err, retryAfterMs: RETRY_AFTER_FLOOR_MS }))
    } finally {
      this.#inFlight--
      this.#flights.delete(flight)
      this.#slotFreedAt = this.#clock.now()
      this.#pump()
    }
  }

  /** Send `items` (minus the gone), retrying and bisecting per policy, until each is settled. */
  async #runPayload (flight: Flight, items: readonly Item[], batchId: string, bisected: boolean): Promise<void> {
    let pending = items
    for (let attempt = 1; ; attempt++) {
      const live = this.#live(pending)
      if (live.length === 0) return
      const sentAt = this.#clock.now()
      const result = await this.#send(flight, live, batchId, attempt, bisected)
      switch (result.outcome) {
        case 'aborted':
          return
        case 'ok': {
          // their callers, if in a closed loop, come back within half an invocation (a full
          // batch's callers on a busy machine: batch × CPU per request) and maxWaitMs at least
          const now = this.#clock.now()
          this.#returnsOf(flight.endpoint).answered(now, live.length, Math.max(this.#maxWaitMs, (now - sentAt) / 2))
          live.forEach((item, i) => { this.#resolve(item, result.value[i]) })
          return
        }
        case 'fatal':
          // the whole flight, so bisection steps still to come find nobody left to send
          this.#rejectAll(flight.items, new BatcherError('ENDPOINT_UNAVAILABLE', result.message, { cause: result.cause, retryAfterMs: RETRY_AFTER_FLOOR_MS }))
          return
        case 'model_error': {
          if (live.length === 1) {
            this.#reject(live[0], new BatcherError('MODEL_ERROR', result.message, { cause: result.cause }))
            return
          }
          const mid = Math.ceil(live.length / 2)
          await this.#runPayload(flight, live.slice(0, mid), `${batchId}.1`, true)
          await this.#runPayload(flight, live.slice(mid), `${batchId}.2`, true)
          return
        }
        case 'retryable': {
          const retryAfterMs = Math.max(RETRY_AFTER_FLOOR_MS, result.retryAfterMs ?? 0)
          const unavailable = (why: string): BatcherError =>
            new BatcherError('ENDPOINT_UNAVAILABLE', `${why}: ${result.message}`, { cause: result.cause, retryAfterMs })
          pending = live.filter((item) => item.state !== 'settled')
          // a safety cap only: the items' deadlines are what bound the retries
          if (attempt >= this.#retry.maxAttempts) {
            this.#rejectAll(pending, unavailable(`gave up after ${attempt} attempts`))
            return
          }
          const plan = retryPlan({
            now: this.#clock.now(),
            backoffMs: backoffMs(this.#retry, attempt, this.#random, result.retryAfterMs),
            floorMs: result.retryAfterMs ?? 0,
            attemptMs: this.#latency.get(flight.endpoint)?.predict(pending.length) ?? 0,
            deadlines: pending.map((item) => item.deadline)
          })
          pending.forEach((item, i) => { if (!plan.keep[i]) this.#reject(item, unavailable(`no retry could be answered before the deadline (${item.deadline - this.#clock.now()} ms left)`)) })
          pending = pending.filter((item) => item.state !== 'settled')
          if (pending.length === 0) return
          await this.#sleep(flight, pending, plan.sleepMs)
          break
        }
      }
    }
  }

  /** The unsettled items, after rejecting those whose deadline has come: expired items are never sent. */
  #live (items: readonly Item[]): Item[] {
    const now = this.#clock.now()
    const live: Item[] = []
    for (const item of items) {
      if (item.state === 'settled') continue
      if (item.deadline <= now) this.#reject(item, deadlineError('in_flight'))
      else live.push(item)
    }
    return live
  }

  /** One invocation, classified, reported to onFlush. */
  async #send (flight: Flight, items: readonly Item[], batchId: string, attempt: number, bisected: boolean): Promise<AttemptResult> {
    const controller = new AbortController()
    flight.current = { items, controller }
    let sum = 0
    let deadline = Number.NEGATIVE_INFINITY
    for (const item of items) {
      sum += item.bytes
      deadline = Math.max(deadline, item.deadline)
    }
    const bytes = payloadBytes(flight.overhead, items.length, sum)
    const started = this.#clock.now()
    let result: AttemptResult
    try {
      const value = await this.#invoke({
        endpoint: flight.endpoint,
        params: flight.params,
        inputs: items.map((item) => item.input),
        body: assemblePayload(items.map((item) => item.encoded), flight.tail),
        signal: controller.signal,
        deadline,
        batchId,
        attempt,
        ...(items.some((item) => item.onToken !== undefined) ? { tokenSinks: items.map((item) => item.onToken) } : {})
      })
      if (controller.signal.aborted) result = { outcome: 'aborted' }
      else if (!Array.isArray(value) || value.length !== items.length) {
        const count = Array.isArray(value) ? value.length : 'no list of'
        result = { outcome: 'model_error', message: `the endpoint returned ${count} results for ${items.length} inputs`, cause: undefined }
      } else result = { outcome: 'ok', value }
    } catch (err) {
      result = classify(err, controller.signal.aborted)
    } finally {
      flight.current = undefined
    }
    const latencyMs = this.#clock.now() - started
    if (result.outcome === 'ok' || result.outcome === 'model_error') {
      this.#latencyMs = this.#latencyMs === 0 ? latencyMs : this.#latencyMs + LATENCY_EWMA_ALPHA * (latencyMs - this.#latencyMs)
      let curve = this.#latency.get(flight.endpoint)
      if (curve === undefined) {
        curve = new LatencyModel()
        this.#latency.set(flight.endpoint, curve)
      }
      curve.observe(items.length, latencyMs)
    }
    const event: FlushEvent = { batchId, endpoint: flight.endpoint, items: items.length, bytes, attempt, latencyMs, outcome: result.outcome, bisected }
    if (result.outcome === 'aborted') event.message = 'every item left before the endpoint answered'
    else if (result.outcome !== 'ok') event.message = result.message
    if (this.#onFlush !== undefined) {
      try {
        this.#onFlush(event)
      } catch {
        // a logging or metrics hook must not break batching
      }
    }
    return result
  }

  /** Backoff before a retry; ends early once every one of `items` is settled. */
  #sleep (flight: Flight, items: readonly Item[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        flight.sleeping = undefined
        resolve()
      }
      const handle = this.#clock.setTimeout(done, Math.min(ms, MAX_TIMER_MS))
      flight.sleeping = { items, wake: () => { this.#clock.clearTimeout(handle); done() } }
    })
  }

  #resolve (item: Item, value: string[]): void {
    if (this.#settle(item)) item.resolve(value)
  }

  #reject (item: Item, error: BatcherError): void {
    if (this.#settle(item)) item.reject(error)
  }

  #rejectAll (items: readonly Item[], error: BatcherError): void {
    for (const item of items) this.#reject(item, error)
  }

  /** Mark settled and release what the item holds; false if it already was. */
  #settle (item: Item): boolean {
    if (item.state === 'settled') return false
    const was = item.state
    item.state = 'settled'
    this.#deadlines.remove(item)
    if (item.onAbort !== undefined) item.signal?.removeEventListener('abort', item.onAbort)
    if (was === 'in_flight') item.partition.inFlightItems--
    if (was === 'queued') {
      this.#unqueue(item)
      // drain may now be complete
      this.#schedulePump()
    } else if (item.flight !== undefined) {
      const flight = item.flight
      if (flight.current !== undefined && flight.current.items.every(isSettled)) {
        flight.current.controller.abort(new BatcherError('CANCELLED', 'every item of this payload expired or was cancelled'))
      }
      if (flight.sleeping !== undefined && flight.sleeping.items.every(isSettled)) flight.sleeping.wake()
    }
    return true
  }

  // the partition itself stays until #decisions finds it idle: its population outlives its queue
  #unqueue (item: Item): void {
    const partition = item.partition
    if (!partition.queue.remove(item)) return
    partition.queuedBytes -= item.bytes
    this.#depth--
    const left = (this.#queuedPerKey.get(item.lane) ?? 0) - 1
    if (left > 0) this.#queuedPerKey.set(item.lane, left)
    else {
      this.#queuedPerKey.delete(item.lane)
      this.#tags.idle(item.lane)
    }
  }

  /** Payloads needed for what is queued, counting maxSize only; drives QUEUE_FULL's Retry-After. */
  #queuedBatches (): number {
    let batches = 0
    for (const partition of this.#partitions.values()) batches += Math.ceil(partition.queue.size / this.#maxSize)
    return batches
  }

  /** Arm the timer for the next deadline or the next partition the policy will look at again, or disarm it. */
  #rearm (now: number): void {
    let at = this.#deadlines.peek()?.deadline ?? Number.POSITIVE_INFINITY
    // a partition ready to go that is still queued waits for a slot, not for the timer
    for (const { decision } of this.#decisions(now)) {
      if ('until' in decision && decision.until > now && decision.until < at) at = decision.until
    }
    if (at === this.#timerAt) return
    this.#disarm()
    if (at === Number.POSITIVE_INFINITY) return
    this.#timerAt = at
    this.#timer = this.#clock.setTimeout(() => { this.#onTimer() }, Math.min(MAX_TIMER_MS, Math.max(0, at - now)))
  }

  #disarm (): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
  }

  #onTimer (): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = this.#clock.now()
    for (let item = this.#deadlines.peek(); item !== undefined && item.deadline <= now; item = this.#deadlines.peek()) {
      this.#reject(item, deadlineError(item.state === 'queued' ? 'queued' : 'in_flight'))
    }
    this.#pump()
  }
}

function isSettled (item: Item): boolean {
  return item.state === 'settled'
}

function deadlineError (where: 'queued' | 'in_flight'): BatcherError {
  return new BatcherError('DEADLINE_EXCEEDED', where === 'queued' ? 'deadline passed while waiting for a batch' : 'deadline passed before the model answered')
}

function positiveInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}

function nonNegative (name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`)
  return value
}
