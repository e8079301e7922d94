import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { LOCAL_MODEL_NAME } from '../src/config.js'
import { awsModeEnv, BENCH_CREDENTIALS, startEndpoint, startGateway, type EndpointShape, type GatewayProcess } from './gateway-process.js'
import { runLoad } from './load-runner.js'
import type { LoadJobResult } from './load-worker.js'

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
  // the reference endpoint: what batching buys on 4 slots
  { name: '50+5·B', baseMs: 50, perItemMs: 5, slots: 4, levels: [32, 128] }
]
// this gateway as shipped, the same with batching off (one invocation per request, as Portkey
// makes), and the peer
const GATEWAYS = ['text2text-gateway', 'text2text-unbatched', 'portkey'] as const
type GatewayName = typeof GATEWAYS[number]

export interface PeerRun extends LoadJobResult {
  gateway: GatewayName
  shape: string
  round: number
  /** ok responses per second of the gateway process's own CPU (user + system). */
  okPerCpuSec: number
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
  setup: Record<string, unknown>
  runs: PeerRun[]
  summary: PeerSummary[]
  /** Per shape, level and variant of this gateway: its figure over Portkey's. */
  ratios: Array<{ shape: string, concurrency: number, gateway: GatewayName, okPerCpuSec: number, throughput: number }>
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

/** Where each gateway takes its request and the headers it needs. */
function target (name: GatewayName, gw: GatewayProcess, endpointUrl: string): { url: string, headers: Record<string, string> } {
  if (name !== 'portkey') return { url: `${gw.url}/v1/generate`, headers: {} }
  return {
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

/** Starts this gateway in AWS mode, its SDK pointed at the endpoint process. */
async function startThisGateway (endpointUrl: string, shape: PeerShape, batching: boolean): Promise<GatewayProcess> {
  return await startGateway({
    ...awsModeEnv(endpointUrl),
    QUEUE_MAX_SIZE: 10_000,
    // as the batching bench: invocations in flight matched to the endpoint's slots
    ...(shape.slots < 64 ? { MAX_CONCURRENT_INVOCATIONS: shape.slots, BATCH_MAX_SIZE: 32, BATCH_MAX_WAIT_MS: 10 } : {}),
    ...(batching ? {} : { BATCH_MAX_SIZE: 1, BATCH_MAX_WAIT_MS: 0, BATCH_FLUSH_POLICY: 'eager' })
  })
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

/**
 * This gateway (batched, as shipped, and unbatched) and Portkey's, each its own process, against the same local endpoint (a third
 * process), driven by the same closed-loop generator (a fourth), rounds alternating A B A B.
 */
export async function runPeerBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), rounds = 2, warmupMs = 1000): Promise<PeerBench> {
  const runs: PeerRun[] = []
  for (const shape of SHAPES) {
    const endpoint = await startEndpoint(shape)
    const gateways: Partial<Record<GatewayName, GatewayProcess>> = {}
    try {
      gateways['text2text-gateway'] = await startThisGateway(endpoint.url, shape, true)
      gateways['text2text-unbatched'] = await startThisGateway(endpoint.url, shape, false)
      gateways.portkey = await startGateway({}, { entry: PORTKEY_ENTRY, args: port => ['--headless', `--port=${port}`], readyPath: '/' })
      for (const name of GATEWAYS) {
        const t = target(name, gateways[name] as GatewayProcess, endpoint.url)
        const answer = await checkAnswer(name, t.url, t.headers)
        process.stdout.write(`  ${shape.name} ${name} answers: ${JSON.stringify(answer.slice(0, 60))}…\n`)
      }
      for (const concurrency of shape.levels) {
        for (let round = 1; round <= rounds; round++) {
          for (const name of GATEWAYS) {
            const gw = gateways[name] as GatewayProcess
            const t = target(name, gw, endpoint.url)
            const r = await runLoad({ url: t.url, headers: t.headers, concurrency, durationMs, warmupMs, bodyTemplate: BODY, pid: gw.child.pid as number })
            const run: PeerRun = { ...r, gateway: name, shape: shape.name, round, okPerCpuSec: r.ok / r.targetCpuSec }
            runs.push(run)
            process.stdout.write(`  ${shape.name.padEnd(7)} c=${String(concurrency).padStart(3)} round ${round} ${name.padEnd(19)} ${r.throughputPerSec.toFixed(0).padStart(6)} req/s  ` +
              `p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  gateway CPU ${r.targetCpuSec.toFixed(2)} s  ${run.okPerCpuSec.toFixed(0)} ok/CPU-s  errors ${JSON.stringify(r.errors)}\n`)
          }
        }
      }
    } finally {
      for (const gw of Object.values(gateways)) await gw.stop()
      await endpoint.stop()
    }
  }
  const summary: PeerSummary[] = []
  for (const shape of SHAPES) {
    for (const concurrency of shape.levels) {
      for (const gateway of GATEWAYS) {
        const rs = runs.filter(r => r.shape === shape.name && r.concurrency === concurrency && r.gateway === gateway)
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
      const of = (g: GatewayName): PeerSummary => summary.find(s => s.shape === shape.name && s.concurrency === concurrency && s.gateway === g) as PeerSummary
      for (const gateway of GATEWAYS.filter(g => g !== 'portkey')) {
        const ours = of(gateway)
        ratios.push({ shape: shape.name, concurrency, gateway, okPerCpuSec: ours.okPerCpuSec / of('portkey').okPerCpuSec, throughput: ours.throughputPerSec / of('portkey').throughputPerSec })
      }
    }
  }
  return {
    portkeyVersion: PORTKEY_VERSION,
    setup: { durationMs, warmupMs, rounds, shapes: SHAPES, body: BODY, cpu: '/proc/<pid>/stat utime+stime of the gateway process, read by the load generator at the window edges (10 ms ticks)' },
    runs,
    summary,
    ratios
  }
}
