/**
 * SageMaker's resource name rule, defined here so the request schemas (job, model and endpoint
 * names) carry it without importing the gateway's code; `src/sagemaker/rules.ts` builds its
 * RegExp from the same text for the local stack and the services.
 */

/**
 * SageMaker's resource name rule (transform jobs, models, endpoint configs, endpoints):
 * letters, digits and inner hyphens, 1..63 characters, as the API's ValidationException
 * prints it (without the `$`).
 */
export const SAGEMAKER_NAME_PATTERN_TEXT = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}'
/** SAGEMAKER_NAME_PATTERN_TEXT anchored at both ends, as a JSON-schema `pattern`. */
export const SAGEMAKER_NAME_PATTERN_SOURCE = `${SAGEMAKER_NAME_PATTERN_TEXT}$`
/** Longest SageMaker resource name. */
export const SAGEMAKER_NAME_MAX = 63
