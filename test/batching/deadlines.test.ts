import { getEventListeners } from 'node:events'
import t from 'tap'
import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { MicroBatcher, type BatcherOptions, type FlushEvent, type InvokeRequest, type SubmitOptions } from '../../src/batching/batcher.js'
import { BatcherError, InvokeError } from '../../src/batching/errors.js'

// epoch ms the fake clock starts at; times in assertions are relative to it
const T0 = 1_700_000_000_000

interface Call {
  req: InvokeRequest
  // ms since T0 when invoke was called
  at: number
  resolve: (value: string[][]) => void
  reject: (error: unknown) => void
}

interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected'
  value?: T
  error?: BatcherError
  // ms since T0 when it settled
  at?: number
}

/**
 * A batcher on a fake clock. Without `answer`, invoke calls wait until the test answers them;
 * with it, each call is answered (or failed, if it throws) `latencyMs` later.
 */
function setup (options: Partial<BatcherOptions> = {}, answer?: (req: InvokeRequest) => string[][], latencyMs = 0) {
  const clock = FakeTimers.createClock(T0)
  const calls: Call[] = []
  const events: FlushEvent[] = []
  const batcher = new MicroBatcher({
    invoke: async (req) => await new Promise<string[][]>((resolve, reject) => {
      calls.push({ req, at: clock.now - T0, resolve, reject })
      if (answer !== undefined) {
        clock.setTimeout(() => {
          try { resolve(answer(req)) } catch (err) { reject(err) }
        }, latencyMs)
      }
    }),
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    onFlush: (event) => { events.push(event) },
    batchIdPrefix: 'b',
    random: () => 0.5,
    ...options
  })
  const track = <T>(promise: Promise<T>): Tracked<T> => {
    const tracked: Tracked<T> = { state: 'pending' }
    promise.then(
      (value) => { Object.assign(tracked, { state: 'fulfilled', value, at: clock.now - T0 }) },
      (error: BatcherError) => { Object.assign(tracked, { state: 'rejected', error, at: clock.now - T0 }) }
    )
    return tracked
  }
  const submit = (input: string, extra: Partial<SubmitOptions> = {}): Tracked<string[]> =>
    track(batcher.submit({ model: 'm', params: {}, input, deadline: clock.now + 60_000, ...extra }))
  // runs microtasks, then timers due within ms
  const tick = async (ms = 0): Promise<void> => { await clock.tickAsync(ms) }
  return { clock, calls, events, batcher, submit, track, tick }
}

/** Answer a call with one sequence per input: the input upper-cased. */
function echo (call: Call): void {
  call.resolve(call.req.inputs.map((input) => [input.toUpperCase()]))
}

t.test('a queued item is rejected DEADLINE_EXCEEDED at its deadline and never sent', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'wait', maxWaitMs: 100 })
  const a = submit('a', { deadline: T0 + 50 })
  const b = submit('b', { deadline: T0 + 500 })
  await tick(49)
  t.equal(a.state, 'pending')
  await tick(1)
  t.equal(a.error?.code, 'DEADLINE_EXCEEDED')
  t.equal(a.at, 50, 'at the deadline, not at the next flush')
  t.equal(batcher.depth, 1)
  await tick(50)
  t.equal(calls.length, 1)
  t.same(calls[0].req.inputs, ['b'])
  echo(calls[0])
  await tick()
  t.same(b.value, ['B'])
})

t.test('a deadline that has already passed is rejected at submit', async (t) => {
  const { calls, submit, tick, clock, batcher } = setup()
  const past = submit('past', { deadline: T0 - 1 })
  const now = submit('now', { deadline: T0 })
  const nan = submit('nan', { deadline: Number.NaN })
  await tick()
  t.same([past.error?.code, now.error?.code, nan.error?.code], ['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED'])
  t.equal(batcher.depth, 0)
  t.equal(calls.length, 0)
  t.equal(clock.countTimers(), 0)
})

t.test('items that expire while waiting for a slot are never sent', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxConcurrent: 1 })
  submit('busy')
  await tick()
  const b = submit('b', { deadline: T0 + 30 })
  const c = submit('c', { deadline: T0 + 100 })
  await tick(30)
  t.equal(b.error?.code, 'DEADLINE_EXCEEDED')
  t.equal(b.at, 30)
  await tick(20)
  echo(calls[0])
  await tick()
  t.same(calls[1].req.inputs, ['c'])
  t.equal(calls[1].req.deadline, T0 + 100)
  echo(calls[1])
  await tick()
  t.same(c.value, ['C'])
})

t.test('an item that expires as its slot frees gives its seat in the payload to the next', async (t) => {
  // the endpoint's answer at 50 is scheduled before x's deadline timer, so the slot frees first
  const { calls, submit, clock } = setup({ flushPolicy: 'eager', maxConcurrent: 1, maxSize: 2 }, (req) => req.inputs.map((i) => [i]), 50)
  submit('busy')
  await clock.tickAsync(0)
  const x = submit('x', { deadline: T0 + 50 })
  submit('y')
  submit('z')
  await clock.runAllAsync()
  t.equal(x.error?.code, 'DEADLINE_EXCEEDED')
  t.same(calls.map((c) => [c.at, c.req.inputs.join()]), [[0, 'busy'], [50, 'y,z']])
})

t.test('an in-flight item is answered DEADLINE_EXCEEDED on time; the invocation is aborted only when all are gone', async (t) => {
  const { calls, submit, tick, events, batcher } = setup({ flushPolicy: 'eager' })
  const a = submit('a', { deadline: T0 + 100 })
  const b = submit('b', { deadline: T0 + 200 })
  await tick()
  t.equal(calls[0].req.deadline, T0 + 200, 'the latest deadline among the items')
  const signal = calls[0].req.signal
  await tick(100)
  t.equal(a.error?.code, 'DEADLINE_EXCEEDED')
  t.equal(a.at, 100)
  t.equal(signal.aborted, false, 'b still wants the answer')
  await tick(100)
  t.equal(b.error?.code, 'DEADLINE_EXCEEDED')
  t.equal(b.at, 200)
  t.equal(signal.aborted, true)
  t.equal(batcher.inFlight, 1, 'the slot is held until the endpoint lets go')
  echo(calls[0])
  await tick()
  t.equal(batcher.inFlight, 0)
  t.equal(events[0].outcome, 'aborted')
  t.same([a.error?.code, b.error?.code], ['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED'], 'a late answer changes nothing')
})

t.test('an in-flight item past its deadline loses its result even if the answer comes in the same tick', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager' })
  const a = submit('a', { deadline: T0 + 100 })
  const b = submit('b', { deadline: T0 + 1000 })
  await tick()
  await tick(100)
  echo(calls[0])
  await tick()
  t.equal(a.error?.code, 'DEADLINE_EXCEEDED')
  t.same(b.value, ['B'])
})

t.test('one timer serves every deadline, and each item still expires at its own', async (t) => {
  const { submit, tick, clock } = setup({ flushPolicy: 'wait', maxWaitMs: 10_000, maxQueue: 1000 })
  const offsets = Array.from({ length: 100 }, (_, i) => 1 + ((i * 37) % 100))
  const items = offsets.map((offset, i) => submit(`item-${i}`, { deadline: T0 + offset }))
  await tick()
  t.equal(clock.countTimers(), 1)
  await tick(100)
  t.same(items.map((item) => item.at), offsets)
  t.ok(items.every((item) => item.error?.code === 'DEADLINE_EXCEEDED'))
  t.equal(clock.countTimers(), 0, 'nothing is pending, nothing is armed')
})

t.test('a queued item is cancelled by its signal and never sent', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'wait', maxWaitMs: 10 })
  const controller = new AbortController()
  const a = submit('a', { signal: controller.signal })
  const b = submit('b')
  await tick(5)
  controller.abort(new Error('client went away'))
  await tick()
  t.equal(a.error?.code, 'CANCELLED')
  t.equal(a.at, 5)
  t.match(a.error?.cause, { message: 'client went away' })
  await tick(5)
  t.same(calls[0].req.inputs, ['b'])
  echo(calls[0])
  await tick()
  t.same(b.value, ['B'])
})

t.test('an already-aborted signal is rejected CANCELLED at submit', async (t) => {
  const { submit, tick, batcher } = setup()
  const a = submit('a', { signal: AbortSignal.abort() })
  await tick()
  t.equal(a.error?.code, 'CANCELLED')
  t.equal(batcher.depth, 0)
})

t.test('a cancelled in-flight item is detached; the invocation goes on for the others', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager' })
  const ca = new AbortController()
  const a = submit('a', { signal: ca.signal })
  const b = submit('b')
  await tick()
  ca.abort()
  await tick()
  t.equal(a.error?.code, 'CANCELLED')
  t.equal(calls[0].req.signal.aborted, false)
  echo(calls[0])
  await tick()
  t.same(b.value, ['B'])
})

t.test('cancelling every in-flight item aborts the invocation and frees its slot when invoke returns', async (t) => {
  const { calls, submit, tick, events, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 1 })
  const ca = new AbortController()
  const cb = new AbortController()
  submit('a', { signal: ca.signal })
  submit('b', { signal: cb.signal })
  await tick()
  const next = submit('next', { model: 'other' })
  ca.abort()
  cb.abort()
  t.equal(calls[0].req.signal.aborted, true)
  calls[0].reject(new DOMException('This operation was aborted', 'AbortError'))
  await tick()
  t.same(events.map((e) => e.outcome), ['aborted'])
  t.same(calls[1].req.inputs, ['next'])
  echo(calls[1])
  await tick()
  t.same(next.value, ['NEXT'])
  t.equal(batcher.inFlight, 0)
})

t.test('a settled item lets go of its signal', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager' })
  const controller = new AbortController()
  const a = submit('a', { signal: controller.signal })
  t.equal(getEventListeners(controller.signal, 'abort').length, 1)
  await tick()
  echo(calls[0])
  await tick()
  t.equal(getEventListeners(controller.signal, 'abort').length, 0)
  controller.abort()
  await tick()
  t.same(a.value, ['A'])
})

t.test('drain still honours deadlines of items waiting for a slot', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'wait', maxWaitMs: 60_000, maxConcurrent: 1 })
  submit('a', { model: 'x' })
  const b = submit('b', { model: 'y', deadline: T0 + 20 })
  let drained = false
  void batcher.drain().then(() => { drained = true })
  await tick(20)
  t.equal(b.error?.code, 'DEADLINE_EXCEEDED')
  echo(calls[0])
  await tick()
  t.equal(calls.length, 1)
  t.equal(drained, true)
})

t.test('the invoke signal is a fresh one per attempt', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', retry: { maxAttempts: 2, baseMs: 10, capMs: 10 } })
  submit('a')
  await tick()
  calls[0].reject(new InvokeError('retryable', 'Throttled'))
  await tick(5)
  t.equal(calls.length, 2)
  t.not(calls[0].req.signal, calls[1].req.signal)
  t.equal(calls[1].req.signal.aborted, false)
})
