import { Type } from 'typebox'
import { cursorPage } from './openai-files.js'

/** The routes a batch line may call, and so the `endpoint` of a batch. */
export const BATCH_URLS = ['/v1/completions', '/v1/chat/completions'] as const
export type BatchUrl = typeof BATCH_URLS[number]

const Timestamp = (description: string): ReturnType<typeof Type.Union> => Type.Union([Type.Integer(), Type.Null()], { description })

// OpenAI's bounds (https://platform.openai.com/docs/api-reference/batch/create). Written out:
// Type.Record keys become patternProperties "^.*$", which drops the key bound and skips keys
// holding a newline (their values then went unchecked)
const Metadata = Type.Unsafe<Record<string, string>>({
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 512 },
  propertyNames: { maxLength: 64 },
  maxProperties: 16,
  description: 'Up to 16 key-value pairs (keys up to 64 characters, values up to 512).'
})

/** OpenAI's batch object. https://platform.openai.com/docs/api-reference/batch/object */
export const OpenAiBatch = Type.Object({
  id: Type.String({ examples: ['batch_ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9'] }),
  object: Type.Literal('batch'),
  endpoint: Type.Enum([...BATCH_URLS]),
  model: Type.String({ description: 'The endpoint every request of the batch uses.' }),
  errors: Type.Union([Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), line: Type.Union([Type.Integer(), Type.Null()]), param: Type.Union([Type.String(), Type.Null()]) }))
  }), Type.Null()], { description: 'Why a failed batch failed.' }),
  input_file_id: Type.String(),
  completion_window: Type.Literal('24h'),
  status: Type.Enum(['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'], {
    description: 'in_progress while any transform job runs (cancelling once cancelled); finalizing once every job has ended, while the output files are written; then completed, cancelled, or failed (no job completed). The input is validated at upload, so a batch never shows validating.'
  }),
  output_file_id: Type.Union([Type.String(), Type.Null()], { description: 'The lines that succeeded, in input order (purpose batch_output); null when none did.' }),
  error_file_id: Type.Union([Type.String(), Type.Null()], { description: 'The lines that failed or were cancelled, in input order; null when none.' }),
  created_at: Type.Integer(),
  in_progress_at: Timestamp('Unix seconds.'),
  expires_at: Type.Integer(),
  finalizing_at: Timestamp('When the last job ended.'),
  completed_at: Timestamp('Unix seconds.'),
  failed_at: Timestamp('Unix seconds.'),
  expired_at: Timestamp('Unix seconds.'),
  cancelling_at: Timestamp('Unix seconds.'),
  cancelled_at: Timestamp('Unix seconds.'),
  request_counts: Type.Object({ total: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }, { description: 'From the jobs\' progress: a job reports its requests once it has ended.' }),
  metadata: Type.Union([Metadata, Type.Null()]),
  transform_jobs: Type.Array(Type.String(), { description: 'The gateway\'s addition: the transform jobs running the batch, one per group of requests with equal model and parameters (GET /v1/transform-jobs/{name}).' })
}, { $id: 'OpenAiBatch', title: 'OpenAiBatch' })

export const OpenAiBatchList = cursorPage(Type.Ref('OpenAiBatch'), 'OpenAiBatchList')

export const CreateBatchBody = Type.Object({
  input_file_id: Type.String({ minLength: 1, maxLength: 64, description: 'A file uploaded with purpose batch.' }),
  endpoint: Type.Enum([...BATCH_URLS], { description: 'Must equal the `url` of the file\'s requests.' }),
  completion_window: Type.Literal('24h'),
  metadata: Type.Optional(Type.Union([Metadata, Type.Null()]))
}, { additionalProperties: false, examples: [{ input_file_id: 'file-ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9', endpoint: '/v1/completions', completion_window: '24h', metadata: { run: 'nightly' } }] })

export const BatchIdParams = Type.Object({
  batch_id: Type.String({ minLength: 1, maxLength: 64, description: 'A batch id (batch_...).' })
})

export const ListBatchesQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Batches per page (OpenAI\'s default 20, at most 100).' }),
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A batch id: the page starts after it (pass `last_id`).' }))
}, { additionalProperties: false })

/** A batch object, for the document's examples. */
export const BATCH_EXAMPLE = {
  id: 'batch_ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9',
  object: 'batch',
  endpoint: '/v1/completions',
  model: 'flan-t5-local',
  errors: null,
  input_file_id: 'file-ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9',
  completion_window: '24h',
  status: 'in_progress',
  output_file_id: null,
  error_file_id: null,
  created_at: 1764633600,
  in_progress_at: 1764633600,
  expires_at: 1764720000,
  finalizing_at: null,
  completed_at: null,
  failed_at: null,
  expired_at: null,
  cancelling_at: null,
  cancelled_at: null,
  request_counts: { total: 2, completed: 0, failed: 0 },
  metadata: { run: 'nightly' },
  transform_jobs: ['b-ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9-0']
}
