import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { LOCAL_MODEL_NAME } from '../src/config.js'
import { BATCHER_DEFAULTS } from '../src/batching/batcher.js'
import { awsModeEnv, BENCH_CREDENTIALS, startEndpoint, startGateway, type EndpointShape, type GatewayProcess } from './gateway-process.js'
import { runLoad } from './load-runner.js'
import type { LoadJob, LoadJobResult } from './load-worker.js'
import { processTreeCpuSec } from './proc-tree.js'
import { rayServeVersion, startRayServe, type RayServe } from './ray-serve.js'

// the peer as its README starts it: node build/start-server.js --headless --port=N
const PORTKEY_ENTRY = join(dirname(createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json')), 'build', 'start-server.js')
const PORTKEY_VERSION = (createRequire(import.meta.url)('@portkey-ai/gateway/package.json') as { version: string }).version

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays. ' +
  'Road repairs get twice the money of last year. The vote was eleven to four.'
// both gateways get the same JumpStart body: this gateway's /v1/generate takes it as is
const BODY = JSON.stringify({ text_inputs: `{i}. Summarize: ${TEXT}`, max_length: 50 })

/** A local endpoint (its own process): ms = base + perItem · items, `slots` invocations at once. */
interface PeerShape extends EndpointShape { name: string, levels: number[] }
const SHAPES: PeerShape[] = [
  // requests per CPU-second: no endpoint latency, slots enough for every client (no throttling)
  { name: 'zero', baseMs: 0, perItemMs: 0, slots: 1024, levels: [32, 128] },
  // the issue's reference endpoint: what batching buys on 4 slots (1 and 8 clients here only:
  // on both shapes the peer part would pass eight minutes)
  { name: '50+5·B', baseMs: 50, perItemMs: 5, slots: 4, levels: [1, 8, 32, 128] }
]
// this gateway as shipped, the same with batching off (one invocation per request, as Portkey
// makes), and the peers: Portkey (a gateway, one to one) and Ray Serve (micro-batching in Python)
const GATEWAYS = ['text2text-gateway', 'text2text-unbatched', 'portkey', 'ray-serve'] as const
type GatewayName = typeof GATEWAYS[number]
const PEERS = ['portkey', 'ray-serve'] as const satisfies readonly GatewayName[]
type PeerName = typeof PEERS[number]

/** Ray Serve's @serve.batch batch_wait_timeout_s candidates (s), as the issue tried them; the best per level is kept. */
const RAY_BATCH_WAITS_S = [0, 0.005, 0.02]
// ms; each candidate's calibration run, after RAY_CALIBRATION_WARMUP_MS
const RAY_CALIBRATION_MS = 1000
const RAY_CALIBRATION_WARMUP_MS = 500
// ms; Ray's own CPU with no request in flight is measured over this long after its start
const RAY_IDLE_MS = 2000

export interface PeerRun extends LoadJobResult {
  gateway: GatewayName
  shape: string
  round: number
  /** ok responses per second of CPU (user + system) of the gateway's process tree. */
  okPerCpuSec: number
  /** Ray Serve only: the batch_wait_timeout_s of this run (s). */
  batchWaitS?: number
}

/** The batch wait chosen for Ray Serve at one shape and level: each candidate's short run, the best throughput kept. */
export interface RayCalibration {
  shape: string
  concurrency: number
  trials: Array<{ batchWaitS: number, throughputPerSec: number, p50Ms: number, p99Ms: number, okPerCpuSec: number, errors: Record<string, number> }>
  chosenS: number
}

export interface PeerSummary {
  gateway: GatewayName
  shape: string
  concurrency: number
  /** Pooled over the rounds: ok responses / gateway CPU seconds. */
  okPerCpuSec: number
  /** Mean over the rounds. */
  throughputPerSec: number
  p50Ms: number
  p99Ms: number
  errors: Record<string, number>
}

export interface PeerBench {
  portkeyVersion: string
  /** Ray's version (where python3 imports it), why Ray Serve was not measured (on some shape or at all), its batch waits and idle CPU per shape. */
  ray: { version?: string, skipped?: string, calibration: RayCalibration[], idleCpuPerSec: Record<string, number> }
  setup: Record<string, unknown>
  runs: PeerRun[]
  summary: PeerSummary[]
  /** Per shape, level, variant of this gateway and peer: this gateway's figure over the peer's. */
  ratios: Array<{ shape: string, concurrency: number, gateway: GatewayName, peer: PeerName, okPerCpuSec: number, throughput: number }>
}

/** One request through `gateway`; throws unless it answers 200 with a non-empty summary. */
async function checkAnswer (name: GatewayName, url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: BODY.replace('{i}', 'check') })
  const text = await res.text()
  const summary = res.status === 200 ? (JSON.parse(text) as { generated_texts?: unknown[] }).generated_texts?.[0] : undefined
  const first = Array.isArray(summary) ? summary[0] : summary
  if (typeof first !== 'string' || first.length === 0) throw new Error(`${name} answered ${res.status}: ${text}`)
  return first
}

/** A contender while its shape is measured: where it takes requests, the headers it needs, the root of its process tree. */
interface Contender { url: string, headers: Record<string, string>, pid: number, stop: () => Promise<unknown> }

/** Where a gateway process takes its request and the headers it needs. */
function target (name: GatewayName, gw: GatewayProcess, endpointUrl: string): Contender {
  const common = { pid: gw.child.pid as number, stop: gw.stop }
  if (name !== 'portkey') return { ...common, url: `${gw.url}/v1/generate`, headers: {} }
  return {
    ...common,
    url: `${gw.url}/v1/endpoints/${LOCAL_MODEL_NAME}/invocations`,
    headers: {
      'x-portkey-provider': 'sagemaker',
      'x-portkey-custom-host': endpointUrl,
      'x-portkey-aws-access-key-id': BENCH_CREDENTIALS.accessKeyId,
      'x-portkey-aws-secret-access-key': BENCH_CREDENTIALS.secretAccessKey,
      'x-portkey-aws-region': 'us-east-1'
    }
  }
}

// as the batching bench: invocations in flight matched to the endpoint's slots where it has few,
// else the gateway's default; Ray Serve gets the same bound (threads, max_concurrent_batches)
const inFlight = (shape: PeerShape): number => shape.slots < 64 ? shape.slots : BATCHER_DEFAULTS.maxConcurrent

/** Starts this gateway in AWS mode, its SDK pointed at the endpoint process. */
async function startThisGateway (endpointUrl: string, shape: PeerShape, batching: boolean): Promise<GatewayProcess> {
  return await startGateway({
    ...awsModeEnv(endpointUrl),
    QUEUE_MAX_SIZE: 10_000,
    ...(shape.slots < 64 ? { MAX_CONCURRENT_INVOCATIONS: inFlight(shape), BATCH_MAX_SIZE: 32, BATCH_MAX_WAIT_MS: 10 } : {}),
    ...(batching ? {} : { BATCH_MAX_SIZE: 1, BATCH_MAX_WAIT_MS: 0, BATCH_FLUSH_POLICY: 'eager' })
  })
}

/** Ray Serve's batch wait at one level: each candidate for a short run, the best throughput (then ok per CPU-second) kept. */
async function calibrateRay (ray: RayServe, job: Omit<LoadJob, 'durationMs' | 'warmupMs'>, shape: string): Promise<RayCalibration> {
  const trials: RayCalibration['trials'] = []
  for (const batchWaitS of RAY_BATCH_WAITS_S) {
    await ray.setBatchWait(batchWaitS)
    const r = await runLoad({ ...job, durationMs: RAY_CALIBRATION_MS, warmupMs: RAY_CALIBRATION_WARMUP_MS })
    trials.push({ batchWaitS, throughputPerSec: r.throughputPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, okPerCpuSec: r.ok / r.targetCpuSec, errors: r.errors })
  }
  const best = [...trials].sort((a, b) => b.throughputPerSec - a.throughputPerSec || b.okPerCpuSec - a.okPerCpuSec)[0] as RayCalibration['trials'][number]
  await ray.setBatchWait(best.batchWaitS)
  return { shape, concurrency: job.concurrency, trials, chosenS: best.batchWaitS }
}

/** CPU seconds per second of `pid`'s process tree while nobody sends it anything. */
async function idleCpuPerSec (pid: number): Promise<number> {
  const before = processTreeCpuSec(pid)
  await new Promise(resolve => setTimeout(resolve, RAY_IDLE_MS))
  return (processTreeCpuSec(pid) - before) / (RAY_IDLE_MS / 1000)
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

/**
 * This gateway (batched, as shipped, and unbatched), Portkey's and a Ray Serve app, each its own process (tree), against the same
 * local endpoint (another process), driven by the same closed-loop generator (another), rounds alternating A B C D A B C D.
 * Ray Serve is left out, with a message, where python3 cannot import it.
 */
export async function runPeerBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), rounds = 2, warmupMs = 1000): Promise<PeerBench> {
  const runs: PeerRun[] = []
  const ray: PeerBench['ray'] = { ...rayServeVersion(), calibration: [], idleCpuPerSec: {} }
  if (ray.skipped !== undefined) process.stdout.write(`  Ray Serve skipped: ${ray.skipped}\n`)
  for (const shape of SHAPES) {
    const endpoint = await startEndpoint(shape)
    const contenders: Partial<Record<GatewayName, Contender>> = {}
    try {
      contenders['text2text-gateway'] = target('text2text-gateway', await startThisGateway(endpoint.url, shape, true), endpoint.url)
      contenders['text2text-unbatched'] = target('text2text-unbatched', await startThisGateway(endpoint.url, shape, false), endpoint.url)
      contenders.portkey = target('portkey', await startGateway({}, { entry: PORTKEY_ENTRY, args: port => ['--headless', `--port=${port}`], readyPath: '/' }), endpoint.url)
      let rayServe: RayServe | undefined
      const started = Date.now()
      if (ray.version !== undefined && ray.skipped === undefined) {
        try {
          rayServe = await startRayServe({ endpointUrl: endpoint.url, concurrency: inFlight(shape), batchWaitS: RAY_BATCH_WAITS_S[1] as number })
        } catch (err) {
          // Ray failing to start costs its row, not the rest of the comparison
          ray.skipped = `Ray Serve did not start on ${shape.name}: ${(err as Error).message}`
          process.stdout.write(`  ${ray.skipped}\n`)
        }
      }
      if (rayServe !== undefined) {
        const { url, pid, stop } = rayServe
        contenders['ray-serve'] = {
          url,
          headers: {},
          pid,
          stop: async () => {
            const killed = await stop()
            if (killed.length > 0) process.stdout.write(`  ${shape.name} ray-serve did not stop within its timeout: killed pids ${killed.join(' ')}\n`)
          }
        }
        const idle = ray.idleCpuPerSec[shape.name] = await idleCpuPerSec(rayServe.pid)
        process.stdout.write(`  ${shape.name} ray-serve ${String(ray.version)} up in ${((Date.now() - started) / 1000).toFixed(1)} s, ${inFlight(shape)} in flight; idle, its process tree uses ${idle.toFixed(3)} CPU-s/s\n`)
      }
      const names = GATEWAYS.filter(name => contenders[name] !== undefined)
      for (const name of names) {
        const c = contenders[name] as Contender
        const answer = await checkAnswer(name, c.url, c.headers)
        process.stdout.write(`  ${shape.name} ${name} answers: ${JSON.stringify(answer.slice(0, 60))}…\n`)
      }
      for (const concurrency of shape.levels) {
        // each contender's process tree: Ray's is a driver, GCS, raylet, agents and actors; the gateways are one process each
        const job = (c: Contender): Omit<LoadJob, 'durationMs' | 'warmupMs'> => ({ url: c.url, headers: c.headers, concurrency, bodyTemplate: BODY, pid: c.pid, cpuOf: 'tree' })
        let batchWaitS: number | undefined
        if (rayServe !== undefined) {
          const cal = await calibrateRay(rayServe, job(contenders['ray-serve'] as Contender), shape.name)
          ray.calibration.push(cal)
          batchWaitS = cal.chosenS
          process.stdout.write(`  ${shape.name.padEnd(7)} c=${String(concurrency).padStart(3)} ray-serve batch_wait_timeout_s ${cal.trials.map(t => `${t.batchWaitS}: ${t.throughputPerSec.toFixed(0)} req/s`).join(', ')}; kept ${cal.chosenS}\n`)
        }
        for (let round = 1; round <= rounds; round++) {
          for (const name of names) {
            const r = await runLoad({ ...job(contenders[name] as Contender), durationMs, warmupMs })
            const run: PeerRun = { ...r, gateway: name, shape: shape.name, round, okPerCpuSec: r.ok / r.targetCpuSec, ...(name === 'ray-serve' ? { batchWaitS } : {}) }
            runs.push(run)
            process.stdout.write(`  ${shape.name.padEnd(7)} c=${String(concurrency).padStart(3)} round ${round} ${name.padEnd(19)} ${r.throughputPerSec.toFixed(0).padStart(6)} req/s  ` +
              `p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  server CPU ${r.targetCpuSec.toFixed(2)} s  ${run.okPerCpuSec.toFixed(0)} ok/CPU-s  errors ${JSON.stringify(r.errors)}\n`)
          }
        }
      }
    } finally {
      for (const c of Object.values(contenders)) await c.stop()
      await endpoint.stop()
    }
  }
  const measured = GATEWAYS.filter(g => runs.some(r => r.gateway === g))
  const summary: PeerSummary[] = []
  for (const shape of SHAPES) {
    for (const concurrency of shape.levels) {
      for (const gateway of measured) {
        const rs = runs.filter(r => r.shape === shape.name && r.concurrency === concurrency && r.gateway === gateway)
        if (rs.length === 0) continue
        const errors: Record<string, number> = {}
        for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
        summary.push({
          gateway,
          shape: shape.name,
          concurrency,
          okPerCpuSec: sum(rs.map(r => r.ok)) / sum(rs.map(r => r.targetCpuSec)),
          throughputPerSec: sum(rs.map(r => r.throughputPerSec)) / rs.length,
          p50Ms: sum(rs.map(r => r.p50Ms)) / rs.length,
          p99Ms: Math.max(...rs.map(r => r.p99Ms)),
          errors
        })
      }
    }
  }
  const ratios: PeerBench['ratios'] = []
  for (const shape of SHAPES) {
    for (const concurrency of shape.levels) {
      const of = (g: GatewayName): PeerSummary | undefined => summary.find(s => s.shape === shape.name && s.concurrency === concurrency && s.gateway === g)
      for (const peer of PEERS) {
        const theirs = of(peer)
        if (theirs === undefined) continue
        for (const gateway of ['text2text-gateway', 'text2text-unbatched'] as const) {
          const ours = of(gateway) as PeerSummary
          ratios.push({ shape: shape.name, concurrency, gateway, peer, okPerCpuSec: ours.okPerCpuSec / theirs.okPerCpuSec, throughput: ours.throughputPerSec / theirs.throughputPerSec })
        }
      }
    }
  }
  return {
    portkeyVersion: PORTKEY_VERSION,
    ray,
    setup: {
      durationMs,
      warmupMs,
      rounds,
      shapes: SHAPES.map(s => ({ ...s, inFlight: inFlight(s) })),
      body: BODY,
      cpu: '/proc/<pid>/stat utime+stime+cutime+cstime summed over the contender\'s process tree (the root and every descendant by ppid), read by the load generator at the window edges (10 ms ticks)',
      ray: { app: 'bench/ray/serve_app.py', ingress: 'direct (RAY_SERVE_ENABLE_DIRECT_INGRESS=1)', maxBatchSize: 32, batchWaitCandidatesS: RAY_BATCH_WAITS_S, calibrationMs: RAY_CALIBRATION_MS, calibrationWarmupMs: RAY_CALIBRATION_WARMUP_MS }
    },
    runs,
    summary,
    ratios
  }
}
