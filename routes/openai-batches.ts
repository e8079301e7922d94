import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { JSON_BODY_ERRORS, openAiErrorResponses, V1_ERRORS } from '../schemas/errors.js'
import { BATCH_EXAMPLE, BatchIdParams, CreateBatchBody, ListBatchesQuery, OpenAiBatchList } from '../schemas/openai-batches.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { useOpenAiErrors } from '../src/http/errors.js'
import { tenantOf } from '../src/plugins/security.js'

const TAG = 'openai'
const BACKEND_ERRORS = [...V1_ERRORS, 'UPSTREAM_ERROR', 'SAGEMAKER_UNAVAILABLE', 'JOBS_NOT_CONFIGURED'] as const

/** /v1/batches: OpenAI's Batch API on SageMaker Batch Transform. */
const openAiBatchesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  useOpenAiErrors(app)

  app.post('/v1/batches', {
    schema: {
      tags: [TAG],
      operationId: 'createBatch',
      summary: 'Run a batch input file as Batch Transform jobs',
      description: 'The file\'s requests are grouped by model and normalised parameters (max_tokens as max_length, n as num_return_sequences, temperature, top_p, seed); ' +
        'each group runs as one transform job (custom_id as the record id, the group\'s parameters as HYPER_PARAMS), visible in `transform_jobs` and GET /v1/transform-jobs. ' +
        '`endpoint` must equal the requests\' `url`. Poll GET /v1/batches/{batch_id} until completed, cancelled or failed.',
      security: BEARER_AUTH,
      body: CreateBatchBody,
      response: {
        200: jsonResponse('The batch, in_progress.', Type.Ref('OpenAiBatch'), { examples: { batch: { summary: 'a batch just created', value: BATCH_EXAMPLE } } }),
        ...openAiErrorResponses(...JSON_BODY_ERRORS, 'INVALID_PARAMETERS', 'FILE_NOT_FOUND', 'CONFLICT', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().batches.create(tenantOf(request), request.body)
  })

  app.get('/v1/batches', {
    schema: {
      tags: [TAG],
      operationId: 'listBatches',
      summary: 'List your batches, newest first',
      description: 'OpenAI\'s cursor pagination: `limit`, `after` (a batch id), `has_more`, `first_id`, `last_id`. Only the caller\'s own batches (an admin: every tenant\'s).',
      security: BEARER_AUTH,
      querystring: ListBatchesQuery,
      response: {
        200: jsonResponse('A page of batches.', OpenAiBatchList, { examples: { page: { summary: 'one batch', value: { object: 'list', data: [BATCH_EXAMPLE], has_more: false, first_id: BATCH_EXAMPLE.id, last_id: BATCH_EXAMPLE.id } } } }),
        ...openAiErrorResponses('INVALID_REQUEST', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().batches.list(tenantOf(request), request.query)
  })

  app.get('/v1/batches/:batch_id', {
    schema: {
      tags: [TAG],
      operationId: 'retrieveBatch',
      summary: 'One batch',
      description: 'The status is derived from the transform jobs when asked, so any replica answers. Once every job has ended the batch is finalizing while its output and error files are written, then completed (or cancelled, or failed when no job completed).',
      security: BEARER_AUTH,
      params: BatchIdParams,
      response: {
        200: jsonResponse('The batch.', Type.Ref('OpenAiBatch'), { examples: { batch: { summary: 'a running batch', value: BATCH_EXAMPLE } } }),
        ...openAiErrorResponses('INVALID_REQUEST', 'BATCH_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().batches.get(tenantOf(request), request.params.batch_id)
  })

  app.post('/v1/batches/:batch_id/cancel', {
    schema: {
      tags: [TAG],
      operationId: 'cancelBatch',
      summary: 'Cancel a batch',
      description: 'Stops every transform job still running; the batch is cancelling until they have stopped, then cancelled. What completed is kept: its lines are in the output file, the others in the error file (code batch_cancelled). A completed or failed batch is a 409.',
      security: BEARER_AUTH,
      params: BatchIdParams,
      response: {
        200: jsonResponse('The batch, cancelling (or cancelled).', Type.Ref('OpenAiBatch'), { examples: { batch: { summary: 'a batch being cancelled', value: { ...BATCH_EXAMPLE, status: 'cancelling', cancelling_at: 1764634000 } } } }),
        ...openAiErrorResponses('INVALID_REQUEST', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'BATCH_NOT_FOUND', 'CONFLICT', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().batches.cancel(tenantOf(request), request.params.batch_id)
  })
}
export default openAiBatchesRoutes
