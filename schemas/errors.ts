/**
 * The error shapes a client can get (the gateway's own and OpenAI's), each with its rendering of
 * a catalog error, and the error responses of every route in the OpenAPI document, built from
 * the catalog table (error-catalog.ts). Imports nothing from src/: src/http/errors.ts answers
 * with these renderings (useOpenAiErrors for the OpenAI-compatible routes).
 */
import { STATUS_CODES } from 'node:http'
import { Type, type Static, type TRef } from 'typebox'
import { ERROR_CATALOG, type ClientErrorFields, type ErrorCode } from './error-catalog.js'
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

/** The HTTP status of a catalog code, read from the catalog itself. */
function statusOf (code: ErrorCode): number {
  return ERROR_CATALOG[code].status
}

/** The reason phrase of an HTTP status, for the `error` member (499 is nginx's, unknown to node:http). */
function httpReason (status: number): string {
  if (status === 499) return 'Client Closed Request'
  return STATUS_CODES[status] ?? 'Error'
}

/** The gateway's own error shape `{"statusCode","code","error","message"}`. */
export function gatewayErrorBody (clientError: ClientErrorFields): ErrorResponse {
  return {
    statusCode: clientError.statusCode,
    code: clientError.code,
    error: httpReason(clientError.statusCode),
    message: clientError.message
  }
}

/** Documents `WWW-Authenticate: Bearer` on 401. */
const WwwAuthenticateHeader: HeaderDoc = { description: 'Always `Bearer`.', type: 'string', examples: ['Bearer'] }

/**
 * OpenAI's error shape, answered by the OpenAI-compatible routes (useOpenAiErrors, src/http/errors.ts).
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

/** OpenAI's error object. */
export interface OpenAiError {
  message: string
  type: string
  param: string | null
  code: string | null
}

// the codes OpenAI itself uses where ours mean the same thing; others are ours, lower-cased
const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'invalid_api_key',
  ENDPOINT_NOT_FOUND: 'model_not_found',
  RATE_LIMITED: 'rate_limit_exceeded',
  INTERNAL_ERROR: 'server_error'
}

/** OpenAI's `type` for a status: its API sends these (`requests` is its rate-limit type). */
function openAiTypeOf (status: number): string {
  if (status === 429) return 'requests'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/**
 * Renders a catalog error in OpenAI's shape `{"error": {"message", "type", "param", "code"}}`,
 * keeping the catalog's status, which OpenAI's client libraries map to their exception classes
 * (400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError,
 * 409 ConflictError, 422 UnprocessableEntityError, 429 RateLimitError, >= 500
 * InternalServerError). Reference: https://platform.openai.com/docs/guides/error-codes and the
 * `openai` package's `APIError.generate`. Served by useOpenAiErrors (src/http/errors.ts).
 */
export function openAiErrorBody (clientError: ClientErrorFields): { error: OpenAiError } {
  return {
    error: {
      message: clientError.message,
      type: openAiTypeOf(clientError.statusCode),
      param: clientError.param ?? null,
      code: OPENAI_CODES[clientError.code as ErrorCode] ?? clientError.code.toLowerCase()
    }
  }
}

type ErrorRef = TRef<'ErrorResponse'> | TRef<'OpenAiErrorResponse'>
/** How one error shape is documented: its schema and the example body of a code. */
interface ShapeDoc {
  ref: ErrorRef
  example: (code: ErrorCode, status: number) => unknown
}
const GATEWAY_SHAPE: ShapeDoc = {
  ref: Type.Ref('ErrorResponse'),
  example: (code, status) => gatewayErrorBody({ statusCode: status, code, message: ERROR_CATALOG[code].example })
}
const OPENAI_SHAPE: ShapeDoc = {
  ref: Type.Ref('OpenAiErrorResponse'),
  example: (code, status) => openAiErrorBody({ statusCode: status, code, message: ERROR_CATALOG[code].example })
}

/** One documented error status: its codes, what they mean, headers and a named example per code. */
function errorResponse (status: number, codes: readonly ErrorCode[], shape: ShapeDoc): ResponseDoc<ErrorRef> {
  const retrying = codes.filter(c => ERROR_CATALOG[c].retryAfter === true)
  const names = codes.length < 2 ? codes.join('') : `${codes.slice(0, -1).join(', ')} or ${codes[codes.length - 1] ?? ''}`
  let retry = ''
  if (retrying.length === codes.length) retry = ', with Retry-After'
  else if (retrying.length > 0) retry = `, with Retry-After (not for ${codes.filter(c => !retrying.includes(c)).join(', ')})`
  // "401 UNAUTHORIZED: missing ..." for one code; "503 A or B, with Retry-After. A: ... B: ..." for several
  const first = codes[0]
  const meanings = codes.length === 1 && first !== undefined
    ? `: ${ERROR_CATALOG[first].meaning}.`
    : '. ' + codes.map(c => `${c}: ${ERROR_CATALOG[c].meaning}.`).join(' ')
  const headers: Record<string, HeaderDoc> = {}
  if (retrying.length > 0) headers['Retry-After'] = RetryAfterHeader
  if (status === 401) headers['WWW-Authenticate'] = WwwAuthenticateHeader
  const examples: Record<string, ExampleDoc> = {}
  for (const code of codes) {
    examples[code] = { summary: ERROR_CATALOG[code].meaning, value: shape.example(code, status) }
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
