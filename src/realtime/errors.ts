import { BatcherError } from '../batching/errors.js'
import { catalogError, type CatalogError } from '../errors.js'
import { InputRefused } from '../sagemaker/contracts/classify.js'

/** Whole seconds a client is told to wait for `ms` (the batcher's hint; 1 s when it gave none). */
const SECONDS = (ms: number | undefined): number => Math.max(1, Math.ceil((ms ?? 1000) / 1000))

/**
 * Maps a batcher rejection to the catalog: the one place the batcher's own errors meet the
 * catalog (the HTTP status lives there, not in the batcher, which is a library). Anything else
 * thrown is a bare INTERNAL_ERROR. A single-input container's refusal of its input (InputRefused,
 * TGI's 422 validation) is the caller's 400 INVALID_REQUEST, not the model's 502.
 * `shutdownRetryAfterS` is the Retry-After a shutdown gives (owned by the drain, http/drain.ts).
 */
export function batcherErrorToCatalog (err: unknown, shutdownRetryAfterS: number): CatalogError {
  if (!(err instanceof BatcherError)) return catalogError('INTERNAL_ERROR', 'internal error', { cause: err })
  switch (err.code) {
    case 'QUEUE_FULL': return catalogError('QUEUE_FULL', err.message, { cause: err, retryAfterSeconds: SECONDS(err.retryAfterMs) })
    case 'ENDPOINT_UNAVAILABLE': return catalogError('ENDPOINT_UNAVAILABLE', err.message, { cause: err, retryAfterSeconds: SECONDS(err.retryAfterMs) })
    case 'SHUTTING_DOWN': return catalogError('SHUTTING_DOWN', err.message, { cause: err, retryAfterSeconds: shutdownRetryAfterS })
    case 'DEADLINE_EXCEEDED': return catalogError('DEADLINE_EXCEEDED', err.message, { cause: err })
    case 'MODEL_ERROR':
      // a single-input container refused the input itself (TGI's 422): the caller's to fix
      if (err.cause instanceof InputRefused) return catalogError('INVALID_REQUEST', `the endpoint refused this input: ${err.message}`, { cause: err })
      return catalogError('MODEL_ERROR', err.message, { cause: err })
    case 'PAYLOAD_TOO_LARGE': return catalogError('PAYLOAD_TOO_LARGE', err.message, { cause: err })
    case 'CANCELLED': return catalogError('CANCELLED', err.message, { cause: err })
  }
}
