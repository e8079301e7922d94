/**
 * What the AWS SDK throws, read in one place: the error shape, its name and message, the
 * not-found answers of the control plane and S3, and the wrapping of a control-plane failure
 * into a catalog error (the operation named, the AWS details kept as `cause` for the logs).
 */
import { catalogError, type CatalogError } from '../errors.js'

/** The members of an SDK (or network) error the gateway reads. */
export interface AwsLikeError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
  $retryable?: { throttling?: boolean }
  OriginalMessage?: string
  OriginalStatusCode?: number
}

/** The error's AWS name (`ThrottlingException`, `ResourceNotFound`, ...), else 'Error'. */
export function awsName (err: unknown): string {
  return (err as AwsLikeError | undefined)?.name ?? 'Error'
}

/** The error's message, else ''. */
export function awsMessage (err: unknown): string {
  return (err as AwsLikeError | undefined)?.message ?? ''
}

/** The HTTP status AWS answered with, when there was an answer. */
export function awsStatus (err: unknown): number | undefined {
  return (err as AwsLikeError | undefined)?.$metadata?.httpStatusCode
}

/** True for the control plane's "no such resource": ResourceNotFound, or the ValidationException older APIs send. */
export function isResourceNotFound (err: unknown): boolean {
  const name = awsName(err)
  return name === 'ResourceNotFound' || (name === 'ValidationException' && /not (be )?found|could not find|does not exist/i.test(awsMessage(err)))
}

/** True for S3's "no such object" answers (GetObject's NoSuchKey, HeadObject's bare 404). */
export function isS3NotFound (err: unknown): boolean {
  const name = (err as AwsLikeError | undefined)?.name
  return name === 'NoSuchKey' || name === 'NotFound' || awsStatus(err) === 404
}

/** Wraps a SageMaker control-plane error for the client (operation named, AWS details in `cause`). */
export function controlPlaneError (operation: string, err: unknown): CatalogError {
  const name = awsName(err)
  if (name === 'ThrottlingException' || name === 'ResourceLimitExceeded' || name === 'ServiceUnavailable' || awsStatus(err) === 429) {
    const why = name === 'ResourceLimitExceeded' ? 'an account limit (e.g. the instance quota) is reached' : 'it is throttling or unavailable'
    return catalogError('SAGEMAKER_UNAVAILABLE', `SageMaker ${operation} was refused: ${why}; retry later`, { cause: err, retryAfterSeconds: name === 'ResourceLimitExceeded' ? 60 : 5 })
  }
  return catalogError('UPSTREAM_ERROR', `SageMaker ${operation} failed`, { cause: err })
}
