import { Type, type Static, type TRef } from 'typebox'
import { catalogError, Errors, type ErrorCode } from '../src/errors.js'
import { openAiErrorBody } from '../src/openai/errors.js'
import { httpReason } from '../src/http/errors.js'
import { MAX_JSON_DEPTH } from '../src/util/json-bounds.js'
import { type ExampleDoc, type HeaderDoc, type ResponseDoc, RetryAfterHeader, jsonResponse } from './responses.js'

/** Fastify's error shape; `code` is stable so clients can branch on it. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer({ description: 'The HTTP status, repeated.', examples: [400] }),
  code: Type.String({ description: 'Stable machine-readable code (INVALID_PARAMETERS, QUEUE_FULL, JOB_NOT_FOUND, ...); branch on this, not on `message`.', examples: ['INVALID_PARAMETERS'] }),
  error: Type.String({ description: 'The HTTP reason phrase.', examples: ['Bad Request'] }),
  message: Type.String({ description: 'What went wrong, naming the offending field and value. Never carries stack traces or AWS internals.', examples: ['body.parameters.num_beams must be <= 16 (got 20)'] })
}, {
  $id: 'ErrorResponse',
  title: 'ErrorResponse',
  description: 'Error body. `message` names the offending field and value.',
  examples: [{ statusCode: 400, code: 'INVALID_PARAMETERS', error: 'Bad Request', message: 'body.parameters.num_beams must be <= 16 (got 20)' }]
})
export type ErrorResponse = Static<typeof ErrorResponse>

/** What one catalog code means to a client, and a message it could carry. */
interface ErrorDoc {
  meaning: string
  example: string
  /** true when the reply carries Retry-After (seconds) */
  retryAfter?: true
}

/**
 * Every code of the error catalog (src/errors.ts), as documented in the OpenAPI document.
 * A Record over ErrorCode: a code added to the catalog does not compile until documented here.
 */
export const ERROR_DOCS: Record<ErrorCode, ErrorDoc> = {
  INVALID_REQUEST: { meaning: 'the request breaks the schema or a rule of this route', example: 'body.text must NOT have fewer than 1 characters (got "")' },
  INVALID_PARAMETERS: { meaning: 'a generation parameter is out of range or unknown', example: 'body.parameters.num_beams must be <= 16 (got 20)' },
  INVALID_JSON: { meaning: `the body is not valid JSON, or nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, example: 'body is not valid JSON: Unexpected end of JSON input' },
  DATASET_INVALID: { meaning: 'some lines of the upload are invalid; nothing was stored', example: '1 line is invalid; nothing was stored. line 2: line.id "a" is duplicated (first on line 1)' },
  INVALID_S3_URI: { meaning: 'an s3Uri is not an s3://bucket/key URI', example: 'body.input.s3Uri: expected s3://bucket/key' },
  S3_URI_NOT_ALLOWED: { meaning: 'an s3Uri lies outside ALLOWED_S3_PREFIXES', example: 'body.input.s3Uri "s3://other-bucket/data.jsonl" is outside the allowed S3 prefixes: s3://text2text-local/' },
  S3_OBJECT_NOT_FOUND: { meaning: 'an s3Uri matches no S3 object', example: 'body.input.s3Uri "s3://text2text-local/missing.jsonl" matches no S3 object' },
  UNAUTHORIZED: { meaning: 'missing or unrecognised API key (only when API_KEYS is set)', example: 'missing API key: send Authorization: Bearer <key>' },
  NOT_FOUND: { meaning: 'no such route', example: 'no route GET /v1/nope' },
  JOB_NOT_FOUND: { meaning: 'no transform job of this gateway has that name', example: 'no transform job named "cnn-eval-1"' },
  REQUEST_TIMEOUT: { meaning: 'the request body arrived too slowly (BODY_TIMEOUT_MS for JSON bodies, DATASET_MIN_BYTES_PER_SECOND for uploads); the connection is closed', example: 'the request body did not arrive within BODY_TIMEOUT_MS (60000 ms); 120 bytes were received' },
  JOB_NOT_COMPLETE: { meaning: 'the job is still InProgress or Stopping', example: 'transform job "cnn-eval-1" is InProgress; results are available once it has ended' },
  NO_PREDICTIONS: { meaning: 'the job has ended but its output holds no prediction for any record: there is nothing to score', example: 'transform job "cnn-eval-1" is Completed but its output holds no prediction for any of its 30 records; there is nothing to evaluate' },
  CONFLICT: { meaning: 'the request contradicts the job\'s state or an existing job', example: 'transform job "cnn-eval-1" already exists for a different request (same name); use a new name for a new job' },
  CANCELLED: { meaning: 'the client went away before the answer (nobody reads this reply)', example: 'cancelled by the caller' },
  BODY_TOO_LARGE: { meaning: 'the request body exceeds this route\'s limit', example: 'request body is larger than this route accepts: Request body is too large' },
  BATCH_TOO_LARGE: { meaning: 'text_inputs has more items than GENERATE_MAX_ITEMS', example: 'body.text_inputs has 300 items; the limit is 256' },
  PAYLOAD_TOO_LARGE: { meaning: 'one input alone exceeds the endpoint payload limit', example: 'a payload with this input alone is 6300000 bytes, over the 6291456-byte limit' },
  TEXT_TOO_LONG: { meaning: 'a text is too long to score', example: 'body.references[0].text has 200001 tokens; the limit is 200000' },
  UNSUPPORTED_MEDIA_TYPE: { meaning: 'the Content-Type is not accepted here', example: 'Unsupported Media Type: text/plain; send application/json' },
  RATE_LIMITED: { meaning: 'the key (or address) used its RATE_LIMIT_MAX requests this minute', example: 'rate limit of 60 requests per minute exceeded; retry in 12 s', retryAfter: true },
  INTERNAL_ERROR: { meaning: 'an unexpected failure; the body carries no internals', example: 'internal error' },
  MODEL_ERROR: { meaning: 'the model failed on this input', example: 'the model failed on this input' },
  UPSTREAM_ERROR: { meaning: 'SageMaker or S3 failed', example: 'SageMaker DescribeTransformJob failed' },
  QUEUE_FULL: { meaning: 'the micro-batcher queue is full', example: '512 items are already waiting (limit 512)', retryAfter: true },
  ENDPOINT_UNAVAILABLE: { meaning: 'the endpoint is throttling or failing, or the gateway is shedding load', example: 'the gateway is overloaded (eventLoopDelay); retry shortly', retryAfter: true },
  SHUTTING_DOWN: { meaning: 'the gateway is draining for shutdown', example: 'the batcher is shutting down', retryAfter: true },
  JOBS_NOT_CONFIGURED: { meaning: 'datasets and transform jobs need S3_BUCKET (AWS mode)', example: 'datasets and transform jobs need an S3 bucket: set S3_BUCKET' },
  SAGEMAKER_UNAVAILABLE: { meaning: 'the SageMaker control plane throttled the call or is out of capacity', example: 'SageMaker CreateTransformJob was refused: ThrottlingException; retry later', retryAfter: true },
  UPLOADS_BUSY: { meaning: 'DATASET_UPLOADS_MAX dataset uploads are already in progress', example: '4 dataset uploads are in progress (limit 4); retry shortly', retryAfter: true },
  BODIES_BUSY: { meaning: 'BODY_BYTES_IN_FLIGHT_MAX bytes of request bodies are already being read; this body was not read', example: 'request bodies in flight hold 62914560 of BODY_BYTES_IN_FLIGHT_MAX 67108864 bytes; this one (31457280 bytes) does not fit, retry shortly', retryAfter: true },
  DEADLINE_EXCEEDED: { meaning: 'no answer within REQUEST_TIMEOUT_MS', example: 'deadline passed before the model answered' },
  FORBIDDEN: { meaning: 'the tenant may not do this (managing endpoints needs an admin key; instance types and counts are limited per tenant)', example: 'only admin tenants (ADMIN_API_KEYS) may deploy endpoints; tenant "acme" is not one' },
  ENDPOINT_NOT_FOUND: { meaning: 'no endpoint of this gateway (or in SAGEMAKER_ENDPOINT_NAME) has that name', example: 'no endpoint named "flan-t5-xl-demo" (deployed by this gateway or in SAGEMAKER_ENDPOINT_NAME)' },
  NOT_MANAGED: { meaning: 'the endpoint was not deployed by this gateway, so it is not scaled or deleted here', example: 'endpoint "prod-flan" was not deployed by this gateway; it cannot be deleted here' },
  FILE_NOT_FOUND: { meaning: 'no file of this tenant has that id', example: 'no file with id "file-abc123"' },
  BATCH_NOT_FOUND: { meaning: 'no batch of this tenant has that id', example: 'no batch with id "batch_abc123"' }
}

/** The HTTP status of a catalog code, read from the catalog itself. */
export function statusOf (code: ErrorCode): number {
  return new Errors[code]('').statusCode
}

/** Documents `WWW-Authenticate: Bearer` on 401. */
const WwwAuthenticateHeader: HeaderDoc = { description: 'Always `Bearer`.', type: 'string', examples: ['Bearer'] }

/**
 * OpenAI's error shape, answered by the OpenAI-compatible routes (src/openai/errors.ts).
 * https://platform.openai.com/docs/guides/error-codes
 */
export const OpenAiErrorResponse = Type.Object({
  error: Type.Object({
    message: Type.String({ description: 'What went wrong, naming the offending field and value.', examples: ['max_tokens must be >= 1 (got 0)'] }),
    type: Type.String({ description: 'OpenAI\'s error type: invalid_request_error (4xx), requests (429), server_error (5xx).', examples: ['invalid_request_error'] }),
    param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault, or null.', examples: ['max_tokens'] }),
    code: Type.Union([Type.String(), Type.Null()], { description: 'OpenAI\'s code where one means the same (invalid_api_key, model_not_found, rate_limit_exceeded), else the gateway\'s catalog code in lower case.', examples: ['invalid_parameters'] })
  })
}, {
  $id: 'OpenAiErrorResponse',
  title: 'OpenAiErrorResponse',
  description: 'Error body of the OpenAI-compatible routes, in OpenAI\'s shape.'
})

type ErrorRef = TRef<'ErrorResponse'> | TRef<'OpenAiErrorResponse'>
/** How one error shape is documented: its schema and the example body of a code. */
interface ShapeDoc {
  ref: ErrorRef
  example: (code: ErrorCode, status: number) => unknown
}
const GATEWAY_SHAPE: ShapeDoc = {
  ref: Type.Ref('ErrorResponse'),
  example: (code, status) => ({ statusCode: status, code, error: httpReason(status), message: ERROR_DOCS[code].example })
}
const OPENAI_SHAPE: ShapeDoc = {
  ref: Type.Ref('OpenAiErrorResponse'),
  example: (code) => openAiErrorBody(catalogError(code, ERROR_DOCS[code].example))
}

/** One documented error status: its codes, what they mean, headers and a named example per code. */
function errorResponse (status: number, codes: readonly ErrorCode[], shape: ShapeDoc): ResponseDoc<ErrorRef> {
  const retrying = codes.filter(c => ERROR_DOCS[c].retryAfter === true)
  const names = codes.length < 2 ? codes.join('') : `${codes.slice(0, -1).join(', ')} or ${codes[codes.length - 1] ?? ''}`
  let retry = ''
  if (retrying.length === codes.length) retry = ', with Retry-After'
  else if (retrying.length > 0) retry = `, with Retry-After (not for ${codes.filter(c => !retrying.includes(c)).join(', ')})`
  // "401 UNAUTHORIZED: missing ..." for one code; "503 A or B, with Retry-After. A: ... B: ..." for several
  const first = codes[0]
  const meanings = codes.length === 1 && first !== undefined
    ? `: ${ERROR_DOCS[first].meaning}.`
    : '. ' + codes.map(c => `${c}: ${ERROR_DOCS[c].meaning}.`).join(' ')
  const headers: Record<string, HeaderDoc> = {}
  if (retrying.length > 0) headers['Retry-After'] = RetryAfterHeader
  if (status === 401) headers['WWW-Authenticate'] = WwwAuthenticateHeader
  const examples: Record<string, ExampleDoc> = {}
  for (const code of codes) {
    examples[code] = { summary: ERROR_DOCS[code].meaning, value: shape.example(code, status) }
  }
  return jsonResponse(`${status} ${names}${retry}${meanings}`, shape.ref, {
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    examples
  })
}

/**
 * Response entries for the errors a route can return, grouped by status: pass the catalog
 * codes the route can answer with. Each status gets the shared ErrorResponse schema, a
 * description naming its codes, Retry-After / WWW-Authenticate where sent, and one example
 * per code.
 */
export function errorResponses (...codes: ErrorCode[]): Record<number, ResponseDoc<ErrorRef>> {
  return shapedErrorResponses(GATEWAY_SHAPE, codes)
}

/** errorResponses for the OpenAI-compatible routes: the same codes, in OpenAI's error shape. */
export function openAiErrorResponses (...codes: ErrorCode[]): Record<number, ResponseDoc<ErrorRef>> {
  return shapedErrorResponses(OPENAI_SHAPE, codes)
}

function shapedErrorResponses (shape: ShapeDoc, codes: readonly ErrorCode[]): Record<number, ResponseDoc<ErrorRef>> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of codes) {
    const status = statusOf(code)
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  const out: Record<number, ResponseDoc<ErrorRef>> = {}
  for (const [status, group] of [...byStatus].sort((a, b) => a[0] - b[0])) out[status] = errorResponse(status, group, shape)
  return out
}

/** The codes every authenticated /v1 route can answer with, whatever it does (SHUTTING_DOWN: while draining, and a body still arriving at the drain deadline). */
export const V1_ERRORS = ['UNAUTHORIZED', 'RATE_LIMITED', 'INTERNAL_ERROR', 'ENDPOINT_UNAVAILABLE', 'SHUTTING_DOWN'] as const satisfies readonly ErrorCode[]
/** The codes of a route that reads a JSON body. */
export const JSON_BODY_ERRORS = ['INVALID_REQUEST', 'INVALID_JSON', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'REQUEST_TIMEOUT', 'BODIES_BUSY'] as const satisfies readonly ErrorCode[]
