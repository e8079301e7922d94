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
import { openAiErrorBody } from '../../schemas/errors.js'
import { installErrorHandler } from '../http/errors.js'

// the rendering lives beside the shape's schema, where the OpenAPI document's examples use it too
export { openAiErrorBody, type OpenAiError } from '../../schemas/errors.js'

/**
 * Makes every error of the routes in `scope` (an encapsulated route plugin, including the
 * 401 and 429 of the app's auth and rate-limit hooks on those routes) answer in OpenAI's shape.
 */
export function useOpenAiErrors (scope: FastifyInstance): void {
  installErrorHandler(scope, openAiErrorBody)
}
