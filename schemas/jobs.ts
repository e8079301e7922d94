import { Type, type Static } from 'typebox'
import { GenerationParameters, JobParameters } from './params.js'
import { RecordId } from './datasets.js'
import { BootstrapOptions, EvaluationOptions } from './evaluate.js'

/** Records per job submitted inline; bigger inputs go through POST /v1/datasets. */
export const MAX_INLINE_RECORDS = 100_000
/** Body limit of POST /v1/transform-jobs (bytes): inline records are buffered, datasets are not. */
export const CREATE_JOB_BODY_LIMIT = 32 * 1024 * 1024

/** SageMaker's transform job statuses, as the API reports them. */
export const JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const
export type JobStatus = typeof JOB_STATUSES[number]
export const JobStatusSchema = Type.Enum(JOB_STATUSES, { description: 'SageMaker\'s status.' })

const S3Uri = Type.String({ minLength: 5, maxLength: 1100, description: 'An s3:// URI inside ALLOWED_S3_PREFIXES: one object, or a key prefix (every object under it).', examples: ['s3://text2text-local/text2text-gateway/datasets/6f1c1f5e-3c55-4f0b-9d55-0d7bba1c2b8e.jsonl'] })

export const JobRecord = Type.Object({
  id: RecordId,
  text: Type.String({ minLength: 1 }),
  parameters: Type.Optional(GenerationParameters)
}, { additionalProperties: false })
export type JobRecord = Static<typeof JobRecord>

export const ReferenceRecord = Type.Object({
  id: RecordId,
  text: Type.String({ description: 'The reference summary; sentences on separate lines for rougeLsum.' })
}, { additionalProperties: false })
export type ReferenceRecord = Static<typeof ReferenceRecord>

export const JobInput = Type.Object({
  records: Type.Optional(Type.Array(JobRecord, { minItems: 1, maxItems: MAX_INLINE_RECORDS, description: 'Inline records; written to S3 as JumpStart JSON Lines with the prompt prepended.' })),
  s3Uri: Type.Optional(S3Uri)
}, { additionalProperties: false, description: 'Exactly one of `records` or `s3Uri` (JumpStart lines `{"id","text_inputs",...params}`, e.g. from POST /v1/datasets).' })
export type JobInput = Static<typeof JobInput>

export const JobReferences = Type.Object({
  records: Type.Optional(Type.Array(ReferenceRecord, { minItems: 1, maxItems: MAX_INLINE_RECORDS })),
  s3Uri: Type.Optional(S3Uri)
}, { additionalProperties: false, description: 'Exactly one of `records` or `s3Uri` (lines `{"id","text"}` or `{"id","text_inputs"}`).' })
export type JobReferences = Static<typeof JobReferences>

export const JobResources = Type.Object({
  instanceType: Type.Optional(Type.String({ pattern: '^ml\\.[a-z0-9]+\\.[a-z0-9]+$', maxLength: 64, description: 'Default ml.g5.2xlarge.' })),
  instanceCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 1.' })),
  maxConcurrentTransforms: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Requests in flight per instance. Default 1.' })),
  maxPayloadMB: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Mini-batch size cap (MB). Default 6. maxPayloadMB x maxConcurrentTransforms must be <= 100.' }))
}, { additionalProperties: false })
export type JobResources = Static<typeof JobResources>

export const CreateJobBody = Type.Object({
  name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9](-*[A-Za-z0-9])*$', maxLength: 40, description: 'Job name: letters, digits and inner hyphens, at most 40. A repeat with the same name returns the existing job.' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-zA-Z0-9](-*[a-zA-Z0-9])*$', description: 'SageMaker model. Default SAGEMAKER_MODEL_NAME (the local model in local mode).' })),
  input: JobInput,
  prompt: Type.Optional(Type.String({ maxLength: 4096, description: 'Prepended to each inline record\'s text.' })),
  parameters: Type.Optional(JobParameters),
  references: Type.Optional(JobReferences),
  resources: Type.Optional(JobResources)
}, {
  additionalProperties: false,
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
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'A repeat with the same key returns the existing job, never a second one.' }))
})
export type CreateJobHeaders = Static<typeof CreateJobHeaders>

/** A transform job as the gateway reports it: SageMaker's status plus the manifest's facts. */
export const TransformJob = Type.Object({
  name: Type.String(),
  status: JobStatusSchema,
  model: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  endedAt: Type.Optional(Type.String({ format: 'date-time' })),
  failureReason: Type.Optional(Type.String()),
  input: Type.Object({ s3Uri: Type.String(), recordCount: Type.Optional(Type.Integer()) }),
  output: Type.Object({ s3Uri: Type.String() }),
  references: Type.Optional(Type.Object({ s3Uri: Type.String() })),
  parameters: JobParameters,
  progress: Type.Optional(Type.Object({ processed: Type.Integer(), total: Type.Integer() }))
}, {
  $id: 'TransformJob',
  examples: [{
    name: 'cnn-eval-1',
    status: 'InProgress',
    model: 'flan-t5-local',
    createdAt: '2025-01-01T12:00:00.000Z',
    input: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/input/records.jsonl', recordCount: 1 },
    output: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/output' },
    references: { s3Uri: 's3://text2text-local/text2text-gateway/jobs/cnn-eval-1/3f9a0c1b2d4e/references.jsonl' },
    parameters: { max_length: 50, batch_size: 8 },
    progress: { processed: 0, total: 1 }
  }]
})
export type TransformJob = Static<typeof TransformJob>
/** Responses refer to the shared schema (registered once with addSchema) so OpenAPI shows one component. */
export const TransformJobRef = Type.Ref('TransformJob')

export const JobNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 63, description: 'Job name.' })
})
export type JobNameParams = Static<typeof JobNameParams>

export const ListJobsQuery = Type.Object({
  status: Type.Optional(JobStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Jobs per page, at most.' }),
  nextToken: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'From the previous page.' }))
}, { additionalProperties: false })
export type ListJobsQuery = Static<typeof ListJobsQuery>

export const JobList = Type.Object({
  jobs: Type.Array(TransformJobRef),
  nextToken: Type.Optional(Type.String({ description: 'Present when there may be more jobs.' }))
})
export type JobList = Static<typeof JobList>

/** One line of GET /v1/transform-jobs/{name}/results (documentation; the body is NDJSON). */
export const ResultLine = Type.Object({
  id: RecordId,
  generated_texts: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }))
}, { description: 'One input record: its sequences, or why it has none.' })
export type ResultLine = Static<typeof ResultLine>

export const JobEvaluationBody = Type.Object({
  references: Type.Optional(JobReferences),
  ...EvaluationOptions,
  perRecord: Type.Optional(Type.Boolean({ description: 'Also return each reference’s scores.' })),
  bootstrap: Type.Optional(BootstrapOptions)
}, {
  additionalProperties: false,
  description: 'References default to the ones given at submission. Predictions are each record\'s generated_texts[0]; a record without output is scored against "" and listed in `missing`.',
  examples: [{ rougeTypes: ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'], useStemmer: true }]
})
export type JobEvaluationBody = Static<typeof JobEvaluationBody>
