import t from 'tap'
import { localApp } from '../helpers/local-app.js'

const TEXT = 'The ferry left at dawn. It reached the island by noon.'

t.test('QUEUE_MAX_PER_KEY over HTTP: a flooding key gets 503 QUEUE_FULL with Retry-After, another key is served', async t => {
  // one slow slot, so the flood's items wait
  const { app } = await localApp(t, {
    API_KEYS: 'flood-key,calm-key', QUEUE_MAX_PER_KEY: 5, MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 2, LOCAL_LATENCY_BASE_MS: 100
  })
  const summarize = async (key: string, i: number) => await app.inject({
    method: 'POST', url: '/v1/summarize', headers: { authorization: `Bearer ${key}` }, payload: { text: `${i}. ${TEXT}`, prompt: '' }
  })
  const flood = Array.from({ length: 20 }, async (_, i) => await summarize('flood-key', i))
  const calm = summarize('calm-key', 99)
  const floodResults = await Promise.all(flood)
  const calmResult = await calm
  const statuses = floodResults.map(r => r.statusCode)
  t.comment(`flood-key statuses: ${JSON.stringify(statuses)}`)
  const refused = floodResults.filter(r => r.statusCode === 503)
  t.ok(refused.length >= 5, `${refused.length} of 20 flood requests refused`)
  t.ok(floodResults.every(r => r.statusCode === 200 || (r.statusCode === 503 && r.json().code === 'QUEUE_FULL')), 'only 200 or QUEUE_FULL')
  t.ok(refused.every(r => Number(r.headers['retry-after']) >= 1), 'with Retry-After')
  t.equal(calmResult.statusCode, 200, 'the other key is not refused')
  t.equal(calmResult.json().summary, `99. ${TEXT}`)
})

t.test('a /v1/generate list a key has no room for is refused whole, not half-queued', async t => {
  const { app, stack } = await localApp(t, { API_KEYS: 'k1', QUEUE_MAX_PER_KEY: 5 })
  stack.sagemaker.resetStats()
  const res = await app.inject({
    method: 'POST',
    url: '/v1/generate',
    headers: { authorization: 'Bearer k1' },
    payload: { text_inputs: Array.from({ length: 6 }, (_, i) => `Item ${i}. ${TEXT}`) }
  })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'QUEUE_FULL')
  t.ok(Number(res.headers['retry-after']) >= 1)
  t.equal(stack.sagemaker.stats().items, 0, 'nothing of it was sent')
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/generate',
    headers: { authorization: 'Bearer k1' },
    payload: { text_inputs: Array.from({ length: 5 }, (_, i) => `Item ${i}. ${TEXT}`) }
  })
  t.equal(ok.statusCode, 200, 'a list within the bound is served')
})
