// `BENCH_ONLY=tgi`: the gateway in front of a TGI endpoint at its limit. The endpoint is the
// local stack's emulated TGI container in a process of its own, with the continuous-batching
// latency model (LOCAL_TGI_STEP_MS, LOCAL_TGI_STEP_PER_REQUEST_MS, src/local/decode-loop.ts):
// its throughput rises with concurrency up to MAX_CONCURRENT_REQUESTS, past which it answers
// 429. Its saturation is measured directly in the same run (closed-loop clients calling
// InvokeEndpoint, exactly MAX_CONCURRENT_REQUESTS of them), then the gateway (AWS mode, its own
// process) at 8 to 512 closed-loop clients on /v1/generate; and the time to the first token,
// streamed through the gateway (`stream: true` on /v1/summarize) against
// InvokeEndpointWithResponseStream directly, one client.
import { request } from 'node:http'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker'
import { InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { awsModeEnv, BENCH_CREDENTIALS, startGateway, startLocalStackProcess } from './gateway-process.js'
import { runLoad } from './load-runner.js'
import { quantile } from './load.js'

const ENDPOINT = 'bench-tgi'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
/** The container: MAX_CONCURRENT_REQUESTS permits; a decode step of STEP_MS + STEP_PER_REQUEST_MS × requests. */
const MAX_CONCURRENT_REQUESTS = 64
const STEP_MS = 20
const STEP_PER_REQUEST_MS = 0.5
/** Tokens each request generates (max_new_tokens; the input's summary is longer). */
const TOKENS = 16
const LEVELS = [8, 32, 128, 512]
const TEXT = 'The council approved the new budget on Monday after a long debate that lasted well into the night and ended with applause from the gallery. ' +
  'Libraries will open on Sundays from the first of March and stay open until eight in the evening on weekdays. ' +
  'Road repairs get twice the money of last year, most of it for the bridges over the river and the ring road.'
const TTFT_ROUNDS = 40

export interface TgiLevel {
  concurrency: number
  throughputPerSec: number
  /** Of the endpoint's saturation measured directly (MAX_CONCURRENT_REQUESTS clients). */
  shareOfSaturation: number
  /** Of the endpoint called directly by min(C, MAX_CONCURRENT_REQUESTS) clients: what C callers can get at most. */
  shareOfDirectAtLevel: number
  p50Ms: number
  p99Ms: number
  /** 429s and 5xx answered to callers. */
  throttlesPassed: number
  serverErrorsPassed: number
  errors: Record<string, number>
}

export interface TgiBench {
  setup: Record<string, unknown>
  /** The endpoint called directly: req/s, p50/p99 per client count (the last: MAX_CONCURRENT_REQUESTS, the saturation). */
  direct: Array<{ clients: number, throughputPerSec: number, p50Ms: number, p99Ms: number, errors: Record<string, number> }>
  saturationPerSec: number
  levels: TgiLevel[]
  ttft: { gatewayP50Ms: number, gatewayP90Ms: number, directP50Ms: number, directP90Ms: number, differenceP50Ms: number, rounds: number }
}

/** Deploys the TGI model with the step model on the endpoint process's control plane. */
async function deploy (url: string): Promise<void> {
  const sm = new SageMakerClient({ region: 'us-east-1', endpoint: url, credentials: BENCH_CREDENTIALS })
  try {
    const Environment = {
      MAX_CONCURRENT_REQUESTS: String(MAX_CONCURRENT_REQUESTS),
      MAX_INPUT_LENGTH: '1024',
      MAX_TOTAL_TOKENS: '2048',
      LOCAL_TGI_STEP_MS: String(STEP_MS),
      LOCAL_TGI_STEP_PER_REQUEST_MS: String(STEP_PER_REQUEST_MS)
    }
    await sm.send(new CreateModelCommand({ ModelName: ENDPOINT, PrimaryContainer: { Image: TGI_IMAGE, Environment }, ExecutionRoleArn: ROLE }))
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: ENDPOINT, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: ENDPOINT, InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
    await sm.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: ENDPOINT }))
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 1 }, { EndpointName: ENDPOINT })
  } finally {
    sm.destroy()
  }
}

/** POSTs `body`; resolves with ms from send to the first chunk holding `marker`, after reading the rest. */
async function firstChunkMs (url: string, body: string, marker: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const started = performance.now()
    let at = NaN
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      res.on('data', (chunk: Buffer) => { if (Number.isNaN(at) && chunk.toString().includes(marker)) at = performance.now() - started })
      res.on('end', () => { if (res.statusCode === 200 && !Number.isNaN(at)) resolve(at); else reject(new Error(`status ${res.statusCode ?? 0}, marker ${marker} not seen`)) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** ms to the first PayloadPart through InvokeEndpointWithResponseStream. */
async function directFirstTokenMs (runtime: SageMakerRuntimeClient, body: string): Promise<number> {
  const started = performance.now()
  const out = await runtime.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: ENDPOINT, ContentType: 'application/json', Body: body }))
  let at = NaN
  for await (const event of out.Body ?? []) {
    if (Number.isNaN(at) && event.PayloadPart?.Bytes !== undefined && Buffer.from(event.PayloadPart.Bytes).toString().includes('"token"')) at = performance.now() - started
  }
  if (Number.isNaN(at)) throw new Error('no token from InvokeEndpointWithResponseStream')
  return at
}

const pct = (x: number): string => `${(100 * x).toFixed(1).padStart(5)}%`

export async function runTgiBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 6000)): Promise<TgiBench> {
  // one request takes TOKENS steps (~0.85 s at saturation): clients start spread over one of
  // them, and the window opens once every client has finished one
  const requestMs = TOKENS * (STEP_MS + STEP_PER_REQUEST_MS * MAX_CONCURRENT_REQUESTS)
  const startSpreadMs = requestMs
  const warmupMs = 2 * requestMs + 500
  const endpoint = await startLocalStackProcess({})
  try {
    await deploy(endpoint.url)
    const invocations = `${endpoint.url}/endpoints/${ENDPOINT}/invocations`
    const directBody = JSON.stringify({ inputs: `{i}. ${TEXT}`, parameters: { max_new_tokens: TOKENS } })
    const direct: TgiBench['direct'] = []
    for (const clients of [...new Set([...LEVELS.map(c => Math.min(c, MAX_CONCURRENT_REQUESTS)), MAX_CONCURRENT_REQUESTS])]) {
      const r = await runLoad({ url: invocations, concurrency: clients, durationMs, warmupMs, headers: {}, bodyTemplate: directBody, pid: endpoint.child.pid as number, startSpreadMs })
      direct.push({ clients, throughputPerSec: r.throughputPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors })
      process.stdout.write(`  direct   ${String(clients).padStart(3)} clients  ${r.throughputPerSec.toFixed(1).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(0)} ms  p99 ${r.p99Ms.toFixed(0)} ms  errors ${JSON.stringify(r.errors)}\n`)
    }
    const saturationPerSec = (direct.find(d => d.clients === MAX_CONCURRENT_REQUESTS) as TgiBench['direct'][number]).throughputPerSec

    const gw = await startGateway({ ...awsModeEnv(endpoint.url), SAGEMAKER_ENDPOINT_NAME: ENDPOINT, QUEUE_MAX_SIZE: 10_000 })
    const levels: TgiLevel[] = []
    let ttft: TgiBench['ttft']
    try {
      const body = JSON.stringify({ text_inputs: [`{i}. ${TEXT}`], max_length: TOKENS })
      // the same work per request both ways: the generated texts have the same number of words
      const viaGateway = await (await fetch(`${gw.url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.replace('{i}', '0') })).json() as { generated_texts: Array<string[] | null> }
      const viaDirect = await (await fetch(invocations, { method: 'POST', headers: { 'content-type': 'application/json' }, body: directBody.replace('{i}', '0') })).json() as Array<{ generated_text: string }>
      const words = (s: string): number => s.split(/\s+/).filter(Boolean).length
      process.stdout.write(`  tokens per request: ${words(viaDirect[0].generated_text)} directly, ${words(viaGateway.generated_texts[0]?.[0] ?? '')} through the gateway\n`)
      // JIT warm-up, unmeasured
      await runLoad({ url: `${gw.url}/v1/generate`, concurrency: MAX_CONCURRENT_REQUESTS, durationMs: 3000, warmupMs: 0, headers: {}, bodyTemplate: body, pid: gw.child.pid as number })
      for (const concurrency of LEVELS) {
        // a level's own warm-up: the queue of C callers fills before the window opens
        const levelWarmupMs = warmupMs + requestMs * Math.ceil(concurrency / MAX_CONCURRENT_REQUESTS)
        const r = await runLoad({ url: `${gw.url}/v1/generate`, concurrency, durationMs, warmupMs: levelWarmupMs, headers: {}, bodyTemplate: body, pid: gw.child.pid as number, startSpreadMs })
        const atLevel = (direct.find(d => d.clients === Math.min(concurrency, MAX_CONCURRENT_REQUESTS)) as TgiBench['direct'][number]).throughputPerSec
        const count = (test: (status: number) => boolean): number => Object.entries(r.errors).filter(([k]) => test(Number(k))).reduce((a, [, n]) => a + n, 0)
        const level: TgiLevel = {
          concurrency,
          throughputPerSec: r.throughputPerSec,
          shareOfSaturation: r.throughputPerSec / saturationPerSec,
          shareOfDirectAtLevel: r.throughputPerSec / atLevel,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          throttlesPassed: count(s => s === 429),
          serverErrorsPassed: count(s => s >= 500),
          errors: r.errors
        }
        levels.push(level)
        process.stdout.write(`  gateway c=${String(concurrency).padStart(3)}  ${r.throughputPerSec.toFixed(1).padStart(6)} req/s  ${pct(level.shareOfSaturation)} of saturation, ${pct(level.shareOfDirectAtLevel)} of direct at ${Math.min(concurrency, MAX_CONCURRENT_REQUESTS)} clients  ` +
          `p50 ${r.p50Ms.toFixed(0)} ms  p99 ${r.p99Ms.toFixed(0)} ms  429 passed ${level.throttlesPassed}  5xx passed ${level.serverErrorsPassed}  errors ${JSON.stringify(r.errors)}\n`)
      }

      // time to first token, one client, the two paths alternating
      const runtime = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: BENCH_CREDENTIALS })
      try {
        const streamBody = JSON.stringify({ inputs: TEXT, parameters: { max_new_tokens: TOKENS }, stream: true })
        const gatewayBody = JSON.stringify({ text: TEXT, parameters: { max_length: TOKENS }, stream: true })
        const g: number[] = []
        const d: number[] = []
        for (let i = 0; i < TTFT_ROUNDS + 5; i++) {
          const gm = await firstChunkMs(`${gw.url}/v1/summarize`, gatewayBody, 'event: token')
          const dm = await directFirstTokenMs(runtime, streamBody)
          // the first rounds warm the streaming paths
          if (i >= 5) { g.push(gm); d.push(dm) }
        }
        g.sort((a, b) => a - b)
        d.sort((a, b) => a - b)
        ttft = { gatewayP50Ms: quantile(g, 0.5), gatewayP90Ms: quantile(g, 0.9), directP50Ms: quantile(d, 0.5), directP90Ms: quantile(d, 0.9), differenceP50Ms: quantile(g, 0.5) - quantile(d, 0.5), rounds: TTFT_ROUNDS }
        process.stdout.write(`  time to first token, 1 client, ${TTFT_ROUNDS} rounds: gateway p50 ${ttft.gatewayP50Ms.toFixed(1)} ms (p90 ${ttft.gatewayP90Ms.toFixed(1)}), InvokeEndpointWithResponseStream directly p50 ${ttft.directP50Ms.toFixed(1)} ms (p90 ${ttft.directP90Ms.toFixed(1)}): +${ttft.differenceP50Ms.toFixed(1)} ms\n`)
      } finally {
        runtime.destroy()
      }
    } finally {
      await gw.stop()
    }
    return {
      setup: { maxConcurrentRequests: MAX_CONCURRENT_REQUESTS, stepMs: STEP_MS, stepPerRequestMs: STEP_PER_REQUEST_MS, tokensPerRequest: TOKENS, durationMs, warmupMs, startSpreadMs, levels: LEVELS, route: '/v1/generate (one input)', processes: 'endpoint (local stack, emulated TGI), gateway (AWS mode), load generator: one process each; time to first token from the bench process' },
      direct,
      saturationPerSec,
      levels,
      ttft
    }
  } finally {
    await endpoint.stop()
  }
}
