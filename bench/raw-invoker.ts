// The overhead benchmark's counterfactual: the gateway with InvokeEndpoint sent as a bare
// HTTP POST (unsigned, no SDK middleware) instead of through the AWS SDK. Works against the
// local stack only; it exists to measure the SDK's share of the gateway's cost, nothing else.
import { Agent, request } from 'node:http'
import type { InvokeFn } from '../src/batching/batcher.js'
import { InvokeError } from '../src/batching/errors.js'
import { parseListResponse } from '../src/sagemaker/response-shapes.js'

/** POSTs a JSON body; resolves with the status and the whole response body. */
export async function postJson (agent: Agent, url: URL, body: string, signal?: AbortSignal): Promise<{ status: number, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, signal, headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** An InvokeFn over node:http to `<sagemakerUrl>/endpoints/<endpoint>/invocations`. */
export function createRawInvoker (sagemakerUrl: string, maxSockets: number): InvokeFn {
  const agent = new Agent({ keepAlive: true, maxSockets })
  return async (req) => {
    let res: { status: number, body: Buffer }
    try {
      res = await postJson(agent, new URL(`/endpoints/${encodeURIComponent(req.endpoint)}/invocations`, sagemakerUrl), req.body, req.signal)
    } catch (err) {
      throw new InvokeError(req.signal.aborted ? 'fatal' : 'retryable', (err as Error).message, { cause: err })
    }
    if (res.status === 424) throw new InvokeError('model', res.body.toString('utf8'))
    if (res.status === 429 || res.status >= 500) throw new InvokeError('retryable', `status ${res.status}`)
    if (res.status !== 200) throw new InvokeError('fatal', `status ${res.status}`)
    const k = typeof req.params.num_return_sequences === 'number' ? req.params.num_return_sequences : 1
    return parseListResponse(JSON.parse(res.body.toString('utf8')), req.inputs.length, k)
  }
}
