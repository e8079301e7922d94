import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime'
import { InvokeError } from '../batching/errors.js'
import type { InvokeFn, InvokeRequest } from '../batching/batcher.js'
import type { RuntimeClient } from './clients.js'
import { classifyContractError } from './contracts/classify.js'
import { jumpstartList } from './contracts/jumpstart-list.js'
import { ResponseShapeError } from './response-shapes.js'

/** Maps an SDK or network error to the batcher's three kinds for today's list container, keeping the original as cause. */
export function classifyInvokeError (err: unknown, aborted: boolean): InvokeError {
  return classifyContractError(jumpstartList, err, aborted)
}

/**
 * The one code path to the model: sends the batcher's assembled JSON list payload, aborted
 * when the batcher gives up on it (every caller gone), and reads the answer by the
 * jumpstart-list contract (any response shape JumpStart containers produce). Other contracts
 * (contracts/) are chosen per endpoint once the resolver knows an endpoint's contract.
 */
export function createInvoker ({ client, handler }: RuntimeClient): InvokeFn {
  return async (req: InvokeRequest): Promise<string[][]> => {
    // a fresh buffer per send: the handler finds req.signal by this object's identity
    const body = Buffer.from(req.body, 'utf8')
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
      throw classifyInvokeError(err, req.signal.aborted)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(raw ?? new Uint8Array()).toString('utf8'))
    } catch (err) {
      throw new InvokeError('model', 'the endpoint returned a body that is not JSON', { cause: err })
    }
    const k = typeof req.params.num_return_sequences === 'number' ? req.params.num_return_sequences : 1
    try {
      return jumpstartList.parseResponse(parsed, req.inputs.length, k)
    } catch (err) {
      if (err instanceof ResponseShapeError) throw new InvokeError('model', err.message, { cause: err })
      throw err
    }
  }
}
