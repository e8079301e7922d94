import createError, { type FastifyErrorConstructor } from '@fastify/error'

/**
 * The error catalog: every error a client can see, by stable code. Foreign errors (AWS SDK,
 * S3, batcher) are wrapped into one of these with `cause`; the app's error handler decides
 * what leaves the process.
 */
type Ctor = FastifyErrorConstructor<{ code: string, statusCode: number }, [string]>
const make = (code: string, status: number): Ctor => createError(code, '%s', status) as Ctor

export const Errors = {
  INVALID_REQUEST: make('INVALID_REQUEST', 400),
  INVALID_PARAMETERS: make('INVALID_PARAMETERS', 400),
  INVALID_JSON: make('INVALID_JSON', 400),
  // a dataset upload with bad lines; the 400 body also lists them (`errors: [{line, message}]`)
  DATASET_INVALID: make('DATASET_INVALID', 400),
  INVALID_S3_URI: make('INVALID_S3_URI', 400),
  S3_URI_NOT_ALLOWED: make('S3_URI_NOT_ALLOWED', 400),
  S3_OBJECT_NOT_FOUND: make('S3_OBJECT_NOT_FOUND', 400),
  UNAUTHORIZED: make('UNAUTHORIZED', 401),
  NOT_FOUND: make('NOT_FOUND', 404),
  JOB_NOT_FOUND: make('JOB_NOT_FOUND', 404),
  // a request body arrived too slowly (BODY_TIMEOUT_MS, DATASET_MIN_BYTES_PER_SECOND); the connection is closed
  REQUEST_TIMEOUT: make('REQUEST_TIMEOUT', 408),
  JOB_NOT_COMPLETE: make('JOB_NOT_COMPLETE', 409),
  // the job ended but its output holds no prediction at all: an evaluation would score nothing
  NO_PREDICTIONS: make('NO_PREDICTIONS', 409),
  CONFLICT: make('CONFLICT', 409),
  // nginx's 'client closed request': the caller went away, nobody reads this response
  CANCELLED: make('CANCELLED', 499),
  BODY_TOO_LARGE: make('BODY_TOO_LARGE', 413),
  BATCH_TOO_LARGE: make('BATCH_TOO_LARGE', 413),
  PAYLOAD_TOO_LARGE: make('PAYLOAD_TOO_LARGE', 413),
  TEXT_TOO_LONG: make('TEXT_TOO_LONG', 413),
  UNSUPPORTED_MEDIA_TYPE: make('UNSUPPORTED_MEDIA_TYPE', 415),
  RATE_LIMITED: make('RATE_LIMITED', 429),
  INTERNAL_ERROR: make('INTERNAL_ERROR', 500),
  MODEL_ERROR: make('MODEL_ERROR', 502),
  UPSTREAM_ERROR: make('UPSTREAM_ERROR', 502),
  QUEUE_FULL: make('QUEUE_FULL', 503),
  ENDPOINT_UNAVAILABLE: make('ENDPOINT_UNAVAILABLE', 503),
  SHUTTING_DOWN: make('SHUTTING_DOWN', 503),
  // AWS mode without S3_BUCKET: real time works, datasets and transform jobs cannot
  JOBS_NOT_CONFIGURED: make('JOBS_NOT_CONFIGURED', 503),
  // the SageMaker control plane throttled us or is out of capacity/quota; retry later
  SAGEMAKER_UNAVAILABLE: make('SAGEMAKER_UNAVAILABLE', 503),
  // DATASET_UPLOADS_MAX uploads are already streaming (each holds its multipart part buffers)
  UPLOADS_BUSY: make('UPLOADS_BUSY', 503),
  // BODY_BYTES_IN_FLIGHT_MAX bytes of request bodies are already being read; this one was not
  BODIES_BUSY: make('BODIES_BUSY', 503),
  DEADLINE_EXCEEDED: make('DEADLINE_EXCEEDED', 504),
  // endpoints (issue 14): managing them is for admin tenants; only the gateway's own are managed
  FORBIDDEN: make('FORBIDDEN', 403),
  ENDPOINT_NOT_FOUND: make('ENDPOINT_NOT_FOUND', 404),
  NOT_MANAGED: make('NOT_MANAGED', 409),
  // OpenAI-compatible files and batches (issue 15)
  FILE_NOT_FOUND: make('FILE_NOT_FOUND', 404),
  BATCH_NOT_FOUND: make('BATCH_NOT_FOUND', 404)
} as const

export type ErrorCode = keyof typeof Errors

/**
 * Refusals that are the gateway working as designed (load, limits, draining, configuration):
 * logged at warn without a stack, whatever their status. Other 5xx are failures: error, with stack.
 */
export const EXPECTED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'QUEUE_FULL', 'UPLOADS_BUSY', 'BODIES_BUSY', 'SHUTTING_DOWN', 'RATE_LIMITED', 'REQUEST_TIMEOUT',
  'ENDPOINT_UNAVAILABLE', 'SAGEMAKER_UNAVAILABLE', 'JOBS_NOT_CONFIGURED'
])

/** A catalog error with an optional Retry-After (seconds) and the foreign error as `cause`. */
export interface CatalogError extends Error {
  code: string
  statusCode: number
  retryAfterSeconds?: number
  /** the request field at fault (`messages[0].role`), for error shapes that carry it apart (OpenAI's `param`) */
  param?: string
}

/** Builds a catalog error; `cause` keeps the foreign error for logs, never for the client. */
export function catalogError (code: ErrorCode, message: string, opts: { cause?: unknown, retryAfterSeconds?: number, param?: string } = {}): CatalogError {
  const err = new Errors[code](message) as CatalogError
  if (opts.cause !== undefined) err.cause = opts.cause
  if (opts.retryAfterSeconds !== undefined) err.retryAfterSeconds = opts.retryAfterSeconds
  if (opts.param !== undefined) err.param = opts.param
  return err
}

/** True for errors this catalog produced (their message is safe to show). */
export function isCatalogError (err: unknown): err is CatalogError {
  return err instanceof Error && typeof (err as CatalogError).code === 'string' &&
    (err as CatalogError).code in Errors && typeof (err as CatalogError).statusCode === 'number'
}
