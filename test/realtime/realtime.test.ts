import t from 'tap'
import { BatcherError, InvokeError } from '../../src/batching/errors.js'
import { batcherErrorToCatalog, createRealtime } from '../../src/realtime/index.js'
import type { CatalogError } from '../../src/errors.js'
import { echo, setupBatchers } from '../helpers/batching.js'
import type { ResolvedEndpoint } from '../../src/endpoints/resolver.js'
import { jumpstartList } from '../../src/sagemaker/contracts/jumpstart-list.js'
import { InputRefused } from '../../src/sagemaker/contracts/classify.js'

// The real-time service without HTTP: list admission over a batcher on a fake clock, and the
// one mapping of the batcher's errors to the catalog (status, code, Retry-After).

const signal = new AbortController().signal

const LIST: ResolvedEndpoint = { name: 'm', contract: jumpstartList, limits: {}, instances: 1 }

function service (options: Parameters<typeof setupBatchers>[0] = {}) {
  const h = setupBatchers({ maxWaitMs: 10, ...options })
  const items: string[] = []
  const realtime = createRealtime({ batchers: h.batchers, onItem: (outcome) => { items.push(outcome) }, shutdownRetryAfterS: 7 })
  const run = (inputs: string[], tenant?: string, endpoint: ResolvedEndpoint = LIST) =>
    realtime.run({ endpoint, params: {}, inputs, deadline: h.clock.now + 60_000, signal, ...(tenant !== undefined ? { tenant } : {}) })
  return { ...h, items, realtime, run }
}

t.test('a list the queue has no room for is refused whole: QUEUE_FULL 503, Retry-After 1 s, nothing queued', async t => {
  const s = service({ maxQueue: 2 })
  const err = await s.run(['a', 'b', 'c']).then(() => undefined, (e: CatalogError) => e)
  t.match(err, { code: 'QUEUE_FULL', statusCode: 503, retryAfterSeconds: 1, message: 'the queue cannot take 3 more items now' })
  t.equal(s.batcher.depth, 0, 'not half-queued')
  t.same(s.items, [], 'no item counted')
})

t.test('a tenant without room for its list gets QUEUE_FULL for every item; others are unaffected', async t => {
  const s = service({ maxQueuePerKey: 2 })
  const refused = await s.run(['a', 'b', 'c'], 'acme')
  t.equal(refused.length, 3)
  for (const outcome of refused) t.match(outcome, { ok: false, error: { code: 'QUEUE_FULL', statusCode: 503, retryAfterSeconds: 1, message: 'this key cannot queue 3 more items now' } })
  t.same(s.items, ['queue_full', 'queue_full', 'queue_full'])
  t.equal(s.batcher.depth, 0)
  const admitted = s.run(['d', 'e'], 'acme')
  await s.tick(10)
  for (const call of s.calls) echo(call)
  t.same(await admitted, [{ ok: true, texts: ['D'] }, { ok: true, texts: ['E'] }])
  t.same(s.items.slice(3), ['ok', 'ok'])
})

t.test('each item settles with its own outcome; a model failure is MODEL_ERROR 502 for that item only', async t => {
  const s = service({ retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } })
  const outcomes = s.run(['fine', 'bad'])
  await s.tick(10)
  // the batch fails on the model; the batcher bisects until the culprit is alone
  for (let i = 0; i < 10 && s.calls.length > 0; i++) {
    const calls = s.calls.splice(0)
    for (const call of calls) {
      if (call.req.inputs.includes('bad')) call.reject(new InvokeError('model', 'the model failed on this input'))
      else echo(call)
    }
    await s.tick(10)
  }
  const [fine, bad] = await outcomes
  t.same(fine, { ok: true, texts: ['FINE'] })
  t.match(bad, { ok: false, error: { code: 'MODEL_ERROR', statusCode: 502 } })
  t.same(s.items.sort(), ['model_error', 'ok'])
})

t.test('the batcher\'s errors in the catalog: one row each, Retry-After where the batcher gives one', async t => {
  const cases: Array<[BatcherError, Partial<CatalogError>]> = [
    [new BatcherError('QUEUE_FULL', 'full', { retryAfterMs: 2500 }), { code: 'QUEUE_FULL', statusCode: 503, retryAfterSeconds: 3 }],
    [new BatcherError('ENDPOINT_UNAVAILABLE', 'throttled'), { code: 'ENDPOINT_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 1 }],
    [new BatcherError('SHUTTING_DOWN', 'draining'), { code: 'SHUTTING_DOWN', statusCode: 503, retryAfterSeconds: 7 }],
    [new BatcherError('DEADLINE_EXCEEDED', 'late'), { code: 'DEADLINE_EXCEEDED', statusCode: 504 }],
    [new BatcherError('MODEL_ERROR', 'failed'), { code: 'MODEL_ERROR', statusCode: 502 }],
    [new BatcherError('PAYLOAD_TOO_LARGE', 'big'), { code: 'PAYLOAD_TOO_LARGE', statusCode: 413 }],
    [new BatcherError('CANCELLED', 'gone'), { code: 'CANCELLED', statusCode: 499 }]
  ]
  for (const [thrown, expected] of cases) {
    const mapped = batcherErrorToCatalog(thrown, 7)
    t.match(mapped, { ...expected, message: thrown.message }, thrown.code)
    t.equal(mapped.cause, thrown, `${thrown.code} keeps the batcher's error as cause`)
    if (expected.retryAfterSeconds === undefined) t.equal(mapped.retryAfterSeconds, undefined, `${thrown.code} has no Retry-After`)
  }
  const refused = new BatcherError('MODEL_ERROR', 'Input validation error: `inputs` must have less than 60 tokens. Given: 61 (model status 422)', { cause: new InputRefused('too long') })
  t.match(batcherErrorToCatalog(refused, 7), { code: 'INVALID_REQUEST', statusCode: 400, message: 'the endpoint refused this input: Input validation error: `inputs` must have less than 60 tokens. Given: 61 (model status 422)' }, 'a single-input container\'s refusal of the input is the caller\'s 400')
  const foreign = new Error('boom')
  t.match(batcherErrorToCatalog(foreign, 7), { code: 'INTERNAL_ERROR', statusCode: 500, message: 'internal error', cause: foreign }, 'anything else is a bare 500')
})

t.test('streams of one request are admitted whole or refused whole, as a list is', async t => {
  const s = service({ maxQueue: 2, maxQueuePerKey: 2 })
  t.throws(() => { s.realtime.admitStreams(3) }, { code: 'QUEUE_FULL', statusCode: 503, message: 'the queue cannot take 3 more items now' })
  t.throws(() => { s.realtime.admitStreams(3, 'acme') }, { code: 'QUEUE_FULL' })
  t.doesNotThrow(() => { s.realtime.admitStreams(2, 'acme') })
  t.doesNotThrow(() => { s.realtime.admitStreams(1) }, 'a single stream is the batcher\'s to refuse')
})
