import { awsModeEnv, startEndpoint, startGateway } from './gateway-process.js'
import { runLoad } from './load-runner.js'

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays.'
const BODY = JSON.stringify({ text: `{i}. ${TEXT}` })
// the default LOG_LEVEL (config.ts) and the quietest level that still logs refusals
const LEVELS = ['info', 'warn'] as const

export interface LogCostBench {
  concurrency: number
  rounds: number
  /** Per level: gateway CPU µs per ok response, one per round. */
  cpuUsPerRequest: Record<string, number[]>
  /** Per level: the median over the rounds. */
  medianCpuUs: Record<string, number>
  /** Per round: info over warn, the two measured back to back. */
  roundRatios: number[]
  /** The median of `roundRatios`: 1.05 would be 5% more CPU per request at the default level. */
  ratio: number
  /** The ratio of the two levels' medians, beside it. */
  ratioOfMedians: number
}

// a round whose CPU could not be read at the window's edges (the worker's timer late on a
// starved machine: NaN) is left out
const median = (xs: number[]): number => {
  const finite = xs.filter(Number.isFinite).sort((a, b) => a - b)
  return finite.length === 0 ? NaN : finite[Math.floor(finite.length / 2)] as number
}

/**
 * Gateway CPU per request (its own process, user + system, /proc) at the default log level and
 * at `warn`, alternating rounds against one zero-latency endpoint (another process): what a
 * log line per request would cost shows as the difference.
 */
export async function runLogCostBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), rounds = 6, concurrency = 32): Promise<LogCostBench> {
  const endpoint = await startEndpoint({ baseMs: 0, perItemMs: 0, slots: 1024 })
  const cpuUsPerRequest: Record<string, number[]> = { info: [], warn: [] }
  try {
    const gateways = await Promise.all(LEVELS.map(async level => await startGateway({ ...awsModeEnv(endpoint.url), LOG_LEVEL: level, QUEUE_MAX_SIZE: 10_000 })))
    try {
      // JIT warm-up, unmeasured, as in the micro-batching bench: a first round against a cold
      // gateway measured its compilation (0.62 once)
      for (const gw of gateways) await runLoad({ url: `${gw.url}/v1/summarize`, concurrency, durationMs: 3000, warmupMs: 0, headers: {}, bodyTemplate: BODY, pid: gw.child.pid as number })
      for (let round = 0; round < rounds; round++) {
        // the order alternates too (info first, then warn first), so a machine that slows down or
        // speeds up during a round weighs on both levels alike
        const order = round % 2 === 0 ? [0, 1] : [1, 0]
        for (const i of order) {
          const level = LEVELS[i]
          const gw = gateways[i]
          const r = await runLoad({ url: `${gw.url}/v1/summarize`, concurrency, durationMs, warmupMs: 1000, headers: {}, bodyTemplate: BODY, pid: gw.child.pid as number })
          const us = 1e6 * r.targetCpuSec / r.ok
          cpuUsPerRequest[level].push(us)
          process.stdout.write(`  round ${round + 1} LOG_LEVEL=${level.padEnd(4)} ${r.throughputPerSec.toFixed(0).padStart(6)} req/s, gateway CPU ${us.toFixed(0)} µs per request, errors ${JSON.stringify(r.errors)}\n`)
        }
      }
    } finally {
      await Promise.all(gateways.map(async gw => await gw.stop()))
    }
  } finally {
    await endpoint.stop()
  }
  const medianCpuUs = { info: median(cpuUsPerRequest.info), warn: median(cpuUsPerRequest.warn) }
  // paired: each round's two levels ran back to back, so their ratio cancels what the machine
  // did meanwhile better than the ratio of the two medians would
  const roundRatios = cpuUsPerRequest.info.map((info, k) => info / (cpuUsPerRequest.warn[k] as number))
  return { concurrency, rounds, cpuUsPerRequest, medianCpuUs, roundRatios, ratio: median(roundRatios), ratioOfMedians: medianCpuUs.info / medianCpuUs.warn }
}
