// Admission to the queue as a whole (QUEUE_MAX_SIZE): a list of inputs is admitted whole or
// refused whole, on /v1/generate and OpenAI's /v1/completions alike; a single input is the
// batcher's to refuse, as on /v1/summarize.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { localApp } from '../helpers/local-app.js'

const TEXT = 'The ferry left at dawn. It reached the island by noon.'

/** t2t_items_total{outcome="queue_full"} as /metrics shows it. */
async function queueFullItems (app: FastifyInstance): Promise<number> {
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(/^t2t_items_total\{outcome="queue_full"\} (\d+)/m.exec(metrics)?.[1] ?? 0)
}

t.test('with the queue full: a list is refused whole (503 QUEUE_FULL, nothing sent), a single input as /v1/summarize is', async t => {
  // one slow slot, one item per invocation: the first call is in flight, the next two fill the queue
  const { app, stack } = await localApp(t, { QUEUE_MAX_SIZE: 2, QUEUE_MAX_PER_KEY: 2, MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 1, LOCAL_LATENCY_BASE_MS: 1500, REQUEST_TIMEOUT_MS: 20_000 })
  // a configured endpoint is described on first use (its contract); here it is known already,
  // so the three callers below reach the batcher one after another
  await app.endpoints.resolveEndpoint(undefined)
  stack.sagemaker.resetStats()
  const filling = Array.from({ length: 3 }, async (_, i) => await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: `${i}. ${TEXT}`, prompt: '' } }))
  for (let i = 0; i < 200 && app.realtime.depth < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(app.realtime.depth, 2, 'the queue is full')

  const list = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['One.', 'Two.'] } })
  t.equal(list.statusCode, 503)
  t.match(list.json(), { code: 'QUEUE_FULL', message: 'the queue cannot take 2 more items now' })
  t.equal(list.headers['retry-after'], '1')

  const prompts = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'flan-t5-local', prompt: ['One.', 'Two.'] } })
  t.equal(prompts.statusCode, 503)
  t.same(prompts.json(), { error: { message: 'the queue cannot take 2 more items now', type: 'server_error', param: null, code: 'queue_full' } }, 'refused whole: no prompt is named')
  t.equal(prompts.headers['retry-after'], '1')

  const before = await queueFullItems(app)
  const single = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: 'One.' } })
  const summarize = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'One.' } })
  for (const res of [single, summarize]) {
    t.equal(res.statusCode, 503)
    t.match(res.json(), { code: 'QUEUE_FULL', message: '2 items are already waiting (limit 2)' }, 'the batcher\'s own refusal')
    t.ok(Number(res.headers['retry-after']) >= 1)
  }
  t.equal(await queueFullItems(app) - before, 2, 'each single input counted as a refused item')

  const filled = await Promise.all(filling)
  t.same(filled.map(r => r.statusCode), [200, 200, 200], 'what was queued is served')
  t.equal(stack.sagemaker.stats().items, 3, 'only those three were ever sent: nothing of the refused')
})
