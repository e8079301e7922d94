import { closedLoop, type LoadResult } from './load.js'
import { startGateway } from './gateway-process.js'

/** An emulated endpoint: ms = baseMs + perItemMs · items, `slots` invocations at once. */
export interface Shape { name: string, baseMs: number, perItemMs: number, slots: number }

/** The reference endpoint, one dominated by its base, one by its per-item cost. */
export const SHAPES: Shape[] = [
  { name: '50+5·B', baseMs: 50, perItemMs: 5, slots: 4 },
  { name: '200+0.5·B', baseMs: 200, perItemMs: 0.5, slots: 4 },
  { name: '5+10·B', baseMs: 5, perItemMs: 10, slots: 4 }
]
const BATCH = 32
const WAIT_MS = 10
export const LEVELS = [1, 8, 32, 128]

/** ms one invocation of `items` takes on `shape`. */
export function latencyMs (shape: Shape, items: number): number {
  return shape.baseMs + shape.perItemMs * items
}

/**
 * The most any gateway gets from `shape` with `clients` closed-loop callers (items/s): every
 * slot busy with an even share, C / latency(min(BATCH, ⌈C/S⌉)).
 */
export function ceilingPerSec (shape: Shape, clients: number): number {
  return 1000 * clients / latencyMs(shape, Math.min(BATCH, Math.ceil(clients / shape.slots)))
}

export interface Mode { name: string, env: Record<string, string | number> }
export const MODES: Mode[] = [
  { name: 'learned', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'learned' } },
  { name: 'adaptive', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'adaptive' } },
  { name: 'eager', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'eager' } },
  { name: 'wait', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'wait' } },
  { name: 'unbatched', env: { BATCH_MAX_SIZE: 1, BATCH_MAX_WAIT_MS: 0, BATCH_FLUSH_POLICY: 'eager' } }
]
// every mode on the reference shape; the default against the previous default on the others
const PLAN: Array<{ shape: Shape, modes: string[] }> = [
  { shape: SHAPES[0], modes: MODES.map(m => m.name) },
  { shape: SHAPES[1], modes: ['learned', 'adaptive'] },
  { shape: SHAPES[2], modes: ['learned', 'adaptive'] }
]

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays. ' +
  'Road repairs get twice the money of last year. The vote was eleven to four.'

/** One closed-loop run, with its share of the ceiling. */
export interface LevelResult extends LoadResult {
  ceilingPerSec: number
  /** throughputPerSec / ceilingPerSec. */
  shareOfCeiling: number
}

export interface RealtimeBench {
  setup: Record<string, number>
  shapes: Shape[]
  /** Per shape name, per mode name: one result per level of LEVELS. */
  runs: Record<string, Record<string, LevelResult[]>>
  summary: Record<string, number | string>
}

/** Closed-loop throughput and latency per shape, mode and concurrency, each (shape, mode) in a fresh gateway. */
export async function runRealtimeBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000)): Promise<RealtimeBench> {
  const runs: Record<string, Record<string, LevelResult[]>> = {}
  for (const { shape, modes } of PLAN) {
    runs[shape.name] = {}
    for (const name of modes) {
      const mode = MODES.find(m => m.name === name) as Mode
      const gw = await startGateway({
        LOCAL_LATENCY_BASE_MS: shape.baseMs,
        LOCAL_LATENCY_PER_ITEM_MS: shape.perItemMs,
        LOCAL_MAX_CONCURRENCY: shape.slots,
        MAX_CONCURRENT_INVOCATIONS: shape.slots,
        QUEUE_MAX_SIZE: 10_000,
        ...mode.env
      })
      const results: LevelResult[] = []
      runs[shape.name][name] = results
      try {
        for (const concurrency of LEVELS) {
          const result = await closedLoop({
            url: `${gw.url}/v1/summarize`,
            concurrency,
            durationMs,
            warmupMs: 500,
            body: i => JSON.stringify({ text: `${i}. ${TEXT}` })
          })
          const ceiling = ceilingPerSec(shape, concurrency)
          results.push({ ...result, ceilingPerSec: ceiling, shareOfCeiling: result.throughputPerSec / ceiling })
          process.stdout.write(`  ${shape.name.padEnd(10)} ${name.padEnd(10)} c=${String(concurrency).padStart(3)}  ${result.throughputPerSec.toFixed(1).padStart(7)} req/s  ` +
            `${(100 * result.throughputPerSec / ceiling).toFixed(1).padStart(5)}% of ${ceiling.toFixed(1)}  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  errors ${JSON.stringify(result.errors)}\n`)
        }
      } finally {
        await gw.stop()
      }
    }
  }
  // per shape, for the default policy: its worst share of the ceiling over the levels, and its
  // p50 at one client against the endpoint's own latency for one item
  const summary: Record<string, number | string> = {}
  for (const { shape } of PLAN) {
    const learned = runs[shape.name].learned
    summary[`${shape.name}.learned.minShareOfCeiling`] = Math.min(...learned.map(r => r.shareOfCeiling))
    summary[`${shape.name}.learned.p50AtC1OverEndpointMs`] = learned[0].p50Ms - latencyMs(shape, 1)
  }
  return {
    setup: { batchMaxSize: BATCH, batchMaxWaitMs: WAIT_MS, durationMs, warmupMs: 500 },
    shapes: PLAN.map(p => p.shape),
    runs,
    summary
  }
}
