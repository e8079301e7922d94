/**
 * Why a submission was rejected; stable strings. The batcher is a library with no error catalog:
 * the service that wraps it maps these to the catalog, once (src/realtime/errors.ts).
 */
export type BatcherErrorCode =
  | 'QUEUE_FULL'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'MODEL_ERROR'
  | 'ENDPOINT_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'PAYLOAD_TOO_LARGE'

/** The only error a `MicroBatcher.submit` promise rejects with. */
export class BatcherError extends Error {
  override readonly name = 'BatcherError'
  readonly code: BatcherErrorCode
  // ms a client should wait before trying again; set on QUEUE_FULL and ENDPOINT_UNAVAILABLE
  readonly retryAfterMs?: number

  constructor (code: BatcherErrorCode, message: string, options: { retryAfterMs?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs
  }
}

/**
 * How an invocation failed, as far as the batcher's policies care:
 * - `retryable`: throttling, 5xx, network, timeouts; the same payload may succeed later.
 * - `model`: the model failed on something in this payload; bisect to find the culprit.
 * - `fatal`: anything else; retrying or bisecting cannot help.
 */
export type InvokeErrorKind = 'retryable' | 'model' | 'fatal'

/** What an `InvokeFn` throws to steer the batcher; anything else thrown counts as `fatal`. */
export class InvokeError extends Error {
  override readonly name = 'InvokeError'
  readonly kind: InvokeErrorKind
  // ms the endpoint asked us to wait (e.g. from Retry-After); a floor for the next backoff
  readonly retryAfterMs?: number

  constructor (kind: InvokeErrorKind, message: string, options: { retryAfterMs?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs
  }
}
