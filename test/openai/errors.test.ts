// OpenAI's error shape: https://platform.openai.com/docs/guides/error-codes
// (`{"error": {"message", "type", "param", "code"}}`); the statuses are those the `openai`
// package's APIError.generate maps to its exception classes.
import t from 'tap'
import Fastify from 'fastify'
import { catalogError } from '../../src/errors.js'
import { openAiErrorBody } from '../../schemas/errors.js'
import { installErrorHandlers, useOpenAiErrors } from '../../src/http/errors.js'
import { validatorCompiler } from '../../src/util/validation.js'

t.test('catalog errors render in OpenAI\'s shape with its types and codes', async t => {
  t.same(openAiErrorBody(catalogError('UNAUTHORIZED', 'missing API key')), { error: { message: 'missing API key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })
  t.same(openAiErrorBody(catalogError('ENDPOINT_NOT_FOUND', 'no endpoint named "x"')).error.code, 'model_not_found')
  t.same(openAiErrorBody(catalogError('RATE_LIMITED', 'slow down')).error, { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' })
  t.same(openAiErrorBody(catalogError('QUEUE_FULL', 'full')).error, { message: 'full', type: 'server_error', param: null, code: 'queue_full' })
  t.same(openAiErrorBody(catalogError('INVALID_REQUEST', 'bad', { param: 'messages[0].role' })).error.param, 'messages[0].role')
})

t.test('a scope with useOpenAiErrors answers validation errors in OpenAI\'s shape, naming the field; the rest of the app keeps its own', async t => {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  installErrorHandlers(app)
  const schema = { body: { type: 'object', required: ['model'], additionalProperties: false, properties: { model: { type: 'string' }, max_tokens: { type: 'integer', minimum: 1 } } } }
  await app.register(async scope => {
    useOpenAiErrors(scope)
    scope.post('/v1/completions', { schema }, async () => ({ ok: true }))
  })
  app.post('/v1/summarize', { schema }, async () => ({ ok: true }))
  t.teardown(() => app.close())

  const zero = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'm', max_tokens: 0 } })
  t.equal(zero.statusCode, 400)
  t.same(zero.json().error.param, 'max_tokens')
  t.same(zero.json().error.type, 'invalid_request_error')
  t.match(zero.json().error.message, /max_tokens must be >= 1 \(got 0\)/)
  const unknown = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'm', logprobs: 2 } })
  t.same(unknown.json().error.param, 'logprobs', 'an unknown key is the param')
  const missing = await app.inject({ method: 'POST', url: '/v1/completions', payload: {} })
  t.same(missing.json().error.param, 'model', 'a missing key is the param')
  const own = await app.inject({ method: 'POST', url: '/v1/summarize', payload: {} })
  t.same(Object.keys(own.json()).sort(), ['code', 'error', 'message', 'statusCode'], 'other routes keep the gateway shape')
})
