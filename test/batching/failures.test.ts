import t from 'tap'
import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { echo, setup, T0 } from '../helpers/batching.js'
import { MicroBatcher } from '../../src/batching/batcher.js'
import { InvokeError } from '../../src/batching/errors.js'

const throttled = (retryAfterMs?: number): InvokeError =>
  new InvokeError('retryable', 'ThrottlingException: Rate exceeded', retryAfterMs === undefined ? {} : { retryAfterMs })

t.test('retryable: the same payload is retried with full-jitter exponential backoff in the same batch', async (t) => {
  // random 0.5, base 100: sleeps 0.5 x 100 then 0.5 x 200
  const { calls, submit, tick, events, batcher } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 3, baseMs: 100, capMs: 1000 } })
  const a = submit('a')
  const b = submit('b')
  await tick()
  calls[0].reject(throttled())
  await tick(49)
  t.equal(calls.length, 1)
  t.equal(batcher.inFlight, 1, 'the slot is kept while backing off')
  await tick(1)
  t.equal(calls.length, 2)
  t.equal(calls[1].at, 50)
  calls[1].reject(throttled())
  await tick(100)
  t.equal(calls[2].at, 150)
  echo(calls[2])
  await tick()
  t.same([a.value, b.value], [['A'], ['B']])
  t.same(calls.map((c) => [c.req.batchId, c.req.attempt, c.req.inputs.join()]), [['b-1', 1, 'a,b'], ['b-1', 2, 'a,b'], ['b-1', 3, 'a,b']])
  t.same(events.map((e) => [e.outcome, e.attempt]), [['retryable', 1], ['retryable', 2], ['ok', 3]])
})

t.test('the backoff is at least the endpoint retryAfterMs and never above capMs otherwise', async (t) => {
  const random = (): number => 0.999
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', random, retry: { maxAttempts: 4, baseMs: 400, capMs: 500 } })
  submit('a')
  await tick()
  calls[0].reject(throttled(700))
  await tick(700)
  t.equal(calls[1].at, 700)
  calls[1].reject(throttled())
  await tick(500)
  // min(500, 800) x 0.999 = 499.5 ms
  t.equal(calls.length, 3)
  t.equal(calls[2].at, 1200)
})

t.test('retries exhausted: ENDPOINT_UNAVAILABLE with the endpoint message and a Retry-After', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 2, baseMs: 10, capMs: 10 } })
  const a = submit('a')
  await tick()
  calls[0].reject(throttled())
  await tick(10)
  calls[1].reject(throttled(3000))
  await tick()
  t.equal(calls.length, 2)
  t.equal(a.error?.code, 'ENDPOINT_UNAVAILABLE')
  t.match(a.error?.message, /gave up after 2 attempts: ThrottlingException: Rate exceeded/)
  t.equal(a.error?.retryAfterMs, 3000)
  t.type(a.error?.cause, InvokeError)
  t.equal(batcher.inFlight, 0)
})

t.test('maxAttempts 1 disables retries; Retry-After is at least 1 s', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 1 } })
  const a = submit('a')
  await tick()
  calls[0].reject(throttled(20))
  await tick(10_000)
  t.equal(calls.length, 1)
  t.equal(a.error?.code, 'ENDPOINT_UNAVAILABLE')
  t.equal(a.error?.retryAfterMs, 1000)
})

t.test('retries are bounded by deadlines: a backoff is cut short to land before the earliest one, and none is tried once it cannot', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 50, baseMs: 100, capMs: 100 } })
  const a = submit('a', { deadline: T0 + 60 })
  const b = submit('b', { deadline: T0 + 50 })
  await tick(10)
  calls[0].reject(throttled())
  // the backoff asks for 50 ms (10 + 50 = 60, past b's deadline): cut to land at 49
  await tick(38)
  t.equal(calls.length, 1)
  await tick(1)
  t.equal(calls.length, 2)
  t.equal(calls[1].at, 49)
  t.same(calls[1].req.inputs, ['a', 'b'])
  calls[1].reject(throttled())
  await tick()
  t.equal(b.error?.code, 'ENDPOINT_UNAVAILABLE', 'no attempt fits in b’s last ms: answered at once')
  t.equal(b.at, 49)
  t.match(b.error?.message, /no retry could be answered before the deadline/)
  t.equal(a.state, 'pending', 'a still has 11 ms')
  await tick(10)
  t.equal(calls.length, 3)
  t.equal(calls[2].at, 59)
  t.same(calls[2].req.inputs, ['a'])
  calls[2].reject(throttled())
  await tick()
  t.equal(a.error?.code, 'ENDPOINT_UNAVAILABLE')
  t.equal(a.at, 59, 'answered at once rather than at its deadline')
  await tick(100)
  t.equal(calls.length, 3)
  // an endpoint Retry-After longer than the time left ends the retries at once
  const late = setup({ flushPolicy: 'eager', retry: { maxAttempts: 50, baseMs: 10, capMs: 10 } })
  const c = late.submit('c', { deadline: T0 + 1000 })
  await late.tick()
  late.calls[0].reject(throttled(5000))
  await late.tick()
  t.equal(late.calls.length, 1)
  t.equal(c.error?.code, 'ENDPOINT_UNAVAILABLE')
  t.equal(c.at, 0)
})

t.test('retries go on past the old count while the deadline allows: six faults in a row lose nothing', async (t) => {
  // the failure: RETRY_MAX_ATTEMPTS 6 failed a batch with time left on its deadline
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', retry: { baseMs: 25, capMs: 2000 } })
  const a = submit('a', { deadline: T0 + 30_000 })
  for (let i = 0; i < 12; i++) {
    await tick(2000)
    t.equal(calls.length, i + 1)
    calls[i].reject(throttled())
  }
  await tick(2000)
  echo(calls[12])
  await tick()
  t.same(a.value, ['A'], 'answered on the 13th attempt')
  t.equal(calls[12].req.attempt, 13)
})

t.test('a retry drops the items that were cancelled during the backoff and keeps the rest', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 3, baseMs: 100, capMs: 100 } })
  const a = submit('a', { deadline: T0 + 30 })
  const cancel = new AbortController()
  const b = submit('b', { signal: cancel.signal })
  const c = submit('c')
  await tick()
  calls[0].reject(throttled())
  await tick(10)
  cancel.abort()
  await tick()
  t.equal(b.error?.code, 'CANCELLED')
  await tick(19)
  // the 50 ms backoff, cut short to land before a's deadline at 30
  t.equal(calls[1].at, 29)
  t.same(calls[1].req.inputs, ['a', 'c'])
  t.equal(calls[1].req.attempt, 2)
  echo(calls[1])
  await tick()
  t.same([a.value, c.value], [['A'], ['C']])
})

t.test('a batch whose items all leave during the backoff frees its slot at once', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 1, retry: { maxAttempts: 3, baseMs: 1000, capMs: 1000 } })
  const cancel = new AbortController()
  submit('a', { signal: cancel.signal })
  await tick()
  const other = submit('other', { endpoint: 'n' })
  calls[0].reject(throttled())
  await tick(100)
  t.equal(batcher.inFlight, 1)
  t.equal(calls.length, 1, 'the other partition waits: the slot is kept during backoff')
  cancel.abort()
  await tick()
  t.equal(batcher.inFlight, 1)
  t.same(calls[1].req.inputs, ['other'])
  t.equal(calls[1].at, 100)
  echo(calls[1])
  await tick(1000)
  t.equal(calls.length, 2, 'no retry for nobody')
  t.same(other.value, ['OTHER'])
})

t.test('fatal: the whole batch fails ENDPOINT_UNAVAILABLE with the message kept, no retry', async (t) => {
  for (const [name, failure] of [
    ['InvokeError fatal', new InvokeError('fatal', 'ValidationError: Endpoint t5 not found')],
    ['plain Error', new Error('ValidationError: Endpoint t5 not found')]
  ] as const) {
    const { calls, submit, tick, events } = setup({ flushPolicy: 'eager' })
    const a = submit('a')
    const b = submit('b')
    await tick()
    calls[0].reject(failure)
    await tick(10_000)
    t.equal(calls.length, 1, name)
    for (const item of [a, b]) {
      t.equal(item.error?.code, 'ENDPOINT_UNAVAILABLE', name)
      t.equal(item.error?.message, 'ValidationError: Endpoint t5 not found', name)
      t.equal(item.error?.cause, failure, name)
      t.equal(item.error?.retryAfterMs, 1000, name)
    }
    t.equal(events[0].outcome, 'fatal')
  }
})

t.test('an invoke that throws synchronously or throws a non-Error is fatal too', async (t) => {
  const sync = new MicroBatcher({ invoke: () => { throw new Error('boom') }, clock: { now: () => T0, setTimeout: () => 0, clearTimeout: () => {} } })
  await t.rejects(sync.submit({ endpoint: 'm', params: {}, input: 'x', deadline: T0 + 1000 }), { code: 'ENDPOINT_UNAVAILABLE', message: 'boom' })
  // a dependency may throw anything, not only Errors
  // eslint-disable-next-line no-throw-literal -- the case under test: a non-Error thrown
  const weird = new MicroBatcher({ invoke: async () => { throw 'socket hang up' }, clock: { now: () => T0, setTimeout: () => 0, clearTimeout: () => {} } })
  await t.rejects(weird.submit({ endpoint: 'm', params: {}, input: 'x', deadline: T0 + 1000 }), { code: 'ENDPOINT_UNAVAILABLE', message: 'socket hang up' })
})

t.test('poison bisection: one bad input among 32 costs 11 invocations and fails alone', async (t) => {
  const poison = 13
  const { calls, submit, clock, events } = setup({ flushPolicy: 'wait', maxSize: 32, maxWaitMs: 5 }, (req) => {
    if (req.inputs.includes(`text-${poison}`)) throw new InvokeError('model', 'ModelError: CUDA error: device-side assert triggered')
    return req.inputs.map((input) => [input.toUpperCase()])
  }, 7)
  const items = Array.from({ length: 32 }, (_, i) => submit(`text-${i}`))
  await clock.runAllAsync()
  t.equal(calls.length, 11)
  t.ok(calls.length <= 2 * Math.log2(32) + 2)
  items.forEach((item, i) => {
    if (i === poison) {
      t.equal(item.error?.code, 'MODEL_ERROR')
      t.equal(item.error?.message, 'ModelError: CUDA error: device-side assert triggered')
      t.type(item.error?.cause, InvokeError)
    } else t.same(item.value, [`TEXT-${i}`], `text-${i}`)
  })
  // depth first: 0-15 fails, 0-7 ok, 8-15 fails, 8-11 ok, 12-15 fails, 12-13 fails, 12 ok, 13 fails, 14-15 ok, 16-31 ok
  t.same(calls.map((c) => c.req.batchId), ['b-1', 'b-1.1', 'b-1.1.1', 'b-1.1.2', 'b-1.1.2.1', 'b-1.1.2.2', 'b-1.1.2.2.1', 'b-1.1.2.2.1.1', 'b-1.1.2.2.1.2', 'b-1.1.2.2.2', 'b-1.2'])
  t.same(calls.map((c) => c.req.inputs.length), [32, 16, 8, 8, 4, 4, 2, 1, 1, 2, 16])
  t.same(calls[7].req.inputs, ['text-12'])
  t.same(calls[8].req.inputs, ['text-13'])
  t.same(events.map((e) => e.bisected), [false, ...Array(10).fill(true)])
  t.same(events.filter((e) => e.outcome === 'model_error').length, 5 + 1)
  // the innocent half of each split is answered as soon as it returns, not at the end
  // (32 items fill the payload, so no maxWaitMs: three 7 ms calls)
  t.equal(items[0].at, 7 * 3)
})

t.test('bisection: every input poisoned fails each alone, 2n-1 invocations', async (t) => {
  const { calls, submit, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 0 }, () => { throw new InvokeError('model', 'bad input') })
  const items = ['a', 'b', 'c', 'd', 'e'].map((s) => submit(s))
  await clock.runAllAsync()
  t.equal(calls.length, 9)
  t.same(items.map((i) => i.error?.code), Array(5).fill('MODEL_ERROR'))
  t.same(calls.map((c) => c.req.inputs.join('')), ['abcde', 'abc', 'ab', 'a', 'b', 'c', 'de', 'd', 'e'])
})

t.test('a result count that does not match the inputs is bisected like a model error', async (t) => {
  // an endpoint that drops the last result of any multi-input payload
  const { calls, submit, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 0 }, (req) => {
    const out = req.inputs.map((input) => [input.toUpperCase()])
    return req.inputs.length > 1 ? out.slice(1) : out
  })
  const items = ['a', 'b', 'c', 'd'].map((s) => submit(s))
  await clock.runAllAsync()
  t.same(items.map((i) => i.value), [['A'], ['B'], ['C'], ['D']])
  t.equal(calls.length, 7)
})

t.test('a single input with the wrong result count is MODEL_ERROR', async (t) => {
  const { submit, clock, events } = setup({ flushPolicy: 'wait', maxWaitMs: 0 }, () => [])
  const a = submit('a')
  await clock.runAllAsync()
  t.equal(a.error?.code, 'MODEL_ERROR')
  t.equal(a.error?.message, 'the endpoint returned 0 results for 1 inputs')
  t.equal(events[0].outcome, 'model_error')
})

t.test('bisection halves are retried on retryable failures like any payload', async (t) => {
  let throttleOnce = true
  const { calls, submit, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 0, retry: { maxAttempts: 2, baseMs: 10, capMs: 10 } }, (req) => {
    if (req.inputs.includes('bad')) throw new InvokeError('model', 'bad')
    if (req.inputs.length === 1 && throttleOnce) {
      throttleOnce = false
      throw new InvokeError('retryable', 'busy')
    }
    return req.inputs.map((input) => [input])
  })
  const good = submit('good')
  const bad = submit('bad')
  await clock.runAllAsync()
  t.same(good.value, ['good'])
  t.equal(bad.error?.code, 'MODEL_ERROR')
  t.same(calls.map((c) => [c.req.batchId, c.req.attempt, c.req.inputs.join()]), [['b-1', 1, 'good,bad'], ['b-1.1', 1, 'good'], ['b-1.1', 2, 'good'], ['b-1.2', 1, 'bad']])
})

t.test('a fatal failure during bisection fails the rest of the batch and stops bisecting', async (t) => {
  const { calls, submit, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 0 }, (req) => {
    if (req.inputs.length === 4) throw new InvokeError('model', 'bad')
    if (req.inputs.includes('c')) throw new InvokeError('fatal', 'AccessDenied')
    return req.inputs.map((input) => [input])
  })
  const items = ['a', 'b', 'c', 'd'].map((s) => submit(s))
  await clock.runAllAsync()
  t.same(items.map((i) => i.value ?? i.error?.code), [['a'], ['b'], 'ENDPOINT_UNAVAILABLE', 'ENDPOINT_UNAVAILABLE'])
  t.equal(calls.length, 3)
})

t.test('bisection stays in the batch slot: other partitions wait, never two invocations at once', async (t) => {
  let inFlight = 0
  let peak = 0
  const clock = FakeTimers.createClock(T0)
  const order: string[] = []
  const batcher = new MicroBatcher({
    flushPolicy: 'eager',
    maxConcurrent: 1,
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    invoke: async (req) => {
      order.push(req.inputs.join(''))
      peak = Math.max(peak, ++inFlight)
      await new Promise((resolve) => clock.setTimeout(resolve, 10))
      inFlight--
      if (req.inputs.includes('x')) throw new InvokeError('model', 'bad')
      return req.inputs.map((input) => [input])
    }
  })
  const opts = { endpoint: 'm', params: {}, deadline: T0 + 60_000 }
  const settled = [batcher.submit({ ...opts, input: 'a' }), batcher.submit({ ...opts, input: 'x' })]
  await clock.tickAsync(1)
  settled.push(batcher.submit({ ...opts, endpoint: 'other', input: 'o' }))
  const all = Promise.allSettled(settled)
  await clock.runAllAsync()
  const outcomes = await all
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.same(order, ['ax', 'a', 'x', 'o'])
  t.equal(peak, 1)
})

t.test('bisection never sends an item whose deadline passed meanwhile', async (t) => {
  const { calls, submit, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 0 }, (req) => {
    if (req.inputs.length > 1) throw new InvokeError('model', 'bad')
    return req.inputs.map((input) => [input])
  }, 10)
  const a = submit('a', { deadline: T0 + 100 })
  const b = submit('b', { deadline: T0 + 15 })
  await clock.runAllAsync()
  t.same(a.value, ['a'])
  t.equal(b.error?.code, 'DEADLINE_EXCEEDED')
  t.equal(b.at, 15)
  t.same(calls.map((c) => c.req.inputs.join()), ['a,b', 'a'])
})
