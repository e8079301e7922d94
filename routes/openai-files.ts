import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { openAiErrorResponses, V1_ERRORS } from '../schemas/errors.js'
import { FILE_EXAMPLE, FileIdParams, ListFilesQuery, OpenAiFileDeleted, OpenAiFileList, UploadFileForm } from '../schemas/openai-files.js'
import { BEARER_AUTH, jsonResponse, mediaResponse } from '../schemas/responses.js'
import { catalogError, type CatalogError } from '../src/errors.js'
import { isBodyStream } from '../src/http/body-budget.js'
import { formParts, type FormLimits } from '../src/http/multipart.js'
import { validatorCompiler } from '../src/util/validation.js'
import { MAX_BATCH_REQUESTS } from '../src/openai/batch-lines.js'
import { useOpenAiErrors } from '../src/http/errors.js'
import { MAX_FILENAME, type FileObject } from '../src/openai/files.js'
import { tenantOf } from '../src/plugins/security.js'
import { DatasetInvalidError, MAX_DATASET_LINE_BYTES } from '../src/jobs/datasets.js'

const TAG = 'openai'
/** OpenAI's ceiling for a batch input file (bytes). */
export const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024
const BACKEND_ERRORS = [...V1_ERRORS, 'UPSTREAM_ERROR', 'JOBS_NOT_CONFIGURED'] as const
/** Seconds a caller turned away by UPLOADS_BUSY is told to wait. */
const UPLOADS_BUSY_RETRY_AFTER_S = 5
/** One file part and a few fields (purpose; bytes of a field's value). */
const FORM_LIMITS: FormLimits = { fileBytes: MAX_BATCH_FILE_BYTES, files: 1, fields: 4, fieldBytes: 1024 }

function unsupportedMediaType (contentType: string | undefined): CatalogError {
  return catalogError('UNSUPPORTED_MEDIA_TYPE', `content-type ${JSON.stringify(contentType ?? '')} is not accepted here; send multipart/form-data with fields file and purpose`)
}

/** /v1/files: OpenAI's Files API for batch input files and batch results. */
const openAiFilesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  useOpenAiErrors(app)
  // uploads stream (never whole in memory): the form is read from the counted body in the
  // handler, as every other body is read from it (src/http/multipart.ts)
  app.addContentTypeParser('multipart/form-data', (_request, payload, done) => { done(null, payload) })
  // shares the datasets' cap on uploads at once (each holds its multipart part buffers)
  const maxUploads = app.config.DATASET_UPLOADS_MAX
  let uploading = 0

  app.post('/v1/files', {
    schema: {
      tags: [TAG],
      operationId: 'createFile',
      summary: 'Upload a batch input file (multipart, purpose=batch)',
      description: 'OpenAI\'s file upload. The file is JSONL, one `{"custom_id","method":"POST","url","body"}` per line; it is streamed to S3 and every line is checked as OpenAI checks it: ' +
        '`custom_id` unique, `method` POST, `url` /v1/completions or /v1/chat/completions, `body` valid for that route, one `url` and one `body.model` per file, ' +
        `at most ${MAX_BATCH_REQUESTS} requests, ${MAX_BATCH_FILE_BYTES} bytes, ${MAX_DATASET_LINE_BYTES} bytes per line. A bad line is a 400 naming the line and field; nothing is kept.`,
      security: BEARER_AUTH,
      consumes: ['multipart/form-data'],
      body: UploadFileForm,
      response: {
        200: jsonResponse('The stored file.', Type.Ref('OpenAiFile'), { examples: { file: { summary: 'a stored batch input file', value: FILE_EXAMPLE } } }),
        ...openAiErrorResponses('INVALID_REQUEST', 'DATASET_INVALID', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'REQUEST_TIMEOUT', 'UPLOADS_BUSY', ...BACKEND_ERRORS)
      }
    },
    config: { streamedBody: true },
    // any other body (JSON up to its parser's limit) would be read before a 415, outside the
    // memory budget a streamed route does not reserve: it is refused on its headers, unread
    onRequest: async (request) => {
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
      if (mediaType !== 'multipart/form-data') throw unsupportedMediaType(request.headers['content-type'])
    },
    // the form is read as a stream in the handler
    validatorCompiler: (route) => route.httpPart === 'body' ? () => true : validatorCompiler(route)
  }, async (request, reply) => {
    const { files } = app.bucketServices()
    const body: unknown = request.body
    if (!isBodyStream(body)) throw unsupportedMediaType(request.headers['content-type'])
    if (uploading >= maxUploads) {
      throw catalogError('UPLOADS_BUSY', `${uploading} uploads are in progress (limit ${maxUploads}, DATASET_UPLOADS_MAX); retry shortly`, { retryAfterSeconds: UPLOADS_BUSY_RETRY_AFTER_S })
    }
    uploading++
    const tenant = tenantOf(request)
    let purpose: string | undefined
    let stored: FileObject | undefined
    const checkPurpose = (value: string): void => {
      if (value !== 'batch') throw catalogError('INVALID_REQUEST', `purpose ${JSON.stringify(value)} is not supported; this gateway stores batch input files: purpose "batch"`, { param: 'purpose' })
    }
    try {
      for await (const part of formParts(body, request.headers, FORM_LIMITS, ['file'])) {
        if (part.kind === 'field') {
          if (part.name !== 'purpose') throw catalogError('INVALID_REQUEST', `form field ${JSON.stringify(part.name)} is not supported; send file and purpose`, { param: part.name })
          purpose = part.value
          checkPurpose(purpose)
          continue
        }
        if (part.name !== 'file') throw catalogError('INVALID_REQUEST', `form file field ${JSON.stringify(part.name)} is not supported; send the file as field "file"`, { param: part.name })
        if (part.kind === 'unnamed-file') {
          throw catalogError('INVALID_REQUEST', 'form field "file" has no filename: send it as a file part (Content-Disposition: form-data; name="file"; filename="batch.jsonl")', { param: 'file' })
        }
        const filename = part.filename === '' ? 'upload.jsonl' : part.filename
        if (filename.length > MAX_FILENAME) throw catalogError('INVALID_REQUEST', `file name has ${filename.length} characters; the limit is ${MAX_FILENAME}`, { param: 'file' })
        stored = await files.uploadBatchInput(tenant, part.bytes, filename)
      }
      if (stored === undefined) throw catalogError('INVALID_REQUEST', 'file is required: send the JSONL as form field "file"', { param: 'file' })
      if (purpose === undefined) throw catalogError('INVALID_REQUEST', 'purpose is required: send form field purpose=batch', { param: 'purpose' })
      request.log.info({ file: stored.id, bytes: stored.bytes }, 'openai file stored')
      return stored
    } catch (err) {
      // a refused upload keeps nothing: a file stored before a later part failed (a bad purpose,
      // an unsupported field, a body cut short, the drain deadline) is deleted
      if (stored !== undefined) await files.delete(tenant, stored.id).catch(() => {})
      // the rest of a refused form is not read: the connection closes after the answer
      if (!request.raw.readableEnded) void reply.header('connection', 'close')
      if (err instanceof DatasetInvalidError) {
        request.log.info({ invalidLines: err.detail.invalidLines }, 'openai file rejected')
        throw catalogError('DATASET_INVALID', err.message, { param: 'file' })
      }
      throw err
    } finally {
      uploading--
    }
  })

  app.get('/v1/files', {
    schema: {
      tags: [TAG],
      operationId: 'listFiles',
      summary: 'List your files, newest first',
      description: 'OpenAI\'s cursor pagination: `limit`, `after` (a file id), `has_more`, `first_id`, `last_id`. Only the caller\'s own files (an admin: every tenant\'s).',
      security: BEARER_AUTH,
      querystring: ListFilesQuery,
      response: {
        200: jsonResponse('A page of files.', OpenAiFileList, { examples: { page: { summary: 'one file', value: { object: 'list', data: [FILE_EXAMPLE], has_more: false, first_id: FILE_EXAMPLE.id, last_id: FILE_EXAMPLE.id } } } }),
        ...openAiErrorResponses('INVALID_REQUEST', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().files.list(tenantOf(request), request.query)
  })

  app.get('/v1/files/:file_id', {
    schema: {
      tags: [TAG],
      operationId: 'retrieveFile',
      summary: 'One file',
      description: 'Another tenant\'s file is not found (404), as jobs are.',
      security: BEARER_AUTH,
      params: FileIdParams,
      response: {
        200: jsonResponse('The file.', Type.Ref('OpenAiFile'), { examples: { file: { summary: 'a batch input file', value: FILE_EXAMPLE } } }),
        ...openAiErrorResponses('INVALID_REQUEST', 'FILE_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().files.get(tenantOf(request), request.params.file_id)
  })

  app.get('/v1/files/:file_id/content', {
    schema: {
      tags: [TAG],
      operationId: 'downloadFile',
      summary: 'A file\'s content',
      description: 'The bytes as stored: an upload as it was sent; a batch\'s output or error file as JSONL, one line per request in input order.',
      security: BEARER_AUTH,
      params: FileIdParams,
      response: {
        200: mediaResponse('application/x-ndjson', 'The file\'s bytes (JSON Lines).', Type.Unsafe<Readable>(Type.String({ examples: ['{"id": "batch_req_1", "custom_id": "r-1", "response": {"status_code": 200, "request_id": "req_1", "body": {"object": "text_completion"}}, "error": null}\n'] }))),
        ...openAiErrorResponses('INVALID_REQUEST', 'FILE_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const body = await app.bucketServices().files.content(tenantOf(request), request.params.file_id)
    return await reply.type('application/x-ndjson').send(body)
  })

  app.delete('/v1/files/:file_id', {
    schema: {
      tags: [TAG],
      operationId: 'deleteFile',
      summary: 'Delete a file',
      description: 'Removes the file\'s content and object. A batch already created from an input file keeps running (it holds its own copy of the requests).',
      security: BEARER_AUTH,
      params: FileIdParams,
      response: {
        200: jsonResponse('Deleted.', OpenAiFileDeleted, { examples: { deleted: { summary: 'the file is gone', value: { id: FILE_EXAMPLE.id, object: 'file', deleted: true } } } }),
        ...openAiErrorResponses('INVALID_REQUEST', 'FILE_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().files.delete(tenantOf(request), request.params.file_id)
  })
}
export default openAiFilesRoutes
