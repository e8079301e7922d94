/**
 * Load shedding: /v1 work is refused with 503 ENDPOINT_UNAVAILABLE (Retry-After) when the
 * gateway itself is overloaded, never merely because the machine is busy.
 *
 * - memory: above SHED_RSS_BYTES or SHED_HEAP_USED_BYTES (the gateway's own memory), shed.
 * - event-loop lag alone is not overload. A neighbour spinning on the same cores lags the loop
 *   as much as our own work does, and shedding then would refuse every client for as long as
 *   the neighbour runs (issue 20: load 6 on 2 cores, every request 503). So lag counts only
 *   when it is sustained (above SHED_EVENT_LOOP_DELAY_MS at every sample for
 *   SHED_EVENT_LOOP_SUSTAIN_MS) and, at the same time, the gateway's own load is high: its
 *   queue or its bodies in flight hold at least OWN_LOAD_SHARE of their bounds. A slow loop with
 *   little queued makes the gateway slower, not unavailable.
 * - the queue and the bodies in flight shed on their own at their bounds (QUEUE_FULL,
 *   BODIES_BUSY); this module only reads them.
 *
 * Probes and metrics (routes outside /v1) are never shed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { catalogError } from '../errors.js'
import { isProtectedRoute } from './access.js'

/** ms between two samples of lag and memory. */
export const SHED_SAMPLE_INTERVAL_MS = 500
/** Share of a bound (queue, bodies in flight) from which the gateway's own load counts as high. */
export const OWN_LOAD_SHARE = 0.5
/** Resolution of the event-loop delay histogram (ms); its timer's own period is not lag. */
const HISTOGRAM_RESOLUTION_MS = 10
/** Seconds a shed caller is told to wait. */
const SHED_RETRY_AFTER_S = 5

/** One bounded resource of the gateway's own: how much of its bound is in use. */
export interface OwnLoad {
  /** What is measured and its bound, as the message names it (`queue of QUEUE_MAX_SIZE`). */
  name: string
  used: number
  max: number
}

/** What the shedder reads: the process's in the plugin, a test's own in tests. */
export interface LoadSignals {
  /** Mean event-loop delay since the previous call (ms), beyond the sampler's resolution. */
  eventLoopDelayMs: () => number
  memory: () => { rssBytes: number, heapUsedBytes: number }
  /** The gateway's own bounded resources, read when a request arrives. */
  ownLoad: () => OwnLoad[]
}

/** The thresholds; 0 turns a check off. */
export interface ShedLimits {
  eventLoopDelayMs: number
  /** ms the lag must stay above eventLoopDelayMs, sample after sample, before it counts. */
  sustainMs: number
  rssBytes: number
  heapUsedBytes: number
}

/** Why a request is shed: the check (as the message names it) and the sentence for the caller. */
export interface ShedVerdict {
  type: 'eventLoopDelay' | 'rssBytes' | 'heapUsedBytes'
  message: string
}

/** The shedding decision, from samples taken by the caller (the plugin's timer, or a test). */
export class LoadShedder {
  /** Epoch ms the current run of samples over the lag limit began (the start of its first interval); undefined when the last sample was under it. */
  private lagSince: number | undefined
  private lastSampleAt: number | undefined
  private lagMs = 0
  private rssBytes = 0
  private heapUsedBytes = 0

  constructor (private readonly limits: ShedLimits, private readonly signals: LoadSignals, private readonly now: () => number = Date.now) {}

  /** Reads lag and memory once; call every SHED_SAMPLE_INTERVAL_MS. */
  sample (): void {
    const now = this.now()
    // the lag is measured over the interval since the previous sample: a run starts there
    const lag = this.signals.eventLoopDelayMs()
    this.lagMs = lag
    if (this.limits.eventLoopDelayMs > 0 && lag > this.limits.eventLoopDelayMs) this.lagSince ??= this.lastSampleAt ?? now
    else this.lagSince = undefined
    this.lastSampleAt = now
    const memory = this.signals.memory()
    this.rssBytes = memory.rssBytes
    this.heapUsedBytes = memory.heapUsedBytes
  }

  /** ms the lag has stayed over its limit (0 when the last sample was under it). */
  sustainedLagMs (): number {
    return this.lagSince === undefined ? 0 : this.now() - this.lagSince
  }

  /** Undefined when a request may proceed; else why it is shed. */
  verdict (): ShedVerdict | undefined {
    const { limits } = this
    if (limits.rssBytes > 0 && this.rssBytes > limits.rssBytes) {
      return { type: 'rssBytes', message: `its resident set is ${this.rssBytes} bytes, over SHED_RSS_BYTES (${limits.rssBytes})` }
    }
    if (limits.heapUsedBytes > 0 && this.heapUsedBytes > limits.heapUsedBytes) {
      return { type: 'heapUsedBytes', message: `its heap holds ${this.heapUsedBytes} bytes, over SHED_HEAP_USED_BYTES (${limits.heapUsedBytes})` }
    }
    if (this.lagSince === undefined || this.sustainedLagMs() < limits.sustainMs) return undefined
    // sustained lag sheds only with the gateway's own load high: a busy neighbour alone never does
    const loaded = this.signals.ownLoad().find(l => l.max > 0 && l.used / l.max >= OWN_LOAD_SHARE)
    if (loaded === undefined) return undefined
    return {
      type: 'eventLoopDelay',
      message: `its event loop has lagged over SHED_EVENT_LOOP_DELAY_MS (${limits.eventLoopDelayMs} ms; last ${Math.round(this.lagMs)} ms) for ${this.sustainedLagMs()} ms while its ${loaded.name} holds ${loaded.used} of ${loaded.max}`
    }
  }
}

/** The process's lag and memory; `ownLoad` is the app's (see the plugin). */
function processSignals (ownLoad: () => OwnLoad[]): LoadSignals & { close: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: HISTOGRAM_RESOLUTION_MS })
  histogram.enable()
  let last = performance.now()
  return {
    eventLoopDelayMs () {
      const now = performance.now()
      // the sampler's own lateness: when the loop was blocked for a whole interval the
      // histogram holds no sample at all (its mean is NaN), but the sample came late by the block
      const late = Math.max(0, now - last - SHED_SAMPLE_INTERVAL_MS)
      last = now
      const mean = histogram.count > 0 ? Math.max(0, histogram.mean / 1e6 - HISTOGRAM_RESOLUTION_MS) : 0
      histogram.reset()
      return Math.max(mean, late)
    },
    memory () {
      const m = process.memoryUsage()
      return { rssBytes: m.rss, heapUsedBytes: m.heapUsed }
    },
    ownLoad,
    close () { histogram.disable() }
  }
}

/**
 * Sheds /v1 work as described above. Reads `app.realtime` (the queue) and `app.bodyBudget`
 * (bodies in flight) when they are registered.
 */
export const loadSheddingPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const limits: ShedLimits = {
    eventLoopDelayMs: config.SHED_EVENT_LOOP_DELAY_MS,
    sustainMs: config.SHED_EVENT_LOOP_SUSTAIN_MS,
    rssBytes: config.SHED_RSS_BYTES,
    heapUsedBytes: config.SHED_HEAP_USED_BYTES
  }
  if (limits.eventLoopDelayMs === 0 && limits.rssBytes === 0 && limits.heapUsedBytes === 0) return
  const ownLoad = (): OwnLoad[] => {
    const loads: OwnLoad[] = []
    if (app.hasDecorator('realtime')) loads.push({ name: 'queue (items waiting, QUEUE_MAX_SIZE)', used: app.realtime.depth, max: config.QUEUE_MAX_SIZE })
    if (app.hasDecorator('bodyBudget')) loads.push({ name: 'bodies in flight (bytes, BODY_BYTES_IN_FLIGHT_MAX)', used: app.bodyBudget.used, max: app.bodyBudget.max })
    return loads
  }
  const signals = processSignals(ownLoad)
  const shedder = new LoadShedder(limits, signals)
  shedder.sample()
  const timer = setInterval(() => { shedder.sample() }, SHED_SAMPLE_INTERVAL_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    signals.close()
  })
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isProtectedRoute(request)) { done(); return }
    const verdict = shedder.verdict()
    if (verdict === undefined) { done(); return }
    request.log.warn({ type: verdict.type }, 'shedding load')
    done(catalogError('ENDPOINT_UNAVAILABLE', `the gateway is overloaded (${verdict.type}): ${verdict.message}; retry shortly`, { retryAfterSeconds: SHED_RETRY_AFTER_S }))
  })
}, { name: 'load-shedding' })
