/**
 * What a client sees when something goes wrong, in one place: every thrown error is mapped to
 * a catalog error (validation failures with messages naming the field and value, Fastify's own
 * body errors, foreign errors as a bare 500), logged at the level its kind deserves, and sent
 * in the gateway's error shape `{"statusCode","code","error","message"}`, or in OpenAI's on the
 * OpenAI-compatible routes (useOpenAiErrors).
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import type { ErrorObject } from 'ajv'
import { catalogError, isCatalogError, isExpectedRefusal, type CatalogError } from '../errors.js'
import { redactAws } from '../util/redact-aws.js'
import { describeValidation, faultyField } from '../util/validation.js'
import { GENERATION_PARAMETER_NAMES } from '../../schemas/params.js'
import { gatewayErrorBody, openAiErrorBody } from '../../schemas/errors.js'

/**
 * 400 code for a validation failure: generation-parameter problems get their own code —
 * a bad value under a parameter name, or an unknown key where parameters are accepted.
 */
function validationCode (errors: ErrorObject[]): 'INVALID_PARAMETERS' | 'INVALID_REQUEST' {
  const touchesParams = errors.some(e => {
    const first = e.instancePath.split('/')[1] ?? ''
    if (first === 'parameters' || GENERATION_PARAMETER_NAMES.includes(first)) return true
    const siblings = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}
    return e.keyword === 'additionalProperties' && 'max_length' in siblings
  })
  return touchesParams ? 'INVALID_PARAMETERS' : 'INVALID_REQUEST'
}

/**
 * Maps whatever was thrown to a catalog error: catalog errors (what services throw) as they
 * are, validation and Fastify's own errors with messages naming the field; unknown errors
 * become a bare 500.
 */
export function toClientError (thrown: FastifyError | Error, data?: unknown): CatalogError {
  if (isCatalogError(thrown)) return thrown
  const err = thrown as FastifyError
  if (err.validation !== undefined) {
    const errors = err.validation as ErrorObject[]
    const { message } = describeValidation(errors, err.validationContext ?? 'body', data)
    const param = faultyField(errors)
    return catalogError(validationCode(errors), message, { cause: err, ...(param !== undefined ? { param } : {}) })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return catalogError('BODY_TOO_LARGE', `request body is larger than this route accepts: ${err.message}`, { cause: err })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return catalogError('UNSUPPORTED_MEDIA_TYPE', `${err.message}; send application/json`, { cause: err })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return catalogError('INVALID_JSON', 'body is empty; send a JSON object', { cause: err })
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return catalogError('INVALID_JSON', `body is not valid JSON: ${err.message}`, { cause: err })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return catalogError('INVALID_REQUEST', err.message, { cause: err })
  }
  if (err instanceof SyntaxError) return catalogError('INVALID_JSON', `body is not valid JSON: ${err.message}`, { cause: err })
  if (err.statusCode === 429) return catalogError('RATE_LIMITED', err.message, { cause: err })
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return catalogError('INVALID_REQUEST', err.message, { cause: err })
  return catalogError('INTERNAL_ERROR', 'internal error', { cause: err })
}

/** The body a client gets for an error, in the error shape of the routes that answer it. */
export type ErrorRenderer = (clientError: CatalogError) => unknown

/**
 * Sets the error handler of `scope` (the app, or one encapsulated route plugin with an error
 * shape of its own, as the OpenAI-compatible routes have): every error mapped by
 * toClientError, logged at the level its kind deserves, rendered by `render`.
 */
export function installErrorHandler (scope: FastifyInstance, render: ErrorRenderer): void {
  scope.setErrorHandler((err: FastifyError, request, reply) => {
    const parts: Record<string, unknown> = { body: request.body, querystring: request.query, params: request.params, headers: request.headers }
    const data = parts[err.validationContext ?? 'body']
    const clientError = toClientError(err, data)
    // only failures carry a stack (redacted by the err serialiser); refusals and 4xx say what and why
    if (isExpectedRefusal(clientError)) request.log.warn({ code: clientError.code, statusCode: clientError.statusCode, reason: redactAws(clientError.message) }, 'request refused')
    else if (clientError.statusCode >= 500) request.log.error({ err: clientError.cause ?? err, code: clientError.code }, 'request failed')
    else request.log.info({ code: clientError.code, statusCode: clientError.statusCode }, 'request rejected')
    if (clientError.retryAfterSeconds !== undefined) void reply.header('retry-after', String(clientError.retryAfterSeconds))
    void reply.code(clientError.statusCode).send(render(clientError))
  })
}

/**
 * Makes every error of the routes in `scope` (an encapsulated route plugin, including the
 * 401 and 429 of the app's auth and rate-limit hooks on those routes) answer in OpenAI's shape:
 * the same catalog error, status, message and Retry-After, rendered as OpenAI's clients expect
 * (schemas/errors.ts).
 */
export function useOpenAiErrors (scope: FastifyInstance): void {
  installErrorHandler(scope, openAiErrorBody)
}

/** The error handler and the not-found handler of the app. */
export function installErrorHandlers (app: FastifyInstance): void {
  installErrorHandler(app, gatewayErrorBody)
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` })
  })
}
