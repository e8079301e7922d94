/**
 * The HTTP shell every route shares: error mapping (toClientError, for both error shapes) and
 * the handlers, the OpenAPI document and Swagger UI, the matched-route
 * access rule, body budgets and multipart forms, load shedding, the JSON body parser (depth,
 * UTF-8, exact integers), request ids and request logs, the drain, the caller's cancel signal.
 */
export { installErrorHandler, installErrorHandlers, toClientError, useOpenAiErrors } from './errors.js'
export { registerOpenApi } from './openapi.js'
