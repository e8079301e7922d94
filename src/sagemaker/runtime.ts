import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime'
import { InvokeError } from '../batching/errors.js'
import type { InvokeFn, InvokeRequest } from '../batching/batcher.js'
import type { RuntimeClient } from './clients.js'
import { classifyContractError, InputRefused } from './contracts/classify.js'
import { jumpstartList } from './contracts/jumpstart-list.js'
import { sequencesPerInput } from './contracts/parameters.js'
import { StreamFailure, type ContainerContract } from './contracts/types.js'
import { createStreamInvoker, type StreamInvokeFn } from './stream-invoker.js'
import { ResponseShapeError } from './response-shapes.js'
import { SAGEMAKER_MAX_PAYLOAD_BYTES } from './rules.js'

/** Maps an SDK or network error to the batcher's three kinds for today's list container, keeping the original as cause. */
export function classifyInvokeError (err: unknown, aborted: boolean): InvokeError {
  return classifyContractError(jumpstartList, err, aborted)
}

/**
 * The request body of `req` for `contract`: the batcher's own body for the list contract (the
 * one its limits were checked on); the contract's payload for any other, which the realtime
 * service's batchers size with a margin (src/realtime/batchers.ts) and which is checked here
 * against SageMaker's ceiling once more, so no body over it ever leaves.
 */
function bodyOf (contract: ContainerContract, req: InvokeRequest): Buffer {
  if (contract === jumpstartList) return Buffer.from(req.body, 'utf8')
  let text: string
  try {
    text = contract.buildPayload(req.inputs, req.params)
  } catch (err) {
    throw new InvokeError('fatal', `the ${contract.name} contract cannot carry this payload: ${(err as Error).message}`, { cause: err })
  }
  const body = Buffer.from(text, 'utf8')
  if (body.length > SAGEMAKER_MAX_PAYLOAD_BYTES) throw new InvokeError('model', `the ${contract.name} payload is ${body.length} bytes, over SageMaker's ${SAGEMAKER_MAX_PAYLOAD_BYTES}-byte limit`)
  return body
}

/**
 * The one code path to the model: sends one payload of the batcher's, aborted when the batcher
 * gives up on it (every caller gone), built, read and its errors classified by the endpoint's
 * container contract (default: jumpstart-list, the batcher's own list body, any response shape
 * JumpStart containers produce).
 */
export function createInvoker (runtime: RuntimeClient, contract: ContainerContract = jumpstartList): InvokeFn {
  const { client, handler } = runtime
  const stream = contract.streams ? createStreamInvoker(runtime) : undefined
  return async (req: InvokeRequest): Promise<string[][]> => {
    const sink = req.tokenSinks?.[0]
    if (stream !== undefined && sink !== undefined && req.inputs.length === 1) return await streamed(stream, contract, req, sink)
    // a fresh buffer per send: the handler finds req.signal by this object's identity
    const body = bodyOf(contract, req)
    handler.bind(body, req.signal)
    let raw: Uint8Array | undefined
    try {
      const out = await client.send(new InvokeEndpointCommand({
        EndpointName: req.endpoint,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: body
      }))
      raw = out.Body
    } catch (err) {
      throw classifyContractError(contract, err, req.signal.aborted)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(raw ?? new Uint8Array()).toString('utf8'))
    } catch (err) {
      throw new InvokeError('model', 'the endpoint returned a body that is not JSON', { cause: err })
    }
    try {
      return contract.parseResponse(parsed, req.inputs.length, sequencesPerInput(contract, req.params))
    } catch (err) {
      if (err instanceof ResponseShapeError) throw new InvokeError('model', err.message, { cause: err })
      throw err
    }
  }
}

/**
 * One input's generation streamed (InvokeEndpointWithResponseStream), each token handed to
 * `sink` as it arrives; resolves with the whole text as InvokeEndpoint's answer would. Once a
 * token went out nothing may be retried (the caller would see it twice): a failure then is a
 * `model` error (this input's) or `fatal`, never `retryable`.
 */
async function streamed (stream: StreamInvokeFn, contract: ContainerContract, req: InvokeRequest, sink: (text: string) => void): Promise<string[][]> {
  let sent = false
  try {
    for await (const event of stream({ endpoint: req.endpoint, contract, input: req.inputs[0], params: req.params, signal: req.signal })) {
      if (event.type === 'done') return [[event.text]]
      sent = true
      sink(event.text)
    }
  } catch (err) {
    if (!(err instanceof StreamFailure)) throw err
    // TGI validates inside generate_stream: a refusal of the input arrives as its first event
    if (err.errorType === 'validation' && !sent) throw new InputRefused(err.message, { cause: err })
    if (err.errorType === 'overloaded' && !sent) throw new InvokeError('retryable', err.message, { cause: err })
    // the stream's own breaks and an abort are the endpoint's or the caller's; any error the
    // container reports (TGI's validation, generation, incomplete_generation; LMI's error line)
    // is this input's, and sending it again cannot help
    if (['ModelStreamError', 'InternalStreamFailure', 'aborted'].includes(err.errorType)) throw new InvokeError(sent ? 'fatal' : 'retryable', err.message, { cause: err })
    throw new InvokeError('model', err.message, { cause: err })
  }
  throw new InvokeError('model', 'the stream ended without the final text')
}
