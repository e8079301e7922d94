import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime'
import { InvokeError } from '../batching/errors.js'
import type { InvokeFn, InvokeRequest } from '../batching/batcher.js'
import type { AwsLikeError } from './aws-errors.js'
import type { RuntimeClient } from './clients.js'
import { parseListResponse, ResponseShapeError } from './response-shapes.js'
import { redactAws } from '../util/redact-aws.js'

/** AWS error names worth another attempt: throttling, capacity, 5xx. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException', 'ModelNotReadyException', 'ServiceUnavailable', 'ServiceUnavailableException',
  'InternalFailure', 'InternalDependencyException', 'InternalServerError', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND'
])

/** JumpStart containers answer errors as JSON `{"code","type","message"}`; keep just the message. */
function containerMessage (original: string | undefined): string | undefined {
  if (original === undefined) return undefined
  try {
    const parsed = JSON.parse(original) as { message?: unknown }
    if (typeof parsed.message === 'string') return parsed.message
  } catch {}
  return original.trim()
}

/** Maps an SDK or network error to the batcher's three kinds, keeping the original as cause. */
export function classifyInvokeError (err: unknown, aborted: boolean): InvokeError {
  const e = (err ?? {}) as AwsLikeError
  const name = e.name ?? 'Error'
  if (name === 'ModelError') {
    const status = e.OriginalStatusCode === undefined ? '' : ` (model status ${e.OriginalStatusCode})`
    // SageMaker's own message carries the account id and a CloudWatch console URL
    return new InvokeError('model', redactAws(`${containerMessage(e.OriginalMessage) ?? e.message ?? 'the model failed'}${status}`), { cause: err })
  }
  if (aborted) return new InvokeError('fatal', 'invocation abandoned: no caller is waiting for it', { cause: err })
  const status = e.$metadata?.httpStatusCode ?? 0
  if (RETRYABLE_NAMES.has(name) || (e.code !== undefined && RETRYABLE_NAMES.has(e.code)) || e.$retryable !== undefined || status >= 500 || status === 429) {
    return new InvokeError('retryable', redactAws(`${name}: ${e.message ?? ''}`.trim()), { cause: err })
  }
  return new InvokeError('fatal', redactAws(`${name}: ${e.message ?? 'endpoint invocation failed'}`), { cause: err })
}

/**
 * The one code path to the model: sends the batcher's assembled JSON list payload, aborted
 * when the batcher gives up on it (every caller gone), and reads any response shape JumpStart
 * containers produce.
 */
export function createInvoker ({ client, handler }: RuntimeClient): InvokeFn {
  return async (req: InvokeRequest): Promise<string[][]> => {
    // a fresh buffer per send: the handler finds req.signal by this object's identity
    const body = Buffer.from(req.body, 'utf8')
    handler.bind(body, req.signal)
    let raw: Uint8Array | undefined
    try {
      const out = await client.send(new InvokeEndpointCommand({
        EndpointName: req.model,
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
      return parseListResponse(parsed, req.inputs.length, k)
    } catch (err) {
      if (err instanceof ResponseShapeError) throw new InvokeError('model', err.message, { cause: err })
      throw err
    }
  }
}
