// One refusal of a `model` no endpoint serves (the endpoints' resolver), rendered by each
// contract: the gateway's 400 naming body.model, OpenAI's 404 model_not_found naming `model`.
import t from 'tap'
import { ModelNotServed } from '../../src/endpoints/resolver.js'
import { catalogError } from '../../src/errors.js'
import { realtimeEndpoint } from '../../src/openai/models.js'
import { localApp } from '../helpers/local-app.js'

t.test('realtimeEndpoint renders the resolver\'s ModelNotServed as OpenAI\'s model_not_found and nothing else', async t => {
  const resolving = (answer: () => Promise<string>): { resolveEndpoint: () => Promise<string> } => ({ resolveEndpoint: answer })
  t.equal(await realtimeEndpoint(resolving(async () => 'flan-t5-local'), undefined), 'flan-t5-local', 'a configured name')
  t.equal(await realtimeEndpoint(resolving(async () => 'deployed'), 'deployed'), 'deployed')
  const refused = new ModelNotServed('gone', 'is Failed; it cannot serve requests')
  const err = await Promise.resolve(realtimeEndpoint(resolving(async () => { throw refused }), 'gone')).catch((e: unknown) => e)
  t.match(err, { code: 'ENDPOINT_NOT_FOUND', statusCode: 404, param: 'model', message: 'model "gone" is Failed; it cannot serve requests' })
  t.equal((err as Error).cause, refused, 'the resolver\'s refusal is the cause')
  const busy = catalogError('ENDPOINT_UNAVAILABLE', 'endpoint "x" is Creating', { retryAfterSeconds: 5 })
  t.equal(await Promise.resolve(realtimeEndpoint(resolving(async () => { throw busy }), 'x')).catch((e: unknown) => e), busy, 'other refusals pass as they are')
})

t.test('an unknown model over HTTP: 400 on /v1/summarize and /v1/generate, 404 model_not_found on OpenAI\'s routes', async t => {
  const { app } = await localApp(t)
  for (const [url, payload] of [['/v1/summarize', { text: 'Some text.', model: 'no-such-endpoint' }], ['/v1/generate', { text_inputs: 'Some text.', model: 'no-such-endpoint' }]] as const) {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { code: 'INVALID_REQUEST', message: /^body\.model "no-such-endpoint" is not served here; available: flan-t5-local/ }, url)
  }
  for (const [url, payload] of [
    ['/v1/completions', { model: 'no-such-endpoint', prompt: 'Some text.' }],
    ['/v1/chat/completions', { model: 'no-such-endpoint', messages: [{ role: 'user', content: 'Some text.' }] }]
  ] as const) {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 404, url)
    t.same(Object.keys(res.json().error).sort(), ['code', 'message', 'param', 'type'], url)
    t.match(res.json().error, { code: 'model_not_found', param: 'model', type: 'invalid_request_error', message: /^model "no-such-endpoint" is not served here; available: flan-t5-local/ }, url)
  }
})
