import { Agent, request } from 'node:http'

/** What one closed-loop run measured. */
export interface LoadResult {
  concurrency: number
  durationMs: number
  requests: number
  ok: number
  errors: Record<string, number>
  throughputPerSec: number
  /**
   * Ok answers per second from each client's own spacing, Σ (k − 1) / (last − first) over the
   * clients' ok answers inside the window (clients without one are left out); NaN where a
   * client had a single one there (the grid then counts, `rateOf`). Answers that come in lumps
   * (a micro-batch of 32 every 220 ms) fall 17 or 18 lumps to a 4 s window by phase alone, ±5.5%
   * in the count; the spacing has no phase. It leaves out the gaps that straddle the window's
   * edges, so where gaps vary it reads a little high (in a simulation with a tenth to a third of
   * the gaps doubled: +0.5-1% at 18 answers a client, +3-6% at 4).
   */
  paceRatePerSec: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[idx] as number
}

/** Σ (k − 1) / (last − first) per second over clients with answers; NaN if one had a single answer. */
function paceRate (paces: Array<{ count: number, first: number, last: number }>): number {
  let rate = 0
  for (const { count, first, last } of paces) {
    if (count === 0) continue
    if (count < 2 || last <= first) return NaN
    rate += 1000 * (count - 1) / (last - first)
  }
  return rate
}

/** Counts one failed request in `errors`: by status code, or by the network error's code (status -1). */
function countError (errors: Record<string, number>, status: number, err?: unknown): void {
  const key = status === -1 ? (err as NodeJS.ErrnoException | undefined)?.code ?? 'network' : String(status)
  errors[key] = (errors[key] ?? 0) + 1
}

/** A run's result from its counts and its latencies (sorted here). */
function loadResult (counts: { concurrency: number, durationMs: number, ok: number, errors: Record<string, number>, paceRatePerSec: number }, latencies: number[]): LoadResult {
  latencies.sort((a, b) => a - b)
  return {
    ...counts,
    requests: counts.ok + Object.values(counts.errors).reduce((a, b) => a + b, 0),
    throughputPerSec: counts.ok / (counts.durationMs / 1000),
    p50Ms: quantile(latencies, 0.5),
    p90Ms: quantile(latencies, 0.9),
    p99Ms: quantile(latencies, 0.99)
  }
}

/** POSTs a JSON body over a keep-alive agent; resolves with the status code. */
function post (agent: Agent, url: URL, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Closed loop: `concurrency` clients each send a request, wait for the answer, send the next,
 * for `durationMs` after `warmupMs`. Throughput counts completions inside that window;
 * latency is measured per request from send to last byte.
 */
export async function closedLoop (opts: { url: string, concurrency: number, durationMs: number, body: (i: number) => string, warmupMs?: number, headers?: Record<string, string>, startSpreadMs?: number }): Promise<LoadResult> {
  const url = new URL(opts.url)
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency })
  const latencies: number[] = []
  // per client: ok answers inside the window, and the first and last of their times
  const paces = Array.from({ length: opts.concurrency }, () => ({ count: 0, first: NaN, last: NaN }))
  const errors: Record<string, number> = {}
  let ok = 0
  let seq = 0
  const warmupEnd = performance.now() + (opts.warmupMs ?? 0)
  const end = warmupEnd + opts.durationMs
  const client = async (_: unknown, k: number): Promise<void> => {
    // client k starts k/C of startSpreadMs late: against a container that decodes in lock-step
    // (continuous batching) callers started at once would finish at once, in bursts
    const spread = opts.startSpreadMs ?? 0
    if (spread > 0) await new Promise(resolve => setTimeout(resolve, spread * k / opts.concurrency))
    while (performance.now() < end) {
      const started = performance.now()
      let status: number
      try {
        status = await post(agent, url, opts.body(seq++), opts.headers)
      } catch (err) {
        status = -1
        countError(errors, status, err)
      }
      const finished = performance.now()
      // completions inside the window count, whenever they started: long latencies are not cut off
      if (finished < warmupEnd || finished > end) continue
      if (status === 200) {
        ok++
        latencies.push(finished - started)
        const pace = paces[k] as { count: number, first: number, last: number }
        if (pace.count++ === 0) pace.first = finished
        pace.last = finished
      } else if (status !== -1) {
        countError(errors, status)
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, client))
  agent.destroy()
  return loadResult({ concurrency: opts.concurrency, durationMs: opts.durationMs, ok, errors, paceRatePerSec: paceRate(paces) }, latencies)
}

/**
 * Open loop: independent callers, requests due at `ratePerSec` on average with exponential gaps
 * (a Poisson stream), none waiting for another's answer, for `durationMs` after `warmupMs`.
 * Requests due inside the window are counted, however long their answers take, and each one's
 * latency runs from when it was due: a load generator that sends late (its timer held up by a
 * burst of answers) counts the delay against the gateway rather than hiding it. `concurrency`
 * is the most in flight at once, `paceRatePerSec` NaN.
 */
export async function openLoop (opts: { url: string, ratePerSec: number, durationMs: number, body: (i: number) => string, warmupMs?: number, headers?: Record<string, string> }): Promise<LoadResult> {
  const url = new URL(opts.url)
  const agent = new Agent({ keepAlive: true })
  const latencies: number[] = []
  const errors: Record<string, number> = {}
  const pending: Array<Promise<void>> = []
  let ok = 0
  let inFlight = 0
  let maxInFlight = 0
  const start = performance.now()
  const warmupEnd = start + (opts.warmupMs ?? 0)
  const end = warmupEnd + opts.durationMs
  const one = async (i: number, due: number): Promise<void> => {
    const counted = due >= warmupEnd
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    let status: number
    let failure: unknown
    try {
      status = await post(agent, url, opts.body(i), opts.headers)
    } catch (err) {
      status = -1
      failure = err
    }
    inFlight--
    if (!counted) return
    if (status === 200) {
      ok++
      latencies.push(performance.now() - due)
    } else countError(errors, status, failure)
  }
  // arrival times are drawn ahead and every one that is due is sent when the timer fires (timers
  // fire on whole ms at best): a request's time counts from when it was due, so a late timer
  // is not hidden
  let next = start
  let seq = 0
  while (next < end) {
    const now = performance.now()
    while (next <= now && next < end) {
      pending.push(one(seq++, next))
      next += -Math.log(1 - Math.random()) * 1000 / opts.ratePerSec
    }
    if (next < end) await new Promise(resolve => setTimeout(resolve, Math.max(0, next - performance.now())))
  }
  await Promise.all(pending)
  agent.destroy()
  return loadResult({ concurrency: maxInFlight, durationMs: opts.durationMs, ok, errors, paceRatePerSec: Number.NaN }, latencies)
}
