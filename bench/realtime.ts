import { closedLoop, type LoadResult } from './load.js'
import { startGateway } from './gateway-process.js'

/** Emulated endpoint: 50 ms + 5 ms per item, 4 invocations at once (issue's reference setup). */
const ENDPOINT = { LOCAL_LATENCY_BASE_MS: 50, LOCAL_LATENCY_PER_ITEM_MS: 5, LOCAL_MAX_CONCURRENCY: 4 }
const BASE_MS = 50
const PER_ITEM_MS = 5
const SLOTS = 4
const BATCH = 32
const WAIT_MS = 10
export const LEVELS = [1, 8, 32, 128]

/** Items per second the endpoint can serve at batch size b: 4·b/(50+5·b) per ms. */
export function ceilingPerSec (b: number): number {
  return 1000 * SLOTS * b / (BASE_MS + PER_ITEM_MS * b)
}

export interface Mode { name: string, env: Record<string, string | number> }
export const MODES: Mode[] = [
  { name: 'batched-adaptive', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'adaptive' } },
  { name: 'batched-eager', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'eager' } },
  { name: 'batched-wait', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'wait' } },
  { name: 'unbatched', env: { BATCH_MAX_SIZE: 1, BATCH_MAX_WAIT_MS: 0, BATCH_FLUSH_POLICY: 'eager' } }
]

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays. ' +
  'Road repairs get twice the money of last year. The vote was eleven to four.'

export interface RealtimeBench {
  setup: Record<string, number>
  ceilingBatchedPerSec: number
  ceilingUnbatchedPerSec: number
  runs: Record<string, LoadResult[]>
  summary: Record<string, number | string>
}

/** Closed-loop throughput and latency per mode and concurrency, each mode in a fresh gateway. */
export async function runRealtimeBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000)): Promise<RealtimeBench> {
  const runs: Record<string, LoadResult[]> = {}
  for (const mode of MODES) {
    const gw = await startGateway({ ...ENDPOINT, MAX_CONCURRENT_INVOCATIONS: SLOTS, QUEUE_MAX_SIZE: 10_000, ...mode.env })
    runs[mode.name] = []
    try {
      for (const concurrency of LEVELS) {
        const result = await closedLoop({
          url: `${gw.url}/v1/summarize`, concurrency, durationMs, warmupMs: 500,
          body: i => JSON.stringify({ text: `${i}. ${TEXT}` })
        })
        runs[mode.name]?.push(result)
        process.stdout.write(`  ${mode.name.padEnd(14)} c=${String(concurrency).padStart(3)}  ${result.throughputPerSec.toFixed(1).padStart(7)} req/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  errors ${JSON.stringify(result.errors)}\n`)
      }
    } finally {
      await gw.stop()
    }
  }
  const top = (name: string): LoadResult => runs[name]?.[LEVELS.length - 1] as LoadResult
  const one = (name: string): LoadResult => runs[name]?.[0] as LoadResult
  const ceiling = ceilingPerSec(BATCH)
  const batched = MODES.map(m => m.name).filter(n => n !== 'unbatched')
  return {
    setup: { ...ENDPOINT, slots: SLOTS, batchMaxSize: BATCH, batchMaxWaitMs: WAIT_MS, durationMs },
    ceilingBatchedPerSec: ceiling,
    ceilingUnbatchedPerSec: ceilingPerSec(1),
    runs,
    // per batched mode: share of the endpoint's ceiling and speed-up over unbatched at the
    // highest concurrency, and p50 at concurrency 1 against the endpoint's own 50 + 5·1 ms
    summary: Object.fromEntries(batched.flatMap(name => [
      [`${name}.saturationShareOfCeiling`, top(name).throughputPerSec / ceiling],
      [`${name}.speedupOverUnbatched`, top(name).throughputPerSec / top('unbatched').throughputPerSec],
      [`${name}.p50AtC1OverEndpointMs`, one(name).p50Ms - (BASE_MS + PER_ITEM_MS)]
    ]))
  }
}
