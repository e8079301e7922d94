import t from 'tap'
import { localApp, listeningApp } from '../helpers/local-app.js'
import { expectRejections, post, type Rejection } from '../helpers/http.js'

t.test('a string input returns its sequences; a list returns one entry per input in order', async t => {
  const { app } = await localApp(t)
  let res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: 'One sentence here. Two sentences here.' } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { generated_texts: ['One sentence here. Two sentences here.'] })
  res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['Alpha is first.', 'Beta is second.', 'Gamma is third.'], max_length: 2 } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { generated_texts: [['Alpha is'], ['Beta is'], ['Gamma is']] })
})

t.test('validation of the JumpStart body', async t => {
  const { app } = await localApp(t, { GENERATE_MAX_ITEMS: 3 })
  const cases: Rejection[] = [
    [{ text_inputs: [] }, 400, 'INVALID_REQUEST', /body\.text_inputs must have at least 1 item\(s\) \(got 0\)/],
    [{ text_inputs: 42 }, 400, 'INVALID_REQUEST', /body\.text_inputs must be string or array \(got 42\)/],
    [{ text_inputs: ['ok', ''] }, 400, 'INVALID_REQUEST', /body\.text_inputs\[1\] must not be empty/],
    [{ text_inputs: ['ok', 7] }, 400, 'INVALID_REQUEST', /body\.text_inputs\[1\] must be string \(got 7\)/],
    [{ text_inputs: 'x', top_p: 1.5 }, 400, 'INVALID_PARAMETERS', /body\.top_p must be <= 1 \(got 1\.5\)/],
    [{ text_inputs: 'x', num_beams: 1, num_return_sequences: 2 }, 400, 'INVALID_PARAMETERS', /body\.num_beams \(1\) must be >= body\.num_return_sequences \(2\)/],
    [{ text_inputs: 'x', max_tokens: 5 }, 400, 'INVALID_PARAMETERS', /unknown key "max_tokens"; allowed keys: text_inputs, model, max_length/],
    [{ text_inputs: ['a', 'b', 'c', 'd'] }, 413, 'BATCH_TOO_LARGE', /body\.text_inputs has 4 items; the limit is 3/],
    [{ text_inputs: 'x', batch_size: 0 }, 400, 'INVALID_PARAMETERS', /body\.batch_size must be >= 1 \(got 0\)/],
    [{ text_inputs: 'x', batch_size: 257 }, 400, 'INVALID_PARAMETERS', /body\.batch_size must be <= 256 \(got 257\)/]
  ]
  await expectRejections(t, app, '/v1/generate', cases)
})

// The AWS notebook's real-time payload (amazon-sagemaker-examples,
// text2text-generation-flan-t5-Batch-Transform.ipynb, "Real-Time Batch Inference"): JumpStart
// documents batch_size for FLAN-T5 ("if specified, it must be a positive integer")
t.test('the notebook\'s real-time payload, batch_size included, is answered, on /v1/summarize too', async t => {
  const { app } = await localApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/v1/generate',
    payload: { text_inputs: ['Alpha is first. More.', 'Beta is second. More.'], max_length: 50, num_return_sequences: 1, top_k: 50, top_p: 0.95, do_sample: true, batch_size: 4 }
  })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().generated_texts.length, 2)
  const summarize = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Alpha is first. More.', parameters: { batch_size: 4, max_length: 3 } } })
  t.equal(summarize.statusCode, 200, summarize.body)
  t.same(summarize.json().generated_texts, ['Alpha is first.'])
})

t.test('a poisoned input fails alone; its neighbours get their answers', async t => {
  const { app, stack } = await localApp(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const inputs = Array.from({ length: 16 }, (_, i) => i === 11 ? 'This one is POISON for the model.' : `Input ${i} is fine.`)
  const res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: inputs } })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.generated_texts.length, 16)
  body.generated_texts.forEach((texts: string[] | null, i: number) => {
    if (i === 11) t.equal(texts, null)
    else t.same(texts, [`Input ${i} is fine.`])
  })
  t.equal(body.errors.length, 1)
  t.equal(body.errors[0].index, 11)
  t.equal(body.errors[0].code, 'MODEL_ERROR')
  t.ok(stack.sagemaker.stats().invocations <= 2 * Math.log2(16) + 2, `bisection used ${stack.sagemaker.stats().invocations} invocations`)
})

t.test('every item failing is a 502 MODEL_ERROR; a single poisoned string too', async t => {
  const { app } = await localApp(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  let res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['POISON a', 'POISON b'] } })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'MODEL_ERROR')
  res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: 'POISON c' } })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'MODEL_ERROR')
  t.notMatch(res.body, /arn:aws|stack|at .*\.ts/, 'no AWS internals or stack traces')
})

t.test('throttling is retried until it succeeds', async t => {
  // the local endpoint throttles the first two invocations, then behaves
  let calls = 0
  const random = (): number => (++calls <= 2 ? 0 : 0.99)
  const { app, stack } = await localApp(t, { LOCAL_FAULT_THROTTLE_RATE: 0.5, RETRY_BASE_MS: 1, RETRY_CAP_MS: 5 }, { random })
  const res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: 'Survive the throttle. Please.' } })
  t.equal(res.statusCode, 200, res.body)
  const stats = stack.sagemaker.stats()
  t.equal(stats.invocations, 3, 'two throttled attempts and one success')
})

t.test('a full queue answers 503 QUEUE_FULL with Retry-After at once', async t => {
  const { url } = await listeningApp(t, { QUEUE_MAX_SIZE: 4, MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 1, LOCAL_LATENCY_BASE_MS: 200 })
  const results = await Promise.all(Array.from({ length: 12 }, async (_, i) => await post(`${url}/v1/summarize`, { text: `Text ${i}.` })))
  const full = results.filter(r => r.status === 503)
  const ok = results.filter(r => r.status === 200)
  t.ok(full.length >= 6, `${full.length} got 503`)
  t.equal(ok.length + full.length, 12, 'every request is either served or refused')
  for (const r of full) {
    t.equal(r.body.code, 'QUEUE_FULL')
    t.ok(Number(r.retryAfter) >= 1)
  }
})

t.test('a deadline answers 504 on time and items that cannot make it are never sent', async t => {
  // in seconds, so that a busy machine's delays (hundreds of ms) do not decide the outcome
  const { url, stack } = await listeningApp(t, { REQUEST_TIMEOUT_MS: 2500, MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 1, LOCAL_LATENCY_BASE_MS: 1500 })
  // one answered call teaches the batcher that the endpoint takes ~1.5 s
  t.equal((await post(`${url}/v1/summarize`, { text: 'Warm up.' })).status, 200)
  const started = Date.now()
  const [first, second] = await Promise.all([
    post(`${url}/v1/summarize`, { text: 'First caller.' }),
    post(`${url}/v1/summarize`, { text: 'Second caller.' })
  ])
  t.equal(first?.status, 200, 'the first is sent at once and answered in ~1.5 s')
  t.equal(second?.status, 504, 'the second would get its slot with ~1 s left, less than the endpoint takes')
  t.equal(second?.body.code, 'DEADLINE_EXCEEDED')
  t.ok(Date.now() - started < 2500 + 1500, 'answered by its deadline')
  await new Promise(resolve => setTimeout(resolve, 500))
  t.equal(stack.sagemaker.stats().items, 2, 'warm-up and first only: the second never reached the endpoint')
})

t.test('a request slower than its deadline gets 504 at the deadline', async t => {
  const { url } = await listeningApp(t, { REQUEST_TIMEOUT_MS: 1000, LOCAL_LATENCY_BASE_MS: 5000 })
  const started = Date.now()
  const res = await post(`${url}/v1/summarize`, { text: 'Too slow.' })
  const elapsed = Date.now() - started
  t.equal(res.status, 504)
  t.equal(res.body.code, 'DEADLINE_EXCEEDED')
  // at the deadline, long before the endpoint would answer (generous for a busy machine)
  t.ok(elapsed >= 990 && elapsed < 3000, `answered after ${elapsed} ms`)
})

t.test('a caller that disconnects is dropped before its item is sent', async t => {
  const { url, stack } = await listeningApp(t, { MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 1, LOCAL_LATENCY_BASE_MS: 300 })
  const first = post(`${url}/v1/summarize`, { text: 'Stays connected.' })
  await new Promise(resolve => setTimeout(resolve, 50))
  const controller = new AbortController()
  const second = fetch(`${url}/v1/summarize`, { method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Leaves early.' }) })
    .then(() => 'answered', () => 'aborted')
  await new Promise(resolve => setTimeout(resolve, 50))
  controller.abort()
  t.equal(await second, 'aborted')
  t.equal((await first).status, 200)
  await new Promise(resolve => setTimeout(resolve, 400))
  t.equal(stack.sagemaker.stats().items, 1, 'the abandoned item never reached the endpoint')
})
