import { Type, type Static } from 'typebox'
import { GenerationParameters, JobParameters, Truncate } from './params.js'
import { RecordId } from './datasets.js'
import { BootstrapOptions, EvaluationOptions } from './evaluate.js'
import type { HeaderDoc } from './responses.js'
import { UsageRef, type Usage } from './endpoints.js'
import { SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN_SOURCE } from './sagemaker-names.js'

/** Records per job submitted inline; bigger inputs go through POST /v1/datasets. */
export const MAX_INLINE_RECORDS = 100_000
/** Body limit of POST /v1/transform-jobs (bytes): inline records are buffered, datasets are not. */
export const CREATE_JOB_BODY_LIMIT = 32 * 1024 * 1024

/** SageMaker's transform job statuses, as the API reports them. */
export const JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const
export type JobStatus = typeof JOB_STATUSES[number]
export const JobStatusSchema = Type.Enum(JOB_STATUSES, { description: 'SageMaker\'s status: InProgress, then Completed, Failed or (after a stop) Stopping and Stopped.', examples: ['Completed'] })

const S3Uri = Type.String({ minLength: 5, maxLength: 1100, description: 'An s3:// URI inside ALLOWED_S3_PREFIXES: one object, or a key prefix (every object whose key starts with it, as SageMaker\'s S3Prefix reads it). Allowed prefixes are folders matched by whole path segments: the key must start with `<folder>/`, so with `s3://b/data/` allowed, `s3://b/data` is a 400 S3_URI_NOT_ALLOWED (as a prefix it would also match `s3://b/database/...`). Keys are case-sensitive; `.`/`..` segments and percent-encoded dots or slashes are a 400 INVALID_S3_URI.', examples: ['s3://text2text-local/text2text-gateway/datasets/6f1c1f5e-3c55-4f0b-9d55-0d7bba1c2b8e.jsonl'] })

export const JobRecord = Type.Object({
  id: RecordId,
  text: Type.String({ minLength: 1, description: 'The input; the job\'s `prompt` is prepended.' }),
  parameters: Type.Optional(GenerationParameters)
}, { additionalProperties: false, title: 'JobRecord', description: 'One inline input record; `parameters` override the job-wide ones for this record (the job then sends no HYPER_PARAMS: see the job\'s `parameters`).' })
export type JobRecord = Static<typeof JobRecord>

export const ReferenceRecord = Type.Object({
  id: RecordId,
  text: Type.String({ description: 'The reference summary; sentences on separate lines for rougeLsum.' })
}, { additionalProperties: false })
export type ReferenceRecord = Static<typeof ReferenceRecord>

export const JobInput = Type.Object({
  records: Type.Optional(Type.Array(JobRecord, { minItems: 1, maxItems: MAX_INLINE_RECORDS, description: 'Inline records; written to S3 as JumpStart JSON Lines with the prompt prepended.' })),
  s3Uri: Type.Optional(S3Uri)
}, { additionalProperties: false, title: 'JobInput', description: 'Exactly one of `records` or `s3Uri` (JumpStart lines `{"id","text_inputs",...params}`, e.g. from POST /v1/datasets).' })
export type JobInput = Static<typeof JobInput>

export const JobReferences = Type.Object({
  records: Type.Optional(Type.Array(ReferenceRecord, { minItems: 1, maxItems: MAX_INLINE_RECORDS })),
  s3Uri: Type.Optional(S3Uri)
}, { additionalProperties: false, title: 'JobReferences', description: 'Exactly one of `records` or `s3Uri` (lines `{"id","text"}` or `{"id","text_inputs"}`).' })
export type JobReferences = Static<typeof JobReferences>

export const JobResources = Type.Object({
  instanceType: Type.Optional(Type.String({ pattern: '^ml\\.[a-z0-9]+\\.[a-z0-9]+$', maxLength: 64, description: 'Default ml.g5.2xlarge. A non-admin tenant may use only the types of TENANT_INSTANCE_TYPES (403 FORBIDDEN otherwise); a type SageMaker does not have is a 400.' })),
  instanceCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 1. At most TENANT_MAX_INSTANCE_COUNT (default 2) for a non-admin tenant, ADMIN_MAX_INSTANCE_COUNT (default 10) for an admin (403 FORBIDDEN beyond).' })),
  maxConcurrentTransforms: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Requests in flight per instance. Default: 1 on a jumpstart-list model (its container batches records in each request); on the other contracts, which take one record per request, what the container serves or batches at once (TGI MAX_CONCURRENT_REQUESTS, LMI OPTION_MAX_ROLLING_BATCH_SIZE or SERVING_BATCH_SIZE), at most 100 / maxPayloadMB.' })),
  maxPayloadMB: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Mini-batch size cap (MB). Default 6. maxPayloadMB x maxConcurrentTransforms must be <= 100.' }))
}, { additionalProperties: false, title: 'JobResources', description: 'SageMaker Batch Transform resources; every field has a default.' })
export type JobResources = Static<typeof JobResources>

export const CreateJobBody = Type.Object({
  name: Type.Optional(Type.String({ pattern: SAGEMAKER_NAME_PATTERN_SOURCE, maxLength: 40, description: 'Job name: letters, digits and inner hyphens, at most 40. A repeat with the same name returns the existing job.' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: SAGEMAKER_NAME_MAX, pattern: SAGEMAKER_NAME_PATTERN_SOURCE, description: 'SageMaker model. Default SAGEMAKER_MODEL_NAME (the local model in local mode).' })),
  input: JobInput,
  prompt: Type.Optional(Type.String({ maxLength: 4096, description: 'Prepended to each inline record\'s text.' })),
  parameters: Type.Optional(JobParameters),
  truncate: Type.Optional(Truncate),
  references: Type.Optional(JobReferences),
  resources: Type.Optional(JobResources)
}, {
  additionalProperties: false,
  title: 'CreateTransformJobRequest',
  examples: [{
    name: 'cnn-eval-1',
    input: { records: [{ id: 1, text: 'The river rose four metres overnight. The bridge stays closed until Friday.' }] },
    prompt: 'Briefly summarize this text: ',
    parameters: { max_length: 50, batch_size: 8 },
    references: { records: [{ id: 1, text: 'The river rose four metres.' }] }
  }]
})
export type CreateJobBody = Static<typeof CreateJobBody>

export const CreateJobHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'Idempotency-Key: a repeat with the same key returns the existing job (with Idempotent-Replayed: true), never a second one; the same key with a different body is a 409.', examples: ['8e4f2a0c-5b1d-4c3e-9f6a-7d2b1c0e9a55'] }))
})
export type CreateJobHeaders = Static<typeof CreateJobHeaders>

/** A job as GET /v1/transform-jobs/{name} reports it (documentation examples). */
export const TRANSFORM_JOB_EXAMPLE = {
  name: 'cnn-eval-1',
  status: 'InProgress',
  model: 'flan-t5-local',
  owner: 'acme',
  createdAt: '2025-01-01T12:00:00.000Z',
  startedAt: '2025-01-01T12:00:01.000Z',
  input: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/input/records.jsonl', recordCount: 1 },
  output: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/output' },
  references: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/references.jsonl' },
  parameters: { max_length: 50, batch_size: 8 }
}

/** A transform job as the gateway reports it: SageMaker's status plus the manifest's facts. */
export const TransformJob = Type.Object({
  name: Type.String({ description: 'The job name (SageMaker\'s TransformJobName).' }),
  status: JobStatusSchema,
  model: Type.String({ description: 'The SageMaker model that runs the job.' }),
  owner: Type.String({ description: 'The tenant that submitted the job (its API key\'s name; `default` without keys). Only it, and admins, see the job.' }),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the transform started.' })),
  endedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the job reached Completed, Failed or Stopped.' })),
  failureReason: Type.Optional(Type.String({ description: 'SageMaker\'s reason, when Failed.' })),
  input: Type.Object({
    s3Uri: Type.String({ description: 'The JumpStart JSON Lines the job reads.' }),
    recordCount: Type.Optional(Type.Integer({ description: 'Records in the input, when known.' }))
  }),
  output: Type.Object({ s3Uri: Type.String({ description: 'Where SageMaker writes `<input file>.out`.' }) }),
  references: Type.Optional(Type.Object({ s3Uri: Type.String({ description: 'References given at submission, for POST …/evaluation.' }) })),
  parameters: JobParameters,
  truncate: Type.Optional(Type.Integer({ description: 'The submission\'s `truncate`: each input was cut to its last `truncate` tokens (tgi models only).' })),
  resources: Type.Optional(Type.Object({
    instanceType: Type.String(),
    instanceCount: Type.Integer(),
    maxConcurrentTransforms: Type.Optional(Type.Integer({ description: 'As SageMaker runs it: the submission\'s, or the default for the model\'s contract.' })),
    maxPayloadMB: Type.Optional(Type.Integer())
  }, { description: 'What the job runs on, as SageMaker describes it.' })),
  progress: Type.Optional(Type.Object({
    processed: Type.Integer({ description: 'Records with output.' }),
    total: Type.Integer({ description: 'Records in the input.' })
  }, { description: 'Present once the job is Completed with a known record count (processed = total). SageMaker reports no progress while a job runs (and a job writes each `.out` only whole), so neither does the gateway, on AWS or locally. Also absent when the output could not be read to count it (a later view counts again).' })),
  usage: Type.Optional(UsageRef)
}, {
  $id: 'TransformJob',
  title: 'TransformJob',
  description: 'A SageMaker Batch Transform job made by this gateway.',
  examples: [TRANSFORM_JOB_EXAMPLE]
})
// `usage` is a reference to the shared Usage schema, which Static<> cannot see through
export type TransformJob = Omit<Static<typeof TransformJob>, 'usage'> & { usage?: Usage }
/** Responses refer to the shared schema (registered once with addSchema) so OpenAPI shows one component. */
export const TransformJobRef = Type.Ref('TransformJob')

export const JobNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 63, description: 'Job name (as returned by POST /v1/transform-jobs).', examples: ['cnn-eval-1'] })
})

/** Where the job can be polled; sent with 202 by POST /v1/transform-jobs. */
export const JobLocationHeader: HeaderDoc = {
  description: 'The job\'s URL, /v1/transform-jobs/{name}: poll it for the status.',
  type: 'string',
  examples: ['/v1/transform-jobs/cnn-eval-1']
}

/** Sent as `true` when the 202 returns a job that already existed (same name or Idempotency-Key). */
export const IdempotentReplayedHeader: HeaderDoc = {
  description: '`true` when this is the existing job for a repeated name or Idempotency-Key; absent for a new job.',
  type: 'string',
  examples: ['true']
}
export type JobNameParams = Static<typeof JobNameParams>

export const ListJobsQuery = Type.Object({
  status: Type.Optional(Type.Enum(JOB_STATUSES, { description: 'Only jobs in this status.', examples: ['Completed'] })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Jobs per page, at most.' }),
  nextToken: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'From the previous page.' }))
}, { additionalProperties: false })
export type ListJobsQuery = Static<typeof ListJobsQuery>

export const JobList = Type.Object({
  jobs: Type.Array(TransformJobRef, { description: 'Newest first.' }),
  nextToken: Type.Optional(Type.String({ description: 'Present when there may be more jobs: pass it as `nextToken` for the next page.' }))
}, {
  title: 'JobList',
  examples: [{
    jobs: [{
      name: 'cnn-eval-1',
      status: 'Completed',
      model: 'flan-t5-local',
      owner: TRANSFORM_JOB_EXAMPLE.owner,
      createdAt: '2025-01-01T12:00:00.000Z',
      startedAt: '2025-01-01T12:00:01.000Z',
      endedAt: '2025-01-01T12:03:00.000Z',
      input: TRANSFORM_JOB_EXAMPLE.input,
      output: TRANSFORM_JOB_EXAMPLE.output,
      references: TRANSFORM_JOB_EXAMPLE.references,
      parameters: TRANSFORM_JOB_EXAMPLE.parameters
    }],
    nextToken: 'eyJzYWdlbWFrZXIiOiIuLi4ifQ'
  }]
})
export type JobList = Static<typeof JobList>

/** Lines of GET /v1/transform-jobs/{name}/results: one with output, one without (documentation). */
export const RESULT_LINE_EXAMPLES = [
  { id: 1, generated_texts: ['The river rose four metres overnight.'] },
  { id: 2, error: { code: 'JOB_STOPPED', message: 'the job was stopped before this record had output' } }
] as const

/** One line of GET /v1/transform-jobs/{name}/results (documentation; the body is NDJSON). */
export const ResultLine = Type.Object({
  id: RecordId,
  generated_texts: Type.Optional(Type.Array(Type.String(), { description: 'The record\'s sequences (num_return_sequences of them).' })),
  error: Type.Optional(Type.Object({
    code: Type.String({ description: 'JOB_FAILED, JOB_STOPPED, NO_OUTPUT, INVALID_OUTPUT, INVALID_INPUT, or MODEL_ERROR (the container reported a failed generation for this record: LMI\'s finish_reason error).' }),
    message: Type.String()
  }, { description: 'Why the record has no output.' }))
}, {
  title: 'ResultLine',
  description: 'One input record: its sequences, or why it has none.',
  examples: [...RESULT_LINE_EXAMPLES]
})
export type ResultLine = Static<typeof ResultLine>

export const JobEvaluationBody = Type.Object({
  references: Type.Optional(JobReferences),
  ...EvaluationOptions,
  perRecord: Type.Optional(Type.Boolean({ description: 'Also return each reference’s scores.' })),
  bootstrap: Type.Optional(BootstrapOptions)
}, {
  additionalProperties: false,
  title: 'JobEvaluationRequest',
  description: 'References default to the ones given at submission. Predictions are each record\'s generated_texts[0]; a record without output is scored against "" and listed in `missing`.',
  examples: [{ rougeTypes: ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'], useStemmer: true }]
})
export type JobEvaluationBody = Static<typeof JobEvaluationBody>
