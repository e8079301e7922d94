/**
 * What an SDK (or network) error from an invocation means to the batcher, for a given contract:
 * SageMaker's ModelError carries the container's own status and body, which only the contract
 * can read (`mapContainerError`); everything else is SageMaker's or the network's and means the
 * same whatever the container.
 */
import { InvokeError } from '../../batching/errors.js'
import type { AwsLikeError } from '../aws-errors.js'
import { redactAws } from '../../util/redact-aws.js'
import type { ContainerContract } from './types.js'

/** AWS error names worth another attempt: throttling, capacity, 5xx. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException', 'ModelNotReadyException', 'ServiceUnavailable', 'ServiceUnavailableException',
  'InternalFailure', 'InternalDependencyException', 'InternalServerError', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND'
])

/**
 * A single-input container refused its one input as invalid (TGI's 422: too long, a bad
 * parameter): the caller's fault, answered 400, not the model's 502. A `model` kind for the
 * batcher (this item fails alone, nothing is retried).
 */
export class InputRefused extends InvokeError {
  constructor (message: string, options: { cause?: unknown } = {}) {
    super('model', message, options)
  }
}

/** Maps an SDK or network error to the batcher's three kinds, keeping the original as cause. */
export function classifyContractError (contract: Pick<ContainerContract, 'mapContainerError' | 'takesList'>, err: unknown, aborted: boolean): InvokeError {
  const e = (err ?? {}) as AwsLikeError
  const name = e.name ?? 'Error'
  if (name === 'ModelError') {
    const failure = contract.mapContainerError(e.OriginalStatusCode, e.OriginalMessage)
    const status = e.OriginalStatusCode === undefined ? '' : ` (model status ${e.OriginalStatusCode})`
    // SageMaker's own message carries the account id and a CloudWatch console URL
    const message = redactAws(`${failure.message ?? e.message ?? 'the model failed'}${status}`)
    // a list's refusal is bisected down to its input and answered 502 MODEL_ERROR, as it always was
    if (failure.kind === 'model' && failure.callerFault && !contract.takesList) return new InputRefused(message, { cause: err })
    return new InvokeError(failure.kind, message, { cause: err })
  }
  if (aborted) return new InvokeError('fatal', 'invocation abandoned: no caller is waiting for it', { cause: err })
  const status = e.$metadata?.httpStatusCode ?? 0
  if (RETRYABLE_NAMES.has(name) || (e.code !== undefined && RETRYABLE_NAMES.has(e.code)) || e.$retryable !== undefined || status >= 500 || status === 429) {
    return new InvokeError('retryable', redactAws(`${name}: ${e.message ?? ''}`.trim()), { cause: err })
  }
  return new InvokeError('fatal', redactAws(`${name}: ${e.message ?? 'endpoint invocation failed'}`), { cause: err })
}

/** A JSON object's string member `key`, when the body is such an object. */
export function jsonMember (body: string | undefined, key: string): string | undefined {
  if (body === undefined) return undefined
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null
    const value = parsed?.[key]
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}
