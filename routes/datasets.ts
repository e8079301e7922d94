import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DATASET_INVALID_EXAMPLE, DatasetCreated, DatasetErrorResponse, DatasetQuery } from '../schemas/datasets.js'
import { errorResponses, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { catalogError, isCatalogError } from '../src/errors.js'
import { tenantOf } from '../src/plugins/security.js'
import { DatasetInvalidError, MAX_DATASET_LINE_BYTES } from '../src/jobs/datasets.js'
import { isBodyStream } from '../src/http/body-budget.js'
import { validatorCompiler } from '../src/util/validation.js'
import { MAX_JSON_DEPTH } from '../schemas/json-bounds.js'

/** Media types accepted for a dataset: NDJSON and its JSON Lines aliases. */
export const DATASET_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonlines', 'application/x-jsonlines', 'application/jsonl']

/** Seconds a caller turned away by UPLOADS_BUSY is told to wait: a typical upload's duration. */
const UPLOADS_BUSY_RETRY_AFTER_S = 5

/** POST /v1/datasets: an NDJSON upload streamed to S3 and checked line by line. */
const datasetsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // each upload holds its multipart part buffers while it streams: memory is bounded by a cap
  // on uploads at once, and one more is turned away before a byte of its body is read
  const maxUploads = app.config.DATASET_UPLOADS_MAX
  let uploading = 0

  // The body is read line by line as it arrives: no parser may buffer it (and no bodyLimit
  // applies). Scoped to this plugin; other routes keep the JSON parser.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })

  app.post('/v1/datasets', {
    schema: {
      tags: ['datasets'],
      operationId: 'createDataset',
      summary: 'Upload a dataset for transform jobs (NDJSON, streamed)',
      description: 'Each line is `{"id","text","parameters"?}` or the JumpStart form `{"id","text_inputs",...params}`; the `prompt` query is prepended to `text`. ' +
        'Lines are streamed to S3 by multipart upload as JumpStart JSON Lines, never held whole in memory. Every line is checked (valid JSON, `id` present and unique, ' +
        `non-empty text, known parameters, at most ${MAX_DATASET_LINE_BYTES} bytes, nesting at most ${MAX_JSON_DEPTH} levels); if any fails, the upload is aborted, nothing is kept, and the 400 lists the first 100 bad lines. Blank lines are skipped.`,
      security: BEARER_AUTH,
      consumes: DATASET_MEDIA_TYPES,
      querystring: DatasetQuery,
      body: Type.String({ description: 'NDJSON (application/x-ndjson; the JSON Lines media types are accepted too): one JSON object per line, `{"id","text","parameters"?}` or `{"id","text_inputs",...params}`.', examples: ['{"id": 1, "text": "The river rose four metres overnight."}\n{"id": 2, "text_inputs": "Summarize: The bridge stays closed.", "max_length": 30}\n'] }),
      response: {
        201: jsonResponse('Stored: the dataset\'s s3Uri (use it as a job\'s input.s3Uri or references.s3Uri), its record count and size.', DatasetCreated),
        400: jsonResponse('400 DATASET_INVALID (the first 100 bad lines in `errors`; nothing was stored) or INVALID_REQUEST (a bad query string).', DatasetErrorResponse, {
          examples: {
            DATASET_INVALID: { summary: 'some lines are invalid; nothing was stored', value: DATASET_INVALID_EXAMPLE },
            INVALID_REQUEST: { summary: 'the query string breaks the schema', value: { statusCode: 400, code: 'INVALID_REQUEST', error: 'Bad Request', message: 'querystring has unknown key "promt"; allowed keys: prompt' } }
          }
        }),
        ...errorResponses('UNSUPPORTED_MEDIA_TYPE', ...V1_ERRORS, 'UPSTREAM_ERROR', 'JOBS_NOT_CONFIGURED', 'UPLOADS_BUSY', 'REQUEST_TIMEOUT')
      }
    },
    // read as a stream, never whole: rate-checked (DATASET_MIN_BYTES_PER_SECOND), outside the JSON body memory budget
    config: { streamedBody: true },
    // the body is a stream, checked line by line in the handler; the query is validated as usual
    validatorCompiler: (route) => route.httpPart === 'body' ? () => true : validatorCompiler(route)
  }, async (request, reply) => {
    const { datasets } = app.bucketServices()
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    const body: unknown = request.body
    if (!DATASET_MEDIA_TYPES.includes(mediaType) || !isBodyStream(body)) {
      throw catalogError('UNSUPPORTED_MEDIA_TYPE', `content-type ${JSON.stringify(mediaType)} is not accepted here; send application/x-ndjson (one JSON object per line)`)
    }
    if (uploading >= maxUploads) {
      throw catalogError('UPLOADS_BUSY', `${uploading} dataset uploads are in progress (limit ${maxUploads}, DATASET_UPLOADS_MAX); retry shortly`, { retryAfterSeconds: UPLOADS_BUSY_RETRY_AFTER_S })
    }
    uploading++
    const started = Date.now()
    try {
      const created = await datasets.upload(tenantOf(request), body, request.query.prompt ?? '')
      request.log.info({ records: created.records, bytes: created.bytes, ms: Date.now() - started, s3Uri: created.s3Uri }, 'dataset stored')
      return await reply.code(201).send(created)
    } catch (err) {
      if (err instanceof DatasetInvalidError) {
        const { errors, invalidLines } = err.detail
        request.log.info({ code: err.code, invalidLines }, 'dataset rejected')
        return await reply.code(400).send({ statusCode: 400, code: err.code, error: 'Bad Request', message: err.message, errors, invalidLines })
      }
      // a body left unread on the socket would keep the connection (and a later drain) waiting:
      // answer and close it
      if (!request.raw.readableEnded) void reply.header('connection', 'close')
      // the caller went away only if its stream broke before its end (readableAborted); an S3
      // failure is the catalog's UPSTREAM_ERROR and stays that (`destroyed` is also true after
      // a normal end on Node 20, which made every S3 failure look like a cancelled upload)
      if (!isCatalogError(err) && request.raw.readableAborted) {
        throw catalogError('CANCELLED', 'the client went away during the upload; nothing was stored', { cause: err })
      }
      throw err
    } finally {
      uploading--
    }
  })
}
export default datasetsRoutes
