/**
 * Transform jobs, gateway side: the service behind /v1/datasets and /v1/transform-jobs (and the
 * OpenAI-compatible batches). It owns dataset uploads (datasets.ts, records.ts), job requests
 * and their checks (requests.ts), the job as the API shows it (view.ts), references
 * (references.ts), the results join (results.ts), where everything lives in S3 (layout.ts,
 * manifest.ts) and the orchestration over SageMaker (transform-jobs.ts). It knows nothing of
 * HTTP: like every service it throws catalog errors (src/errors.ts; the status is a column of the
 * catalog, not the service's business), with the foreign AWS error as `cause`; the AWS adapters it
 * uses live in src/sagemaker/.
 */
export { Datasets, DatasetInvalidError, type DatasetInfo } from './datasets.js'
export { S3Layout } from './layout.js'
export { TransformJobs, type EvaluationInputs, type Submitted, type TransformJobsOptions } from './transform-jobs.js'
