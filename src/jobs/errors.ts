/**
 * Why the batch-jobs service refused or failed a request: stable codes the HTTP layer maps to
 * the catalog (toClientError in src/http/errors.ts), as it maps the batcher's. The codes are the
 * catalog's names for the same refusals; the status codes live in the catalog only.
 */

/** A refusal of the batch-jobs service. */
export type JobsErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_PARAMETERS'
  | 'INVALID_S3_URI'
  | 'S3_URI_NOT_ALLOWED'
  | 'S3_OBJECT_NOT_FOUND'
  | 'DATASET_INVALID'
  | 'JOB_NOT_FOUND'
  | 'JOB_NOT_COMPLETE'
  | 'NO_PREDICTIONS'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UPSTREAM_ERROR'

/** What the datasets and transform-jobs services throw for their own refusals. */
export class JobsError extends Error {
  override name = 'JobsError'
  readonly code: JobsErrorCode

  constructor (code: JobsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

/** Shorthand for `new JobsError(...)`, so a refusal reads as one line. */
export function jobsError (code: JobsErrorCode, message: string, options: { cause?: unknown } = {}): JobsError {
  return new JobsError(code, message, options)
}
