import { fileURLToPath } from 'node:url'
import { LOCAL_MODEL_NAME } from '../src/config.js'
import { closedLoop, type LoadResult } from './load.js'
import { freePort, startGateway } from './gateway-process.js'
import { runInvokeCostBench, type InvokeCost } from './invoke-cost.js'

const BARE_ENTRY = fileURLToPath(new URL('./bare-server.js', import.meta.url))
const RAW_INVOKER_ENTRY = fileURLToPath(new URL('./raw-invoker-server.js', import.meta.url))
const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays. ' +
  'Road repairs get twice the money of last year. The vote was eleven to four.'

export interface OverheadBench {
  concurrency: number
  rounds: Array<{ bare: LoadResult, gateway: LoadResult, gatewayRawInvoker: LoadResult }>
  bareMedianPerSec: number
  gatewayMedianPerSec: number
  /** The target's figure: the gateway as shipped over the bare route. */
  ratio: number
  /** The same gateway with payloads sent as bare HTTP POSTs instead of through the AWS SDK. */
  rawInvokerMedianPerSec: number
  rawInvokerRatio: number
  /** Mean items per endpoint invocation in the gateway's rounds (its own /metrics). */
  gatewayMeanBatch: number
  /** Where the difference goes: each invocation's client-side CPU, SDK against bare HTTP. */
  invokeCost: InvokeCost
}

/** Mean of a Prometheus histogram from its _sum and _count lines. */
function histogramMean (metrics: string, name: string): number {
  const read = (suffix: string): number => Number(new RegExp(`^${name}_${suffix} (\\S+)$`, 'm').exec(metrics)?.[1])
  return read('sum') / read('count')
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/**
 * /v1/summarize through the whole gateway (batcher, SDK, local endpoint with zero latency)
 * against a bare Fastify route doing the same validation, alternating rounds in one run. A
 * third process, the gateway with a bare-HTTP invoker, shows what the AWS SDK costs.
 */
export async function runOverheadBench (durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000), rounds = 3, concurrency = 32): Promise<OverheadBench> {
  const sagemakerPort = await freePort()
  const gateway = await startGateway({ LOCAL_LATENCY_BASE_MS: 0, LOCAL_LATENCY_PER_ITEM_MS: 0, QUEUE_MAX_SIZE: 10_000, LOCAL_SAGEMAKER_PORT: sagemakerPort })
  const bare = await startGateway({}, { entry: BARE_ENTRY })
  const rawInvoker = await startGateway({ LOCAL_LATENCY_BASE_MS: 0, LOCAL_LATENCY_PER_ITEM_MS: 0, QUEUE_MAX_SIZE: 10_000 }, { entry: RAW_INVOKER_ENTRY })
  const out: OverheadBench['rounds'] = []
  let gatewayMeanBatch: number
  let invokeCost: InvokeCost
  try {
    for (let r = 0; r < rounds; r++) {
      const body = (i: number): string => JSON.stringify({ text: `${i}. ${TEXT}` })
      const b = await closedLoop({ url: `${bare.url}/v1/summarize`, concurrency, durationMs, warmupMs: 1500, body })
      const g = await closedLoop({ url: `${gateway.url}/v1/summarize`, concurrency, durationMs, warmupMs: 1500, body })
      const x = await closedLoop({ url: `${rawInvoker.url}/v1/summarize`, concurrency, durationMs, warmupMs: 1500, body })
      out.push({ bare: b, gateway: g, gatewayRawInvoker: x })
      process.stdout.write(`  round ${r + 1}: bare ${b.throughputPerSec.toFixed(0)} req/s, gateway ${g.throughputPerSec.toFixed(0)} req/s, ratio ${(g.throughputPerSec / b.throughputPerSec).toFixed(3)}; ` +
        `with a bare-HTTP invoker ${x.throughputPerSec.toFixed(0)} req/s, ratio ${(x.throughputPerSec / b.throughputPerSec).toFixed(3)}\n`)
    }
    gatewayMeanBatch = histogramMean(await (await fetch(`${gateway.url}/metrics`)).text(), 't2t_batch_size')
    // the gateway process is idle now; its local endpoint answers this process's calls
    invokeCost = await runInvokeCostBench(`http://127.0.0.1:${sagemakerPort}`, LOCAL_MODEL_NAME, Math.max(1, Math.round(gatewayMeanBatch)))
  } finally {
    await gateway.stop()
    await bare.stop()
    await rawInvoker.stop()
  }
  const bareMedian = median(out.map(r => r.bare.throughputPerSec))
  const gatewayMedian = median(out.map(r => r.gateway.throughputPerSec))
  const rawInvokerMedian = median(out.map(r => r.gatewayRawInvoker.throughputPerSec))
  return {
    concurrency,
    rounds: out,
    bareMedianPerSec: bareMedian,
    gatewayMedianPerSec: gatewayMedian,
    ratio: gatewayMedian / bareMedian,
    rawInvokerMedianPerSec: rawInvokerMedian,
    rawInvokerRatio: rawInvokerMedian / bareMedian,
    gatewayMeanBatch,
    invokeCost
  }
}
