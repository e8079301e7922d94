import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DatasetCreated, DatasetErrorResponse, DatasetQuery } from '../schemas/datasets.js'
import { errorResponses } from '../schemas/errors.js'
import { catalogError } from '../src/errors.js'
import { DatasetInvalidError, MAX_DATASET_LINE_BYTES } from '../src/sagemaker/datasets.js'
import { validatorCompiler } from '../src/validation.js'

/** Media types accepted for a dataset: NDJSON and its JSON Lines aliases. */
export const DATASET_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonlines', 'application/x-jsonlines', 'application/jsonl']

function isReadable (value: unknown): value is Readable {
  return value !== null && typeof value === 'object' && typeof (value as Readable).pipe === 'function' &&
    typeof (value as Readable)[Symbol.asyncIterator] === 'function'
}

/** POST /v1/datasets: an NDJSON upload streamed to S3 and checked line by line. */
const datasetsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The body is read line by line as it arrives: no parser may buffer it (and no bodyLimit
  // applies). Scoped to this plugin; other routes keep the JSON parser.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })

  app.post('/v1/datasets', {
    schema: {
      tags: ['datasets'],
      operationId: 'createDataset',
      summary: 'Upload a dataset for batch jobs (NDJSON, streamed)',
      description: 'Each line is `{"id","text","parameters"?}` or the JumpStart form `{"id","text_inputs",...params}`; the `prompt` query is prepended to `text`. ' +
        'Lines are streamed to S3 by multipart upload as JumpStart JSON Lines, never held whole in memory. Every line is checked (valid JSON, `id` present and unique, ' +
        `non-empty text, known parameters, at most ${MAX_DATASET_LINE_BYTES} bytes); if any fails, the upload is aborted, nothing is kept, and the 400 lists the first 100 bad lines. Blank lines are skipped.`,
      consumes: DATASET_MEDIA_TYPES,
      querystring: DatasetQuery,
      body: Type.String({ description: 'NDJSON: one JSON object per line.', examples: ['{"id": 1, "text": "The river rose four metres overnight."}\n{"id": 2, "text_inputs": "Summarize: The bridge stays closed.", "max_length": 30}\n'] }),
      response: { 201: DatasetCreated, 400: DatasetErrorResponse, ...errorResponses(401, 415, 429, 499, 502, 503) }
    },
    // the body is a stream, checked line by line in the handler; the query is validated as usual
    validatorCompiler: (route) => route.httpPart === 'body' ? () => true : validatorCompiler(route)
  }, async (request, reply) => {
    const { datasets } = app.batch()
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    const body: unknown = request.body
    if (!DATASET_MEDIA_TYPES.includes(mediaType) || !isReadable(body)) {
      throw catalogError('UNSUPPORTED_MEDIA_TYPE', `content-type ${JSON.stringify(mediaType)} is not accepted here; send application/x-ndjson (one JSON object per line)`)
    }
    const started = Date.now()
    try {
      const created = await datasets.upload(body, request.query.prompt ?? '')
      request.log.info({ records: created.records, bytes: created.bytes, ms: Date.now() - started, s3Uri: created.s3Uri }, 'dataset stored')
      return await reply.code(201).send(created)
    } catch (err) {
      if (err instanceof DatasetInvalidError) {
        const { error, errors, invalidLines } = err.detail
        request.log.info({ code: error.code, invalidLines }, 'dataset rejected')
        return await reply.code(400).send({ statusCode: 400, code: error.code, error: 'Bad Request', message: error.message, errors, invalidLines })
      }
      if (request.raw.aborted || request.raw.destroyed) {
        throw catalogError('CANCELLED', 'the client went away during the upload; nothing was stored', { cause: err })
      }
      throw err
    }
  })
}
export default datasetsRoutes
