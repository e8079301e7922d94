import { awsModeEnv, startEndpoint, startGateway } from './gateway-process.js'
import { runLoad } from './load-runner.js'
import type { LoadResult } from './load.js'
import { BATCH, BODY, ceilingPerSec, GATEWAY_WARMUP_MS, MODES, SHAPES, type Mode, type Shape } from './realtime.js'

// the three curves on 4 slots; loads as shares of the endpoint's capacity (every slot busy with
// full batches of 32)
const OPEN_SHAPES = ['50+5·B/4', '200+0.5·B/4', '5+10·B/4']
const LOADS = [0.3, 0.6, 0.85]
const POLICIES = ['learned', 'eager']

/** One load on one shape: the same rate of independent requests through the default and through `eager`. */
export interface OpenLoopCell {
  shape: string
  load: number
  ratePerSec: number
  runs: Record<string, Omit<LoadResult, 'paceRatePerSec'>>
  /** learned / eager. */
  p50Ratio: number
  p99Ratio: number
}

export interface OpenLoopBench {
  setup: Record<string, unknown>
  cells: OpenLoopCell[]
  summary: { maxP50Ratio: number, maxP99Ratio: number }
}

/** Items per second `shape` answers with every slot busy with a full batch: its ceiling with as many callers as fill them. */
export function capacityPerSec (shape: Shape): number {
  return ceilingPerSec(shape, shape.slots * BATCH)
}

/**
 * Independent callers (a Poisson stream from a load process of its own) through the gateway in
 * AWS mode to an emulated endpoint (its own process), at 30, 60 and 85% of its capacity, the
 * default policy against `eager` (which never waits for company): what callers who do not come
 * back when answered pay for the batching built for those who do. Each (shape, policy) is a
 * fresh gateway, warmed up with the middle load.
 */
export async function runOpenLoopBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), warmupMs = 1000): Promise<OpenLoopBench> {
  const shapes = SHAPES.filter(s => OPEN_SHAPES.includes(s.name))
  const cells: OpenLoopCell[] = []
  for (const shape of shapes) {
    const endpoint = await startEndpoint(shape)
    const byLoad = LOADS.map(load => ({ shape: shape.name, load, ratePerSec: load * capacityPerSec(shape), runs: {} as OpenLoopCell['runs'] }))
    try {
      for (const policy of POLICIES) {
        const mode = MODES.find(m => m.name === policy) as Mode
        const gw = await startGateway({ ...awsModeEnv(endpoint.url), MAX_CONCURRENT_INVOCATIONS: shape.slots, QUEUE_MAX_SIZE: 10_000, ...mode.env })
        try {
          const job = { url: `${gw.url}/v1/summarize`, concurrency: 0, headers: {}, bodyTemplate: BODY, pid: gw.child.pid as number }
          await runLoad({ ...job, ratePerSec: 0.6 * capacityPerSec(shape), durationMs: GATEWAY_WARMUP_MS, warmupMs: 0 })
          for (const cell of byLoad) {
            const { targetCpuSec: _cpu, paceRatePerSec: _pace, ...r } = await runLoad({ ...job, ratePerSec: cell.ratePerSec, durationMs, warmupMs })
            cell.runs[policy] = r
            process.stdout.write(`  ${shape.name.padEnd(12)} ${policy.padEnd(8)} ${String(Math.round(100 * cell.load)).padStart(3)}% (${cell.ratePerSec.toFixed(0)}/s)  ` +
              `${r.throughputPerSec.toFixed(0)} answered/s  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  at most ${r.concurrency} in flight  errors ${JSON.stringify(r.errors)}\n`)
          }
        } finally {
          await gw.stop()
        }
      }
    } finally {
      await endpoint.stop()
    }
    for (const cell of byLoad) {
      const { learned, eager } = cell.runs
      cells.push({ ...cell, p50Ratio: learned.p50Ms / eager.p50Ms, p99Ratio: learned.p99Ms / eager.p99Ms })
    }
  }
  return {
    setup: { batchMaxSize: BATCH, durationMs, warmupMs, gatewayWarmupMs: GATEWAY_WARMUP_MS, gatewayWarmup: 'the same stream at 60% of capacity', loads: LOADS, capacity: 'slots × 32 / latency(32)', processes: 'endpoint, gateway (AWS mode), load generator: one process each' },
    cells,
    summary: { maxP50Ratio: Math.max(...cells.map(c => c.p50Ratio)), maxP99Ratio: Math.max(...cells.map(c => c.p99Ratio)) }
  }
}
