import t from 'tap'
import { echo, setup, T0, type Tracked } from '../helpers/batching.js'
import { BATCHER_DEFAULTS, MicroBatcher } from '../../src/batching/batcher.js'
import { BatcherError } from '../../src/batching/errors.js'
import { encodePayload } from '../../src/batching/payload.js'

t.test('concurrent submits share one invocation and each caller gets its own result', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager' })
  const a = submit('alpha')
  const b = submit('bravo')
  const c = submit('charlie')
  await tick()
  t.equal(calls.length, 1)
  t.same(calls[0].req.inputs, ['alpha', 'bravo', 'charlie'])
  t.equal(calls[0].req.attempt, 1)
  t.equal(calls[0].req.batchId, 'b-1')
  echo(calls[0])
  await tick()
  t.same([a.value, b.value, c.value], [['ALPHA'], ['BRAVO'], ['CHARLIE']])
})

t.test('inputs keep arrival order and results map back with no cross-talk under load', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxSize: 7, maxConcurrent: 3, maxQueue: 10_000 })
  const models = ['m1', 'm2', 'm3']
  const submitted: Array<{ input: string, tracked: Tracked<string[]> }> = []
  for (let i = 0; i < 300; i++) {
    const input = `text-${i}`
    submitted.push({ input, tracked: submit(input, { endpoint: models[i % 3], params: { n: i % 2 } }) })
    // a few arrivals per ms, and answers out of order, reversing each batch's results would show
    if (i % 5 === 4) {
      await tick(1)
      const open = calls.filter((c) => c.req.signal.aborted === false)
      const last = open.at(-1)
      if (last !== undefined) echo(last)
    }
  }
  for (let i = 0; i < 200 && (batcher.depth > 0 || batcher.inFlight > 0); i++) {
    calls.forEach(echo)
    await tick(1)
  }
  for (const { input, tracked } of submitted) t.same(tracked.value, [input.toUpperCase()], input)
  const arrival = new Map(submitted.map(({ input }, i) => [input, i]))
  for (const call of calls) {
    const order = call.req.inputs.map((input) => arrival.get(input) ?? -1)
    t.same(order, [...order].sort((x, y) => x - y), `batch ${call.req.batchId} in arrival order`)
  }
  t.equal(calls.reduce((n, c) => n + c.req.inputs.length, 0), 300, 'every input sent exactly once')
})

t.test('partitions: same model and params share a payload, anything else never does', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'wait', maxWaitMs: 5 })
  submit('1', { params: { a: 1, b: 2 } })
  submit('2', { params: { b: 2, a: 1 } })
  submit('3', { params: { a: 1, b: '2' } })
  submit('4', { params: { a: 1, b: 2 }, endpoint: 'other' })
  submit('5', { params: { a: 1 } })
  submit('6', { params: { a: 1.0, b: 2 } })
  await tick(5)
  const payloads = calls.map((c) => [c.req.endpoint, JSON.stringify(c.req.params), c.req.inputs.join(',')])
  t.same(payloads, [
    ['m', '{"a":1,"b":2}', '1,2,6'],
    ['m', '{"a":1,"b":"2"}', '3'],
    ['other', '{"a":1,"b":2}', '4'],
    ['m', '{"a":1}', '5']
  ])
})

t.test("'wait': flushes at maxSize without waiting", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'wait', maxSize: 3, maxWaitMs: 1000 })
  for (const s of ['a', 'b', 'c', 'd']) submit(s)
  await tick()
  t.equal(calls.length, 1)
  t.same(calls[0].req.inputs, ['a', 'b', 'c'])
  t.equal(calls[0].at, 0)
  await tick(999)
  t.equal(calls.length, 1, 'the fourth waits for its own maxWaitMs')
  await tick(1)
  t.equal(calls.length, 2)
  t.same(calls[1].req.inputs, ['d'])
  t.equal(calls[1].at, 1000)
})

t.test("'wait': maxWaitMs counts from the first waiting item of the partition", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'wait', maxWaitMs: 10 })
  submit('first')
  await tick(6)
  submit('second')
  submit('other', { params: { x: 1 } })
  await tick(3)
  t.equal(calls.length, 0)
  await tick(1)
  t.equal(calls.length, 1)
  t.equal(calls[0].at, 10)
  t.same(calls[0].req.inputs, ['first', 'second'])
  await tick(5)
  t.equal(calls.length, 1, 'the other partition has its own clock, from 6 ms')
  await tick(1)
  t.equal(calls.length, 2)
  t.equal(calls[1].at, 16)
})

t.test('maxBytes: payloads never exceed it, and flush once full', async (t) => {
  const params = { max_length: 20 }
  // overhead {"text_inputs":[],"max_length":20} = 34 bytes; each "xxxx" is 6 bytes plus a comma
  const overhead = Buffer.byteLength(encodePayload([], params))
  t.equal(overhead, 34)
  const maxBytes = overhead + 6 + 1 + 6 + 1 + 6 // exactly three inputs of 4 ASCII chars
  const { calls, submit, tick, events } = setup({ flushPolicy: 'wait', maxWaitMs: 100, maxBytes })
  for (const s of ['aaaa', 'bbbb']) submit(s, { params })
  await tick()
  t.equal(calls.length, 0)
  submit('cccc', { params })
  await tick()
  t.equal(calls.length, 1, 'three fill the payload exactly: flushed without waiting')
  t.same(calls[0].req.inputs, ['aaaa', 'bbbb', 'cccc'])
  echo(calls[0])
  await tick()
  t.equal(events[0].bytes, maxBytes)
  t.equal(Buffer.byteLength(encodePayload(calls[0].req.inputs, calls[0].req.params)), maxBytes)
  for (const s of ['dddd', 'eeeee', 'ffff']) submit(s, { params })
  await tick()
  t.equal(calls.length, 2, 'over full: the first two go, the third would overflow')
  t.same(calls[1].req.inputs, ['dddd', 'eeeee'])
  await tick(100)
  t.same(calls[2].req.inputs, ['ffff'])
  t.equal(calls[2].at, 100)
})

t.test('maxBytes counts UTF-8 bytes, and an item whose payload would overflow waits for the next', async (t) => {
  const overhead = Buffer.byteLength(encodePayload([], {}))
  // "éé" is 6 bytes with quotes, "aa" 4: 18 + 6 + 1 + 6 = 31 fits, a third does not
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxBytes: overhead + 6 + 1 + 6 + 1 + 5, maxConcurrent: 1 })
  submit('x')
  await tick()
  for (const s of ['éé', 'éé', 'éé', 'a']) submit(s)
  echo(calls[0])
  await tick()
  t.same(calls[1].req.inputs, ['éé', 'éé'], 'FIFO: the third é-item does not fit and "a" may not jump it')
  echo(calls[1])
  await tick()
  t.same(calls[2].req.inputs, ['éé', 'a'])
  for (const call of calls) t.ok(Buffer.byteLength(encodePayload(call.req.inputs, call.req.params)) <= overhead + 19)
})

t.test('an item too large for any payload is rejected PAYLOAD_TOO_LARGE at once, never queued', async (t) => {
  const { batcher, clock, calls, tick } = setup({ maxBytes: 30 })
  let error: unknown
  const p = batcher.submit({ endpoint: 'm', params: {}, input: 'x'.repeat(11), deadline: clock.now + 1000 })
  p.catch((e: unknown) => { error = e })
  await Promise.resolve()
  t.ok(error instanceof BatcherError)
  t.equal((error as BatcherError).code, 'PAYLOAD_TOO_LARGE')
  t.match((error as BatcherError).message, /31 bytes, over the 30-byte limit/)
  t.equal(batcher.depth, 0)
  t.equal(clock.countTimers(), 0)
  // 18 + 12 = 30: exactly at the limit is allowed
  const ok = batcher.submit({ endpoint: 'm', params: {}, input: 'x'.repeat(10), deadline: clock.now + 1000 })
  await tick()
  t.equal(calls.length, 1)
  echo(calls[0])
  t.same(await ok, ['XXXXXXXXXX'])
})

t.test("'eager': an idle slot takes a partition at once; busy slots let batches grow", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxConcurrent: 1, maxWaitMs: 1000 })
  submit('solo')
  await tick()
  t.equal(calls.length, 1)
  t.equal(calls[0].at, 0, 'no waiting for maxWaitMs')
  t.same(calls[0].req.inputs, ['solo'])
  await tick(3)
  for (const s of ['a', 'b', 'c']) submit(s)
  await tick(4)
  t.equal(calls.length, 1, 'the only slot is busy')
  echo(calls[0])
  await tick()
  t.equal(calls.length, 2)
  t.equal(calls[1].at, 7)
  t.same(calls[1].req.inputs, ['a', 'b', 'c'])
})

t.test('at most maxConcurrent batches in flight; a freed slot goes to the oldest ready partition', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 2 })
  submit('a1', { endpoint: 'a' })
  submit('b1', { endpoint: 'b' })
  await tick()
  t.equal(calls.length, 2)
  t.equal(batcher.inFlight, 2)
  submit('c1', { endpoint: 'c' })
  await tick(1)
  submit('a2', { endpoint: 'a' })
  await tick(1)
  submit('a3', { endpoint: 'a' })
  t.equal(batcher.depth, 3)
  echo(calls[0])
  await tick()
  t.equal(calls.length, 3)
  t.same(calls[2].req.inputs, ['c1'], 'c waited longest')
  echo(calls[1])
  await tick()
  t.same(calls[3].req.inputs, ['a2', 'a3'])
  t.equal(batcher.inFlight, 2)
  t.equal(batcher.depth, 0)
})

t.test('fairness: a rare parameter set is not starved by a busy one', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxConcurrent: 1, maxSize: 4 })
  submit('busy-0', { endpoint: 'busy' })
  await tick()
  for (let i = 1; i <= 12; i++) submit(`busy-${i}`, { endpoint: 'busy' })
  await tick(1)
  submit('rare', { endpoint: 'rare' })
  for (let i = 13; i <= 20; i++) submit(`busy-${i}`, { endpoint: 'busy' })
  const served: string[] = []
  for (let i = 0; i < 8 && calls.length > served.length; i++) {
    const call = calls[served.length]
    served.push(call.req.endpoint)
    echo(call)
    await tick()
  }
  // busy-1..4 (older than rare), busy-5..8 (still older), busy-9..12, then rare before busy-13
  t.same(served.slice(0, 5), ['busy', 'busy', 'busy', 'busy', 'rare'])
  t.same(calls[4].req.inputs, ['rare'])
})

t.test('what a partial dispatch leaves keeps its arrival time', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'wait', maxSize: 4, maxWaitMs: 10, maxConcurrent: 1 })
  for (const s of ['a', 'b', 'c', 'd', 'e']) submit(s)
  await tick()
  t.same(calls[0].req.inputs, ['a', 'b', 'c', 'd'])
  await tick(20)
  t.equal(calls.length, 1, 'e is due at 10 but the slot is busy')
  echo(calls[0])
  await tick()
  t.equal(calls.length, 2)
  t.equal(calls[1].at, 20, 'dispatched as the slot frees, not 10 ms later')
  t.same(calls[1].req.inputs, ['e'])
})

t.test('QUEUE_FULL: over maxQueue waiting items, rejected at once with a Retry-After estimate', async (t) => {
  const { calls, submit, tick, batcher, clock } = setup({ flushPolicy: 'eager', maxConcurrent: 1, maxQueue: 3, maxSize: 2 })
  submit('first')
  await tick()
  await tick(3000)
  echo(calls[0])
  await tick()
  t.equal(calls.length, 1, 'first answered after 3000 ms: the latency estimate')
  submit('in-flight')
  await tick()
  const waiting = ['q1', 'q2', 'q3'].map((s) => submit(s))
  t.equal(batcher.depth, 3)
  const timers = clock.countTimers()
  let error: BatcherError | undefined
  batcher.submit({ endpoint: 'm', params: {}, input: 'over', deadline: clock.now + 60_000 }).catch((e: BatcherError) => { error = e })
  await Promise.resolve()
  t.equal(error?.code, 'QUEUE_FULL')
  // 3 queued items = 2 payloads of maxSize 2, one slot: 2 waves x 3000 ms
  t.equal(error?.retryAfterMs, 6000)
  t.equal(batcher.depth, 3)
  t.equal(clock.countTimers(), timers, 'no timer for a rejected item')
  t.same(waiting.map((w) => w.state), ['pending', 'pending', 'pending'])
})

t.test('QUEUE_FULL without any latency sample suggests the 1 s floor', async (t) => {
  const { submit, tick, batcher, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 50, maxQueue: 1 })
  submit('a')
  await tick()
  await t.rejects(batcher.submit({ endpoint: 'm', params: {}, input: 'b', deadline: clock.now + 1000 }), { code: 'QUEUE_FULL', retryAfterMs: 1000 })
})

t.test('drain: stops intake, flushes without waiting, respects maxConcurrent, resolves when idle', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'wait', maxWaitMs: 60_000, maxConcurrent: 1 })
  const a = submit('a', { endpoint: 'x' })
  const b = submit('b', { endpoint: 'y' })
  await tick(5)
  t.equal(calls.length, 0)
  let drained = false
  void batcher.drain().then(() => { drained = true })
  const late = submit('late')
  await tick()
  t.equal(late.error?.code, 'SHUTTING_DOWN')
  t.equal(calls.length, 1, 'one slot: y waits for x')
  t.same(calls[0].req.inputs, ['a'])
  echo(calls[0])
  await tick()
  t.equal(calls.length, 2)
  t.equal(drained, false, 'y is still in flight')
  echo(calls[1])
  await tick()
  t.equal(drained, true)
  t.same([a.value, b.value], [['A'], ['B']])
  t.equal(batcher.depth + batcher.inFlight, 0)
  await batcher.drain()
})

t.test('drain on an idle batcher resolves at once', async (t) => {
  const { batcher } = setup()
  await batcher.drain()
  await t.rejects(batcher.submit({ endpoint: 'm', params: {}, input: 'x', deadline: Date.now() + 1000 }), { code: 'SHUTTING_DOWN' })
})

t.test('abort: rejects queued and in-flight items SHUTTING_DOWN and aborts their invocations', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 1 })
  const flying = submit('flying')
  await tick()
  const queued = submit('queued')
  let drained = false
  void batcher.drain().then(() => { drained = true })
  batcher.abort()
  await tick()
  t.equal(flying.error?.code, 'SHUTTING_DOWN')
  t.equal(queued.error?.code, 'SHUTTING_DOWN')
  t.equal(calls[0].req.signal.aborted, true)
  t.equal(calls.length, 1, 'the queued item is never sent')
  t.equal(drained, false, 'the aborted invocation has not returned yet')
  calls[0].reject(new Error('aborted'))
  await tick()
  t.equal(drained, true)
})

t.test('onFlush reports each invocation once with its measurements', async (t) => {
  const { calls, submit, tick, events } = setup({ flushPolicy: 'eager' })
  submit('hello', { params: { top_k: 3 } })
  submit('wörld', { params: { top_k: 3 } })
  await tick()
  await tick(250)
  echo(calls[0])
  await tick()
  t.same(events, [{
    batchId: 'b-1',
    endpoint: 'm',
    items: 2,
    bytes: Buffer.byteLength('{"text_inputs":["hello","wörld"],"top_k":3}'),
    attempt: 1,
    latencyMs: 250,
    outcome: 'ok',
    bisected: false
  }])
})

t.test('a throwing onFlush does not break batching', async (t) => {
  const { calls, submit, tick } = setup({ onFlush: () => { throw new Error('logger down') } })
  const a = submit('a')
  await tick()
  echo(calls[0])
  await tick()
  t.same(a.value, ['A'])
})

t.test('depth and inFlight count waiting items and busy slots', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 1 })
  submit('a')
  submit('b', { endpoint: 'n' })
  t.same([batcher.depth, batcher.inFlight], [2, 0])
  await tick()
  t.same([batcher.depth, batcher.inFlight], [1, 1])
  echo(calls[0])
  await tick()
  t.same([batcher.depth, batcher.inFlight], [0, 1])
  echo(calls[1])
  await tick()
  t.same([batcher.depth, batcher.inFlight], [0, 0])
})

t.test('no timer is left once everything has settled', async (t) => {
  const { calls, submit, tick, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 10 })
  submit('a', { deadline: T0 + 500 })
  await tick()
  t.equal(clock.countTimers(), 1, 'one timer serves both the wait and the deadline')
  await tick(10)
  t.equal(clock.countTimers(), 1, 'the in-flight item keeps its deadline timer')
  echo(calls[0])
  await tick()
  t.equal(clock.countTimers(), 0)
})

t.test('options are validated and defaulted', async (t) => {
  const invoke = async (): Promise<string[][]> => []
  t.throws(() => new MicroBatcher({ invoke, maxSize: 0 }), { name: 'RangeError', message: /maxSize/ })
  t.throws(() => new MicroBatcher({ invoke, maxConcurrent: 1.5 }), { message: /maxConcurrent/ })
  t.throws(() => new MicroBatcher({ invoke, maxWaitMs: -1 }), { message: /maxWaitMs/ })
  t.throws(() => new MicroBatcher({ invoke, retry: { maxAttempts: 0 } }), { message: /retry\.maxAttempts/ })
  t.throws(() => new MicroBatcher({ invoke, flushPolicy: 'lazy' as 'eager' }), { message: /flushPolicy/ })
  t.same(BATCHER_DEFAULTS, {
    maxSize: 32,
    maxWaitMs: 10,
    maxBytes: 6_000_000,
    maxQueue: 1000,
    maxQueuePerKey: 1000,
    maxConcurrent: 4,
    flushPolicy: 'eager',
    retry: { maxAttempts: 50, baseMs: 100, capMs: 2000 }
  })
  const batcher = new MicroBatcher({ invoke })
  t.same([batcher.depth, batcher.inFlight], [0, 0])
})

t.test('runs on the real clock by default, leaving no timer behind', async (t) => {
  const batcher = new MicroBatcher({ invoke: async (req) => req.inputs.map((input) => [input.length.toString()]) })
  // eager: dispatched on the microtask after submit, so nothing here waits for real time
  const results = await Promise.all(['a', 'bb', 'ccc'].map(async (input) => await batcher.submit({ endpoint: 'm', params: {}, input, deadline: Date.now() + 60_000 })))
  t.same(results, [['1'], ['2'], ['3']])
  await batcher.drain()
  t.same([batcher.depth, batcher.inFlight], [0, 0])
})

t.test("'adaptive': an idle endpoint gets the first item at once; later ones wait to fill up", async (t) => {
  const { calls: all, submit, tick } = setup({ flushPolicy: 'adaptive', maxSize: 3, maxWaitMs: 10, maxConcurrent: 4 })
  // a slow endpoint (100 ms, so 100/4 = 25 ms > maxWaitMs): the cap decides below
  submit('warm')
  await tick()
  await tick(100)
  echo(all[0])
  await tick()
  const sent = (): number => all.length - 1
  submit('a')
  await tick()
  t.equal(sent(), 1, 'nothing in flight: sent at once')
  t.same(all[1].req.inputs, ['a'])
  submit('b')
  submit('c')
  await tick(9)
  t.equal(sent(), 1, 'one in flight: b and c wait for size or maxWaitMs although slots are free')
  submit('d')
  await tick()
  t.equal(sent(), 2, 'maxSize reached')
  t.same(all[2].req.inputs, ['b', 'c', 'd'])
  submit('e')
  await tick(10)
  t.equal(sent(), 3, 'maxWaitMs reached')
  t.same(all[3].req.inputs, ['e'])
  for (const call of all.slice(1)) echo(call)
  await tick()
  submit('f')
  await tick()
  t.equal(sent(), 4, 'idle again: sent at once')
  t.equal(all[4].at, 119, 'with no wait: the clock is where e was flushed')
})

t.test('an item with less time left than the endpoint usually takes fails at once, unsent', async (t) => {
  const { calls, submit, tick, clock } = setup({ flushPolicy: 'eager' })
  submit('warm')
  await tick()
  await tick(100)
  echo(calls[0])
  await tick()
  const hopeless = submit('hopeless', { deadline: clock.now + 50 })
  const fine = submit('fine', { deadline: clock.now + 500 })
  await tick()
  t.equal(hopeless.state, 'rejected')
  t.equal(hopeless.error?.code, 'DEADLINE_EXCEEDED')
  t.match(hopeless.error?.message, /50 ms were left, less than the endpoint's usual 100 ms/)
  t.equal(calls.length, 2)
  t.same(calls[1].req.inputs, ['fine'], 'only the item that can make it is sent')
  echo(calls[1])
  await tick()
  t.equal(fine.state, 'fulfilled')
})

t.test("'adaptive': waits at most the endpoint latency / maxConcurrent, capped by maxWaitMs", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'adaptive', maxSize: 10, maxWaitMs: 10, maxConcurrent: 4 })
  submit('warm')
  await tick()
  await tick(8)
  echo(calls[0])
  await tick()
  // the endpoint answered in 8 ms: with 4 slots one frees every ~2 ms on average
  submit('a')
  await tick()
  t.equal(calls.length, 2, 'idle: sent at once')
  submit('b')
  await tick(1)
  t.equal(calls.length, 2, 'b waits for company')
  await tick(1)
  t.equal(calls.length, 3, 'after 8/4 = 2 ms, not maxWaitMs')
  t.same(calls[2].req.inputs, ['b'])
})
