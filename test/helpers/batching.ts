import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { MicroBatcher, type BatcherOptions, type FlushEvent, type InvokeFn, type InvokeRequest, type SubmitOptions } from '../../src/batching/batcher.js'
import type { BatcherError } from '../../src/batching/errors.js'
import { BATCHER_DEFAULTS } from '../../src/batching/batcher.js'
import { Batchers } from '../../src/realtime/batchers.js'
import type { BatcherSettings } from '../../src/batching/batcher.js'

// The batcher tests' harness: a MicroBatcher on a fake clock whose invocations the test
// answers (or that answer themselves after a fake latency).

/** The fake clock the harness runs on. */
export type FakeClock = ReturnType<typeof FakeTimers.createClock>

// epoch ms the fake clock starts at; times in assertions are relative to it
export const T0 = 1_700_000_000_000

export interface Call {
  req: InvokeRequest
  // ms since T0 when invoke was called
  at: number
  resolve: (value: string[][]) => void
  reject: (error: unknown) => void
}

export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected'
  value?: T
  error?: BatcherError
  // ms since T0 when it settled
  at?: number
}

/**
 * A batcher on a fake clock. Without `answer`, invoke calls wait until the test answers them;
 * with it, each call is answered (or failed, if it throws) `latencyMs` later (ms, or a function
 * of the request: an endpoint's latency curve).
 */
export function setup (options: Partial<BatcherOptions> = {}, answer?: (req: InvokeRequest) => string[][], latencyMs: number | ((req: InvokeRequest) => number) = 0) {
  const clock = FakeTimers.createClock(T0)
  const calls: Call[] = []
  const events: FlushEvent[] = []
  const batcher = new MicroBatcher({
    invoke: recordingInvoker(clock, calls, answer, latencyMs),
    ...fakeWiring(clock, events),
    batchIdPrefix: 'b',
    ...options
  })
  return harness(clock, calls, events, batcher)
}

/** An invoker that records each call in `calls` and, with `answer`, answers it `latencyMs` later. */
export function recordingInvoker (clock: FakeClock, calls: Call[], answer?: (req: InvokeRequest) => string[][], latencyMs: number | ((req: InvokeRequest) => number) = 0): InvokeFn {
  return async (req) => await new Promise<string[][]>((resolve, reject) => {
    calls.push({ req, at: clock.now - T0, resolve, reject })
    if (answer !== undefined) {
      clock.setTimeout(() => {
        try { resolve(answer(req)) } catch (err) { reject(err) }
      }, typeof latencyMs === 'number' ? latencyMs : latencyMs(req))
    }
  })
}

/** A batcher's clock, jitter and flush events on the fake clock. */
export function fakeWiring (clock: FakeClock, events: FlushEvent[]): Pick<BatcherOptions, 'clock' | 'random' | 'onFlush'> {
  return {
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    onFlush: (event) => { events.push(event) },
    random: () => 0.5
  }
}

function harness (clock: FakeClock, calls: Call[], events: FlushEvent[], batcher: MicroBatcher) {
  const track = <T>(promise: Promise<T>): Tracked<T> => {
    const tracked: Tracked<T> = { state: 'pending' }
    promise.then(
      (value) => { Object.assign(tracked, { state: 'fulfilled', value, at: clock.now - T0 }) },
      (error: BatcherError) => { Object.assign(tracked, { state: 'rejected', error, at: clock.now - T0 }) }
    )
    return tracked
  }
  const submit = (input: string, extra: Partial<SubmitOptions> = {}): Tracked<string[]> =>
    track(batcher.submit({ endpoint: 'm', params: {}, input, deadline: clock.now + 60_000, ...extra }))
  // runs microtasks, then timers due within ms
  const tick = async (ms = 0): Promise<void> => { await clock.tickAsync(ms) }
  return { clock, calls, events, batcher, submit, track, tick }
}

/** Answer a call with one sequence per input: the input upper-cased. */
export function echo (call: Call): void {
  call.resolve(call.req.inputs.map((input) => [input.toUpperCase()]))
}

/** An endpoint's latency curve: ms = baseMs + perItemMs · items. */
export interface Curve { baseMs: number, perItemMs: number }

/** A deterministic uniform [0, 1) generator, so a failing simulation replays. */
export function lcg (seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
}

/** What a closed-loop run on the fake clock measured, per client group. */
export interface LoopResult {
  /** Answers inside the measuring window. */
  ok: number
  /** Rejections inside the window, by code. */
  errors: Record<string, number>
  /** ms from submit to answer, sorted. */
  latencies: number[]
}

/**
 * One request's outcome into `result`: its time from `started` to `now` (epoch ms on the fake
 * clock), or its error code. The submit itself stays inline in each loop: one more async hop
 * around it reorders the fake clock's timers due in the same ms, and moves the grid's figures.
 */
function record (result: LoopResult, started: number, now: number, code: string | undefined): void {
  if (code === undefined) {
    result.ok++
    result.latencies.push(now - started)
  } else result.errors[code] = (result.errors[code] ?? 0) + 1
}

/** The batcher's error code of a failed submit. */
const codeOf = (err: unknown): string => (err as BatcherError).code

/**
 * `clients` closed-loop callers on the fake clock: each submits, waits for its answer, spends
 * `transitMs()` (the HTTP round trip back to it and its next request) and submits again, until
 * `endMs` (since T0); answers from `fromMs` on are counted. Ticks the clock to the end itself.
 */
export function closedLoop (h: ReturnType<typeof setup>, opts: { clients: number, fromMs: number, endMs: number, transitMs: () => number, submit?: Partial<SubmitOptions> }): Promise<LoopResult> {
  const result: LoopResult = { ok: 0, errors: {}, latencies: [] }
  const client = async (): Promise<void> => {
    await new Promise((resolve) => h.clock.setTimeout(resolve, opts.transitMs()))
    while (h.clock.now - T0 < opts.endMs) {
      const started = h.clock.now
      let code: string | undefined
      try {
        await h.batcher.submit({ endpoint: 'm', params: {}, input: 'x', deadline: started + 60_000, ...opts.submit })
      } catch (err) {
        code = codeOf(err)
      }
      // counted by when the answer came
      if (h.clock.now - T0 >= opts.fromMs && h.clock.now - T0 < opts.endMs) record(result, started, h.clock.now, code)
      await new Promise((resolve) => h.clock.setTimeout(resolve, opts.transitMs()))
    }
  }
  const all = Promise.all(Array.from({ length: opts.clients }, client))
  return all.then(() => {
    result.latencies.sort((a, b) => a - b)
    return result
  })
}

/** An open-loop run on the fake clock: its result once every request settled, and its counts so far. */
export interface OpenLoop {
  done: Promise<LoopResult>
  /** Requests sent, and requests answered or failed, so far (a run whose counts differ after the clock ran past it has a request that never settles). */
  sent: () => number
  settled: () => number
}

/**
 * Independent (open-loop) callers on the fake clock: requests arrive at `perMs` on average with
 * exponential gaps (a Poisson stream, drawn from `random`), none waiting for another's answer,
 * from T0 until `endMs`; answers to requests sent from `fromMs` on are counted. The fake clock
 * runs timers on whole ms, so the arrivals of each ms are sent together at its end (a request's
 * time counts from then). Ticks nothing: the caller runs the clock past `endMs`, checks that
 * `settled()` caught up with `sent()`, then awaits `done`.
 */
export function openLoop (h: ReturnType<typeof setup>, opts: { perMs: number, fromMs: number, endMs: number, random: () => number, submit?: Partial<SubmitOptions> }): OpenLoop {
  const result: LoopResult = { ok: 0, errors: {}, latencies: [] }
  const pending: Array<Promise<void>> = []
  let settled = 0
  const one = async (): Promise<void> => {
    const started = h.clock.now
    let code: string | undefined
    try {
      await h.batcher.submit({ endpoint: 'm', params: {}, input: 'x', deadline: started + 60_000, ...opts.submit })
    } catch (err) {
      code = codeOf(err)
    }
    settled++
    // counted by when the request was sent
    if (started - T0 >= opts.fromMs) record(result, started, h.clock.now, code)
  }
  const gap = (): number => -Math.log(1 - opts.random()) / opts.perMs
  // ms since T0 of the next arrival, not rounded
  let nextAt = gap()
  const arrive = (): void => {
    const now = h.clock.now - T0
    while (nextAt <= now && nextAt < opts.endMs) {
      pending.push(one())
      nextAt += gap()
    }
    if (nextAt < opts.endMs) h.clock.setTimeout(arrive, Math.max(1, Math.ceil(nextAt) - now))
  }
  h.clock.setTimeout(arrive, Math.max(1, Math.ceil(nextAt)))
  const done = (async () => {
    // every request is sent by endMs: wait for the stream to end, then for its answers
    while (h.clock.now - T0 < opts.endMs) await new Promise((resolve) => h.clock.setTimeout(resolve, opts.endMs - (h.clock.now - T0)))
    await Promise.all(pending)
    result.latencies.sort((a, b) => a - b)
    return result
  })()
  return { done, sent: () => pending.length, settled: () => settled }
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile (sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/**
 * The time from an answer to the caller's next request when the gateway spends `cpuMs` (±50%)
 * of one CPU per request, one request at a time, plus `netMs()` on the wire: the callers of one
 * batch come back one after another, over batch × cpuMs, as on a busy machine.
 */
export function serialTransit (clock: { now: number }, cpuMs: number, netMs: () => number, random: () => number, stall: { every: number, ms: number } = { every: 0, ms: 0 }): () => number {
  let cpuFreeAt = Number.NEGATIVE_INFINITY
  return () => {
    const start = Math.max(clock.now, cpuFreeAt)
    // now and then the core is taken from under the request (another process, a GC pause)
    const stalled = stall.every > 0 && random() < 1 / stall.every ? stall.ms : 0
    cpuFreeAt = start + stalled + cpuMs * (0.5 + random())
    return cpuFreeAt - clock.now + netMs()
  }
}

/**
 * The endpoint's own ceiling on the fake clock (items/ms): min(C, S) callers each sending
 * payloads of min(maxSize, ⌈C/S⌉) straight to it, waiting `latencyMs(items)` and `netMs()`
 * between answers, over `horizonMs`.
 */
export function directCeiling (opts: { clients: number, slots: number, maxSize: number, latencyMs: (items: number) => number, netMs: () => number, horizonMs: number }): number {
  const batch = Math.min(opts.maxSize, Math.ceil(opts.clients / opts.slots))
  let items = 0
  for (let caller = 0; caller < Math.min(opts.clients, opts.slots); caller++) {
    for (let t = opts.latencyMs(batch) + opts.netMs(); t <= opts.horizonMs; t += opts.latencyMs(batch) + opts.netMs()) items += batch
  }
  return items / opts.horizonMs
}

/**
 * The real-time service's batchers (src/realtime/batchers.ts) on a fake clock: every batcher's
 * invocations are recorded in `calls` (answered by the test, or by `answer`); `batcher` is the
 * shared list one. `settings` override BATCHER_DEFAULTS.
 */
export function setupBatchers (settings: Partial<BatcherSettings> = {}, answer?: (req: InvokeRequest) => string[][], latencyMs: number | ((req: InvokeRequest) => number) = 0) {
  const clock = FakeTimers.createClock(T0)
  const calls: Call[] = []
  const events: FlushEvent[] = []
  const invoke = recordingInvoker(clock, calls, answer, latencyMs)
  const contracts: string[] = []
  const batchers = new Batchers({
    settings: { ...BATCHER_DEFAULTS, retry: { ...BATCHER_DEFAULTS.retry }, tenantWeights: new Map(), ...settings },
    listInvoke: invoke,
    invokerFor: (contract) => {
      contracts.push(contract.name)
      return invoke
    },
    maxConcurrentPerEndpoint: 8,
    wiring: fakeWiring(clock, events)
  })
  return { ...harness(clock, calls, events, batchers.list), batchers, contracts }
}
