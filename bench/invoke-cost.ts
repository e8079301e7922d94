import { Agent } from 'node:http'
import type { InvokeRequest } from '../src/batching/batcher.js'
import { createRuntimeClient } from '../src/sagemaker/clients.js'
import { createInvoker } from '../src/sagemaker/runtime.js'
import { postJson } from './raw-invoker.js'

/** Client-side CPU of one InvokeEndpoint call: the gateway's SDK path against a bare HTTP POST. */
export interface InvokeCost {
  items: number
  calls: number
  /** µs of this process's CPU per call: node:http POST of the same body, response read whole. */
  rawHttpCpuUs: number
  /** µs per call through the gateway's invoker (AWS SDK: serialize, SigV4, middleware, parse). */
  gatewayInvokerCpuUs: number
}

const TEXT = 'The council approved the new budget on Monday after a long debate. Libraries will open on Sundays.'

/** Runs `calls` calls of `fn`, 4 at a time, after a warm-up; returns this process's CPU µs per call. */
async function cpuPerCall (calls: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 500; i++) await fn()
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < calls / 4; i++) await fn() }))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / calls
}

/**
 * The endpoint runs in another process (the gateway's local SageMaker), so this process's CPU
 * is the client side alone: what each invocation costs the gateway, whatever the batch size.
 */
export async function runInvokeCostBench (sagemakerUrl: string, endpoint: string, items = 13, calls = 8000): Promise<InvokeCost> {
  const inputs = Array.from({ length: items }, (_, i) => `${i}. ${TEXT}`)
  const body = JSON.stringify({ text_inputs: inputs })
  const url = new URL(`/endpoints/${encodeURIComponent(endpoint)}/invocations`, sagemakerUrl)
  const agent = new Agent({ keepAlive: true, maxSockets: 6 })
  const raw = async (): Promise<unknown> => await postJson(agent, url, body)
  const runtime = createRuntimeClient({ region: 'us-east-1', sagemakerEndpoint: sagemakerUrl, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }, 4)
  const invoke = createInvoker(runtime)
  const signal = new AbortController().signal
  const invokeRequest = (): InvokeRequest => ({ endpoint, params: {}, inputs, body, signal, deadline: Date.now() + 60_000, batchId: 'bench', attempt: 1 })
  try {
    // alternate twice and keep the lower figure of each: the machine is shared
    const rawRuns: number[] = []
    const sdkRuns: number[] = []
    for (let round = 0; round < 2; round++) {
      rawRuns.push(await cpuPerCall(calls, raw))
      sdkRuns.push(await cpuPerCall(calls, async () => await invoke(invokeRequest())))
    }
    return { items, calls, rawHttpCpuUs: Math.min(...rawRuns), gatewayInvokerCpuUs: Math.min(...sdkRuns) }
  } finally {
    runtime.client.destroy()
    agent.destroy()
  }
}
