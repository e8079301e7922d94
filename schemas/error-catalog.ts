/**
 * The error catalog as one table: every error a client can see, one row per stable code, with
 * its HTTP status, whether it is an expected refusal, and how the OpenAPI document describes it.
 * A new code is one row. src/errors.ts builds the thrown errors (@fastify/error) from it,
 * schemas/errors.ts the documented responses; so this module is data and types only and imports
 * nothing of the project but the JSON depth limit it names.
 */
import { MAX_JSON_DEPTH } from './json-bounds.js'

/** One code of the catalog. */
export interface CatalogEntry {
  /** the HTTP status the client gets */
  status: number
  /**
   * the gateway working as designed (load, limits, draining, configuration): logged at warn
   * without a stack, whatever the status; other 5xx are failures (error, with stack)
   */
  refusal?: true
  /** true when the reply carries Retry-After (seconds) */
  retryAfter?: true
  /** what the code means to a client (the OpenAPI document's description) */
  meaning: string
  /** a message it could carry (the OpenAPI document's example) */
  example: string
}

const ROWS = {
  INVALID_REQUEST: { status: 400, meaning: 'the request breaks the schema or a rule of this route', example: 'body.text must NOT have fewer than 1 characters (got "")' },
  INVALID_PARAMETERS: { status: 400, meaning: 'a generation parameter is out of range or unknown', example: 'body.parameters.num_beams must be <= 16 (got 20)' },
  INVALID_JSON: { status: 400, meaning: `the body is not valid JSON, or nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, example: 'body is not valid JSON: Unexpected end of JSON input' },
  // the 400 body also lists the bad lines (`errors: [{line, message}]`)
  DATASET_INVALID: { status: 400, meaning: 'some lines of the upload are invalid; nothing was stored', example: '1 line is invalid; nothing was stored. line 2: line.id "a" is duplicated (first on line 1)' },
  INVALID_S3_URI: { status: 400, meaning: 'an s3Uri is not an s3://bucket/key URI', example: 'body.input.s3Uri: expected s3://bucket/key' },
  S3_URI_NOT_ALLOWED: { status: 400, meaning: 'an s3Uri lies outside ALLOWED_S3_PREFIXES', example: 'body.input.s3Uri "s3://other-bucket/data.jsonl" is outside the allowed S3 prefixes: s3://text2text-local/' },
  S3_OBJECT_NOT_FOUND: { status: 400, meaning: 'an s3Uri matches no S3 object', example: 'body.input.s3Uri "s3://text2text-local/missing.jsonl" matches no S3 object' },
  UNAUTHORIZED: { status: 401, meaning: 'missing or unrecognised API key (only when API_KEYS is set)', example: 'missing API key: send Authorization: Bearer <key>' },
  NOT_FOUND: { status: 404, meaning: 'no such route', example: 'no route GET /v1/nope' },
  JOB_NOT_FOUND: { status: 404, meaning: 'no transform job of this gateway has that name', example: 'no transform job named "cnn-eval-1"' },
  // the connection is closed after the answer
  REQUEST_TIMEOUT: { status: 408, refusal: true, meaning: 'the request body arrived too slowly (BODY_TIMEOUT_MS for JSON bodies, DATASET_MIN_BYTES_PER_SECOND for uploads); the connection is closed', example: 'the request body did not arrive within BODY_TIMEOUT_MS (60000 ms); 120 bytes were received' },
  JOB_NOT_COMPLETE: { status: 409, meaning: 'the job is still InProgress or Stopping', example: 'transform job "cnn-eval-1" is InProgress; results are available once it has ended' },
  NO_PREDICTIONS: { status: 409, meaning: 'the job has ended but its output holds no prediction for any record: there is nothing to score', example: 'transform job "cnn-eval-1" is Completed but its output holds no prediction for any of its 30 records; there is nothing to evaluate' },
  CONFLICT: { status: 409, meaning: 'the request contradicts the job\'s state or an existing job', example: 'transform job "cnn-eval-1" already exists for a different request (same name); use a new name for a new job' },
  // nginx's 'client closed request': the caller went away, nobody reads this response
  CANCELLED: { status: 499, meaning: 'the client went away before the answer (nobody reads this reply)', example: 'cancelled by the caller' },
  BODY_TOO_LARGE: { status: 413, meaning: 'the request body exceeds this route\'s limit', example: 'request body is larger than this route accepts: Request body is too large' },
  BATCH_TOO_LARGE: { status: 413, meaning: 'text_inputs has more items than GENERATE_MAX_ITEMS', example: 'body.text_inputs has 300 items; the limit is 256' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'one input alone exceeds the endpoint payload limit', example: 'a payload with this input alone is 6300000 bytes, over the 6291456-byte limit' },
  TEXT_TOO_LONG: { status: 413, meaning: 'a text is too long to score', example: 'body.references[0].text has 200001 tokens; the limit is 200000' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the Content-Type is not accepted here', example: 'Unsupported Media Type: text/plain; send application/json' },
  RATE_LIMITED: { status: 429, refusal: true, retryAfter: true, meaning: 'the key (or address) used its RATE_LIMIT_MAX requests this minute', example: 'rate limit of 60 requests per minute exceeded; retry in 12 s' },
  INTERNAL_ERROR: { status: 500, meaning: 'an unexpected failure; the body carries no internals', example: 'internal error' },
  MODEL_ERROR: { status: 502, meaning: 'the model failed on this input', example: 'the model failed on this input' },
  UPSTREAM_ERROR: { status: 502, meaning: 'SageMaker or S3 failed', example: 'SageMaker DescribeTransformJob failed' },
  QUEUE_FULL: { status: 503, refusal: true, retryAfter: true, meaning: 'the micro-batcher queue is full', example: '512 items are already waiting (limit 512)' },
  ENDPOINT_UNAVAILABLE: { status: 503, refusal: true, retryAfter: true, meaning: 'the endpoint is throttling or failing, or the gateway is shedding load', example: 'the gateway is overloaded (eventLoopDelay); retry shortly' },
  SHUTTING_DOWN: { status: 503, refusal: true, retryAfter: true, meaning: 'the gateway is draining for shutdown', example: 'the batcher is shutting down' },
  JOBS_NOT_CONFIGURED: { status: 503, refusal: true, meaning: 'datasets and transform jobs need S3_BUCKET (AWS mode)', example: 'datasets and transform jobs need an S3 bucket: set S3_BUCKET' },
  SAGEMAKER_UNAVAILABLE: { status: 503, refusal: true, retryAfter: true, meaning: 'the SageMaker control plane throttled the call or is out of capacity', example: 'SageMaker CreateTransformJob was refused: ThrottlingException; retry later' },
  UPLOADS_BUSY: { status: 503, refusal: true, retryAfter: true, meaning: 'DATASET_UPLOADS_MAX dataset uploads are already in progress', example: '4 dataset uploads are in progress (limit 4); retry shortly' },
  BODIES_BUSY: { status: 503, refusal: true, retryAfter: true, meaning: 'BODY_BYTES_IN_FLIGHT_MAX bytes of request bodies are already being read; this body was not read', example: 'request bodies in flight hold 62914560 of BODY_BYTES_IN_FLIGHT_MAX 67108864 bytes; this one (31457280 bytes) does not fit, retry shortly' },
  DEADLINE_EXCEEDED: { status: 504, meaning: 'no answer within REQUEST_TIMEOUT_MS', example: 'deadline passed before the model answered' },
  // endpoints (issue 14): managing them is for admin tenants; only the gateway's own are managed
  FORBIDDEN: { status: 403, meaning: 'the tenant may not do this (managing endpoints needs an admin key; instance types and counts are limited per tenant)', example: 'only admin tenants (ADMIN_API_KEYS) may deploy endpoints; tenant "acme" is not one' },
  ENDPOINT_NOT_FOUND: { status: 404, meaning: 'no endpoint of this gateway (or in SAGEMAKER_ENDPOINT_NAME) has that name', example: 'no endpoint named "flan-t5-xl-demo" (deployed by this gateway or in SAGEMAKER_ENDPOINT_NAME)' },
  NOT_MANAGED: { status: 409, meaning: 'the endpoint was not deployed by this gateway, so it is not scaled or deleted here', example: 'endpoint "prod-flan" was not deployed by this gateway; it cannot be deleted here' },
  // OpenAI-compatible files and batches (issue 15)
  FILE_NOT_FOUND: { status: 404, meaning: 'no file of this tenant has that id', example: 'no file with id "file-abc123"' },
  BATCH_NOT_FOUND: { status: 404, meaning: 'no batch of this tenant has that id', example: 'no batch with id "batch_abc123"' }
} satisfies Record<string, CatalogEntry>

/** A stable code of the catalog. */
export type ErrorCode = keyof typeof ROWS

/** The catalog: one row per code. */
export const ERROR_CATALOG: Readonly<Record<ErrorCode, CatalogEntry>> = ROWS

/** What a client is told of a catalog error, in whichever error shape its route answers. */
export interface ClientErrorFields {
  code: string
  statusCode: number
  message: string
  /** the request field at fault (`messages[0].role`), for error shapes that carry it apart (OpenAI's `param`) */
  param?: string
}
