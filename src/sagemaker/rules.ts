/**
 * SageMaker's own rules, defined once for the gateway (which checks requests before sending
 * them) and the local stack (which answers as SageMaker would): resource names (their text is in
 * schemas/sagemaker-names.ts, for the request schemas), the payload and time limits of real-time
 * invocations and of Batch Transform, and the instance types that exist.
 */
import { ProductionVariantInstanceType, TransformInstanceType } from '@aws-sdk/client-sagemaker'
import { SAGEMAKER_NAME_PATTERN_SOURCE } from '../../schemas/sagemaker-names.js'

export { SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN_SOURCE, SAGEMAKER_NAME_PATTERN_TEXT } from '../../schemas/sagemaker-names.js'
/** SageMaker's resource name rule (schemas/sagemaker-names.ts) as a RegExp. */
export const SAGEMAKER_NAME_PATTERN = new RegExp(SAGEMAKER_NAME_PATTERN_SOURCE)

/** SageMaker's real-time payload ceiling (bytes): a list payload may never exceed it. */
export const SAGEMAKER_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
/** SageMaker's real-time invocation ceiling (ms). */
export const SAGEMAKER_MAX_INVOCATION_MS = 60_000

/** MaxPayloadInMB when a transform job does not set it (SageMaker's default). */
export const DEFAULT_MAX_PAYLOAD_MB = 6
/** SageMaker's maximum MaxPayloadInMB, which is also the ceiling of MaxPayloadInMB 0 ("no limit"). */
export const MAX_PAYLOAD_MB = 100
/** SageMaker's cap on MaxPayloadInMB x MaxConcurrentTransforms (MB). */
export const MAX_PAYLOAD_TIMES_CONCURRENCY_MB = 100

/** SageMaker's S3Uri / S3OutputPath pattern, as its ValidationException prints it. */
export const S3_URI_PATTERN_TEXT = '^(https|s3)://([^/]+)/?(.*)$'
/** S3_URI_PATTERN_TEXT as a RegExp. */
export const S3_URI_PATTERN = new RegExp(S3_URI_PATTERN_TEXT)

/**
 * Instance types a transform job may run on (TransformResources.InstanceType, "Valid Values":
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformResources.html), as the
 * AWS SDK's model enumerates them (the SDK is generated from the same service model).
 */
export const TRANSFORM_INSTANCE_TYPES: readonly string[] = Object.values(TransformInstanceType)
/**
 * Instance types a real-time endpoint's production variant may run on (ProductionVariant.InstanceType:
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html), from the SDK's model.
 */
export const ENDPOINT_INSTANCE_TYPES: readonly string[] = Object.values(ProductionVariantInstanceType)
