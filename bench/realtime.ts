import { LOCAL_MODEL_NAME } from '../src/config.js'
import { DEFAULT_PROMPT } from '../schemas/realtime.js'
import { awsModeEnv, startEndpoint, startGateway, startHopProxy, type EndpointShape, type GatewayProcess } from './gateway-process.js'
import { runLoad } from './load-runner.js'
import type { LoadResult } from './load.js'
import type { LoadJobResult } from './load-worker.js'

/** An emulated endpoint of one latency shape. */
export interface Shape extends EndpointShape { name: string }

// the latency curves of the grid: balanced (the issue's reference), base- and per-item-dominated
const CURVES = [
  { name: '50+5·B', baseMs: 50, perItemMs: 5 },
  { name: '200+0.5·B', baseMs: 200, perItemMs: 0.5 },
  { name: '5+10·B', baseMs: 5, perItemMs: 10 }
]
const GRID_SLOTS = [1, 2, 4, 8]
/** Every curve with 1, 2, 4 and 8 invocation slots; named `curve/S`. */
export const SHAPES: Shape[] = CURVES.flatMap(c => GRID_SLOTS.map(slots => ({ ...c, name: `${c.name}/${slots}`, slots })))
export const BATCH = 32
const WAIT_MS = 10
export const LEVELS = [1, 8, 32, 64, 128]

/** ms one invocation of `items` takes on `shape`. */
export function latencyMs (shape: Shape, items: number): number {
  return shape.baseMs + shape.perItemMs * items
}

/** The batch each slot carries when C clients share S slots evenly: min(BATCH, ⌈C/S⌉). */
export function evenBatch (shape: Shape, clients: number): number {
  return Math.min(BATCH, Math.ceil(clients / shape.slots))
}

/**
 * Answers per second of a run as the grid compares them: from each client's own spacing
 * (`paceRatePerSec`), where every client had two answers in the window, else their count.
 */
export function rateOf (r: Pick<LoadResult, 'paceRatePerSec' | 'throughputPerSec'>): number {
  return Number.isFinite(r.paceRatePerSec) ? r.paceRatePerSec : r.throughputPerSec
}

/**
 * The most any gateway gets from `shape` with `clients` closed-loop callers (items/s) by the
 * endpoint's formula: every slot busy with an even share, C / latency(min(BATCH, ⌈C/S⌉)); when
 * C exceeds S · BATCH only S · BATCH of them can be in flight.
 */
export function ceilingPerSec (shape: Shape, clients: number): number {
  return 1000 * Math.min(clients, shape.slots * BATCH) / latencyMs(shape, evenBatch(shape, clients))
}

/**
 * ms of unmeasured load at a level before its window: at least `floorMs`, and three times what
 * a caller waits through the gateway at best (the direct payload latency × the payloads of the
 * even share ahead of it, ⌈C / (S · BATCH)⌉). The clients of a level start together on fresh
 * connections while the batcher still remembers the previous level's callers, so the first
 * round trips are not the steady state: with 500 ms they ended inside the window and made the
 * p99 at 128 clients (200+0.5·B on 8 slots: 2.2x p50 counted, 1.1x warmed up 1.5 s).
 */
export function levelWarmupMs (floorMs: number, direct: Pick<DirectResult, 'p50Ms' | 'clients' | 'batch'>, clients: number): number {
  const payloadsAhead = Math.ceil(clients / (direct.clients * direct.batch))
  const expected = direct.p50Ms * payloadsAhead
  return Number.isFinite(expected) ? Math.max(floorMs, Math.ceil(3 * expected)) : floorMs
}

export interface Mode { name: string, env: Record<string, string | number> }
export const MODES: Mode[] = [
  { name: 'learned', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'learned' } },
  { name: 'adaptive', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'adaptive' } },
  { name: 'eager', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'eager' } },
  { name: 'wait', env: { BATCH_MAX_SIZE: BATCH, BATCH_MAX_WAIT_MS: WAIT_MS, BATCH_FLUSH_POLICY: 'wait' } },
  { name: 'unbatched', env: { BATCH_MAX_SIZE: 1, BATCH_MAX_WAIT_MS: 0, BATCH_FLUSH_POLICY: 'eager' } }
]
// every mode on the reference shape (4 slots); the default against the previous default on the
// other curves' 4-slot shapes; the default alone on the rest of the grid
const PLAN: Array<{ shape: Shape, modes: string[] }> = SHAPES.map(shape => ({
  shape,
  modes: shape.name === '50+5·B/4' ? MODES.map(m => m.name) : shape.slots === 4 ? ['learned', 'adaptive'] : ['learned']
}))

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays. ' +
  'Road repairs get twice the money of last year. The vote was eleven to four.'
/** A `/v1/summarize` body, numbered per request (`{i}`). */
export const BODY = JSON.stringify({ text: `{i}. ${TEXT}` })
/** A list payload of `batch` texts for the endpoint itself, the first numbered per request (`{i}`). */
function listPayload (batch: number): string {
  const texts = Array.from({ length: batch }, (_, k) => JSON.stringify(`${DEFAULT_PROMPT}${k === 0 ? '{i}' : k}. ${TEXT}`))
  return `{"text_inputs":[${texts.join(',')}]}`
}
// ms of unmeasured load on each fresh gateway before its levels
export const GATEWAY_WARMUP_MS = 3000

/** The endpoint called directly, every slot kept busy with an even share: its own ceiling, measured. */
export interface DirectResult {
  concurrency: number
  /** Closed-loop clients (min(C, S)) and the inputs each payload carries (⌈C/S⌉). */
  clients: number
  batch: number
  /** Inputs answered per second. */
  itemsPerSec: number
  /** Per payload, send to last byte. */
  p50Ms: number
  p99Ms: number
  /** The same clients and payloads through one bare HTTP hop (`hop-proxy.ts`): what the hop alone costs. */
  viaHop: { itemsPerSec: number, p50Ms: number, p99Ms: number, errors: Record<string, number> }
}

/** One closed-loop run through the gateway, with its share of both ceilings. */
export interface LevelResult extends LoadResult {
  /** By the endpoint's formula. */
  ceilingPerSec: number
  shareOfCeiling: number
  /** As measured in this run (`DirectResult.itemsPerSec`): what the endpoint gives a client that batches perfectly. */
  directPerSec: number
  shareOfDirect: number
  /** The endpoint through one bare hop (`DirectResult.viaHop`), the reference a cell's miss is read against. */
  hopPerSec: number
  shareOfHop: number
}

export interface RealtimeBench {
  setup: Record<string, unknown>
  shapes: Shape[]
  /** Per shape name: the endpoint's own ceiling per level of LEVELS. */
  direct: Record<string, DirectResult[]>
  /** Per shape name, per mode name: one result per level of LEVELS. */
  runs: Record<string, Record<string, LevelResult[]>>
  summary: Record<string, number | string>
}

// BENCH_SHAPES / BENCH_MODES / BENCH_LEVELS (comma-separated) narrow a run while tuning
const pick = <T>(all: T[], env: string | undefined, name: (t: T) => string): T[] => {
  const wanted = (env ?? '').split(',').filter(Boolean)
  return wanted.length === 0 ? all : all.filter(t => wanted.includes(name(t)))
}

const pct = (x: number): string => `${(100 * x).toFixed(1).padStart(5)}%`

/**
 * Closed-loop throughput and latency per shape, mode and concurrency. The endpoint is its own
 * process (as on AWS, where it is remote), each (shape, mode) a fresh gateway in AWS mode
 * against it, and the clients a third process. Per level the endpoint is first driven
 * directly with payloads of the even share from min(C, S) clients: its ceiling as measured,
 * the same machine and the same HTTP hop, which the gateway's throughput is also set against.
 * The same clients and payloads then go through one bare HTTP hop (`hop-proxy.ts`, a process of
 * its own, warmed up as long as a gateway): what the hop alone costs, the reference a cell's
 * miss is read against.
 */
export async function runRealtimeBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), warmupMs = 1000): Promise<RealtimeBench> {
  const levels = pick(LEVELS, process.env.BENCH_LEVELS, String)
  const plan = pick(PLAN, process.env.BENCH_SHAPES, p => p.shape.name)
    .map(p => ({ shape: p.shape, modes: pick(p.modes, process.env.BENCH_MODES, String) }))
  const runs: RealtimeBench['runs'] = {}
  const direct: RealtimeBench['direct'] = {}
  for (const { shape, modes } of plan) {
    const endpoint = await startEndpoint(shape)
    let hop: GatewayProcess | undefined
    try {
      hop = await startHopProxy(endpoint.url)
      const hopPid = hop.child.pid as number
      // JIT warm-up, unmeasured, as long as each gateway gets: a hop that has served for a while
      await runLoad({ url: `${hop.url}/endpoints/${LOCAL_MODEL_NAME}/invocations`, concurrency: shape.slots, durationMs: GATEWAY_WARMUP_MS, warmupMs: 0, headers: {}, bodyTemplate: listPayload(1), pid: hopPid })
      direct[shape.name] = []
      for (const concurrency of levels) {
        const batch = evenBatch(shape, concurrency)
        const clients = Math.min(concurrency, shape.slots)
        const payload = listPayload(batch)
        // the even share from min(C, S) clients, straight to the endpoint and then through the hop
        const perfect = async (base: string, pid: number): Promise<LoadJobResult> => await runLoad({
          url: `${base}/endpoints/${LOCAL_MODEL_NAME}/invocations`,
          concurrency: clients,
          durationMs,
          warmupMs,
          headers: {},
          bodyTemplate: payload,
          pid
        })
        const r = await perfect(endpoint.url, endpoint.child.pid as number)
        const h = await perfect(hop.url, hopPid)
        // a hop that died or answered nothing would read as a floor of zero
        if (h.ok === 0 || hop.child.exitCode !== null) throw new Error(`the bare hop failed at ${shape.name}, ${concurrency} clients: ${h.ok} answers, errors ${JSON.stringify(h.errors)}, exit ${hop.child.exitCode}`)
        const viaHop = { itemsPerSec: rateOf(h) * batch, p50Ms: h.p50Ms, p99Ms: h.p99Ms, errors: h.errors }
        const result: DirectResult = { concurrency, clients, batch, itemsPerSec: rateOf(r) * batch, p50Ms: r.p50Ms, p99Ms: r.p99Ms, viaHop }
        direct[shape.name].push(result)
        process.stdout.write(`  ${shape.name.padEnd(10)} ${'direct'.padEnd(10)} c=${String(concurrency).padStart(3)}  ${result.itemsPerSec.toFixed(1).padStart(7)} items/s ` +
          `(${clients} × ${batch}) ${pct(result.itemsPerSec / ceilingPerSec(shape, concurrency))} of ${ceilingPerSec(shape, concurrency).toFixed(1)}  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  errors ${JSON.stringify(r.errors)}\n`)
        process.stdout.write(`  ${shape.name.padEnd(10)} ${'1 hop'.padEnd(10)} c=${String(concurrency).padStart(3)}  ${viaHop.itemsPerSec.toFixed(1).padStart(7)} items/s ` +
          `(${clients} × ${batch}) ${pct(viaHop.itemsPerSec / result.itemsPerSec)} of the measured ceiling  p50 ${h.p50Ms.toFixed(1)} ms  p99 ${h.p99Ms.toFixed(1)} ms  errors ${JSON.stringify(h.errors)}\n`)
      }
      runs[shape.name] = {}
      for (const name of modes) {
        const mode = MODES.find(m => m.name === name) as Mode
        const gw = await startGateway({ ...awsModeEnv(endpoint.url), MAX_CONCURRENT_INVOCATIONS: shape.slots, QUEUE_MAX_SIZE: 10_000, ...mode.env })
        const results: LevelResult[] = []
        runs[shape.name][name] = results
        try {
          // JIT warm-up, unmeasured: a gateway that has served for a while, not one just started
          await runLoad({ url: `${gw.url}/v1/summarize`, concurrency: 64, durationMs: GATEWAY_WARMUP_MS, warmupMs: 0, headers: {}, bodyTemplate: BODY, pid: gw.child.pid as number })
          for (const [i, concurrency] of levels.entries()) {
            const r = await runLoad({
              url: `${gw.url}/v1/summarize`,
              concurrency,
              durationMs,
              warmupMs: levelWarmupMs(warmupMs, direct[shape.name][i], concurrency),
              headers: {},
              bodyTemplate: BODY,
              pid: gw.child.pid as number
            })
            const ceiling = ceilingPerSec(shape, concurrency)
            const measured = direct[shape.name][i].itemsPerSec
            const hopRate = direct[shape.name][i].viaHop.itemsPerSec
            const rate = rateOf(r)
            const { targetCpuSec: _cpu, ...load } = r
            results.push({ ...load, ceilingPerSec: ceiling, shareOfCeiling: rate / ceiling, directPerSec: measured, shareOfDirect: rate / measured, hopPerSec: hopRate, shareOfHop: rate / hopRate })
            process.stdout.write(`  ${shape.name.padEnd(10)} ${name.padEnd(10)} c=${String(concurrency).padStart(3)}  ${rate.toFixed(1).padStart(7)} req/s  ` +
              `${pct(rate / measured)} of the measured ceiling (${pct(rate / ceiling).trim()} of the formula's ${ceiling.toFixed(1)}, ${pct(rate / hopRate).trim()} of one bare hop)  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms (${(r.p99Ms / r.p50Ms).toFixed(2)}x)  errors ${JSON.stringify(r.errors)}\n`)
          }
        } finally {
          await gw.stop()
        }
      }
    } finally {
      await hop?.stop()
      await endpoint.stop()
    }
  }
  // per shape, for each policy run: its worst share over the levels, and its p50 at one client
  // against the endpoint's own (called directly, one input) and the formula's
  const summary: Record<string, number | string> = {}
  for (const { shape, modes } of plan) {
    for (const mode of modes.filter(m => m === 'learned' || m === 'adaptive')) {
      const rs = runs[shape.name][mode]
      summary[`${shape.name}.${mode}.minShareOfDirect`] = Math.min(...rs.map(r => r.shareOfDirect))
      summary[`${shape.name}.${mode}.minShareOfCeiling`] = Math.min(...rs.map(r => r.shareOfCeiling))
      summary[`${shape.name}.${mode}.minShareOfHop`] = Math.min(...rs.map(r => r.shareOfHop))
      // the tail at 32 and 128 clients (target p99 <= 1.3x p50)
      for (const [i, c] of levels.entries()) if (c === 32 || c === 128) summary[`${shape.name}.${mode}.p99OverP50AtC${c}`] = rs[i].p99Ms / rs[i].p50Ms
      if (levels[0] === 1) {
        summary[`${shape.name}.${mode}.p50AtC1OverDirectMs`] = rs[0].p50Ms - direct[shape.name][0].p50Ms
        summary[`${shape.name}.${mode}.p50AtC1OverHopMs`] = rs[0].p50Ms - direct[shape.name][0].viaHop.p50Ms
        summary[`${shape.name}.${mode}.p50AtC1OverFormulaMs`] = rs[0].p50Ms - latencyMs(shape, 1)
      }
    }
  }
  return {
    setup: { batchMaxSize: BATCH, batchMaxWaitMs: WAIT_MS, durationMs, warmupMs, levelWarmup: 'max(warmupMs, 3 × direct p50 × ⌈C / (S · BATCH)⌉)', gatewayWarmupMs: GATEWAY_WARMUP_MS, gatewayWarmupClients: 64, levels, processes: 'endpoint, bare hop (hop-proxy.ts), gateway (AWS mode), load generator: one process each', hopWarmupMs: GATEWAY_WARMUP_MS, hopWarmupClients: 'S, one text each' },
    shapes: plan.map(p => p.shape),
    direct,
    runs,
    summary
  }
}

/**
 * The README's micro-batching table from a run: per shape, the endpoint called directly, the
 * same through one bare hop (its share of the measured ceiling), then each policy; a cell is the share of the measured ceiling (of the formula in brackets), p50 and
 * p99 in ms.
 */
export function readmeTable (bench: RealtimeBench): string {
  const levels = bench.setup.levels as number[]
  const out = [`| shape/slots | policy | ${levels.map((c, i) => i === 0 ? `${c} client` : String(c)).join(' | ')} |`, `| --- | --- | ${levels.map(() => '---').join(' | ')} |`]
  const p = (x: number): string => `${Math.round(100 * x)}%`
  for (const shape of bench.shapes) {
    const direct = bench.direct[shape.name] ?? []
    out.push(`| ${shape.name} | *endpoint called directly* | ${direct.map(d => `${d.clients}×${d.batch}: (${p(d.itemsPerSec / ceilingPerSec(shape, d.concurrency))}), ${d.p50Ms.toFixed(0)}, ${d.p99Ms.toFixed(0)}`).join(' | ')} |`)
    out.push(`| ${shape.name} | *the same through one bare hop* | ${direct.map(d => `${p(d.viaHop.itemsPerSec / d.itemsPerSec)}, ${d.viaHop.p50Ms.toFixed(0)}, ${d.viaHop.p99Ms.toFixed(0)}`).join(' | ')} |`)
    for (const [mode, rs] of Object.entries(bench.runs[shape.name] ?? {})) {
      const label = mode === 'learned' ? '**learned** (default)' : mode === 'adaptive' ? 'adaptive (previous default)' : mode === 'unbatched' ? 'unbatched (`BATCH_MAX_SIZE=1`)' : mode
      out.push(`| ${shape.name} | ${label} | ${rs.map(r => `${p(r.shareOfDirect)} (${p(r.shareOfCeiling)}), ${r.p50Ms.toFixed(0)}, ${r.p99Ms.toFixed(0)}`).join(' | ')} |`)
    }
  }
  return out.join('\n')
}
