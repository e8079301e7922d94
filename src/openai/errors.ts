/**
 * OpenAI's error shape for the OpenAI-compatible routes: `{"error": {"message", "type",
 * "param", "code"}}` with the status codes OpenAI's client libraries map to their exception
 * classes (400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError,
 * 404 NotFoundError, 409 ConflictError, 422 UnprocessableEntityError, 429 RateLimitError,
 * >= 500 InternalServerError). Reference: https://platform.openai.com/docs/guides/error-codes
 * and the `openai` package's `APIError.generate`.
 *
 * The mapping starts from the gateway's own catalog error (toClientError), so both shapes
 * agree on status, message and Retry-After; only the rendering differs.
 */
import type { FastifyInstance } from 'fastify'
import type { CatalogError, ErrorCode } from '../errors.js'
import { installErrorHandler } from '../http/errors.js'

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
function typeOf (status: number): string {
  if (status === 429) return 'requests'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/** Renders a catalog error in OpenAI's shape. */
export function openAiErrorBody (clientError: CatalogError): { error: OpenAiError } {
  return {
    error: {
      message: clientError.message,
      type: typeOf(clientError.statusCode),
      param: clientError.param ?? null,
      code: OPENAI_CODES[clientError.code as ErrorCode] ?? clientError.code.toLowerCase()
    }
  }
}

/**
 * Makes every error of the routes in `scope` (an encapsulated route plugin, including the
 * 401 and 429 of the app's auth and rate-limit hooks on those routes) answer in OpenAI's shape.
 */
export function useOpenAiErrors (scope: FastifyInstance): void {
  installErrorHandler(scope, openAiErrorBody)
}
