// The streaming path's runner (src/realtime/streams.ts) on a fake clock with scripted streams:
// refusals before the first token are retried with the batcher's backoff (TGI's 429 "Model is
// overloaded" is retryable: text-generation-inference router/src/server.rs, InferError::Overloaded),
// a failure after it is a `failed` event and never retried, the caller's cancellation and
// deadline close the endpoint's stream, and the batcher's error codes come out.
import t from 'tap'
import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { BatcherError, InvokeError } from '../../src/batching/errors.js'
import { StreamFailure, tgiContract, type StreamEvent } from '../../src/sagemaker/contracts/index.js'
import type { StreamRequest } from '../../src/sagemaker/stream-invoker.js'
import { createStreams, type StreamOutput } from '../../src/realtime/streams.js'

const T0 = 1_700_000_000_000

/** A scripted stream: per attempt, a list of steps (an event after `ms`, or an error after `ms`). */
type Step = { ms: number, event: StreamEvent } | { ms: number, error: unknown }

function harness (script: Step[][]) {
  const clock = FakeTimers.createClock(T0)
  const requests: StreamRequest[] = []
  const streams = createStreams({
    retry: { maxAttempts: 5, baseMs: 100, capMs: 1000 },
    random: () => 0.5,
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    invoke: async function * (req) {
      requests.push(req)
      for (const step of script[requests.length - 1] ?? []) {
        await new Promise<void>((resolve, reject) => {
          const id = clock.setTimeout(() => { resolve() }, step.ms)
          req.signal.addEventListener('abort', () => { clock.clearTimeout(id); reject(new StreamFailure('aborted', 'aborted')) }, { once: true })
        })
        if ('error' in step) throw step.error
        yield step.event
      }
    }
  })
  const collect = (signal: AbortSignal = new AbortController().signal, deadlineMs = 60_000): { out: StreamOutput[], result: Promise<BatcherError | undefined> } => {
    const out: StreamOutput[] = []
    const result = (async () => {
      for await (const e of streams({ endpoint: 'e', contract: tgiContract(), input: 'x', params: {}, deadline: clock.now + deadlineMs, signal })) out.push(e)
    })().then(() => undefined, (e: unknown) => e as BatcherError)
    return { out, result }
  }
  return { clock, requests, collect, streams }
}

const tok = (text: string, ms = 10): Step => ({ ms, event: { type: 'token', text } })
const done = (text: string, ms = 10): Step => ({ ms, event: { type: 'done', text } })

t.test('tokens pass through as they come, then the whole text', async t => {
  const h = harness([[tok('a'), tok(' b'), done('a b')]])
  const { out, result } = h.collect()
  await h.clock.tickAsync(15)
  t.same(out, [{ type: 'token', text: 'a' }], 'the first token before the second exists')
  await h.clock.tickAsync(100)
  t.equal(await result, undefined)
  t.same(out.map(e => e.type), ['token', 'token', 'done'])
})

t.test('a retryable refusal before the first token is retried after a backoff', async t => {
  const overloaded = new InvokeError('retryable', 'Model is overloaded (model status 429)')
  const h = harness([[{ ms: 5, error: overloaded }], [{ ms: 5, error: overloaded }], [tok('a'), done('a')]])
  const { out, result } = h.collect()
  await h.clock.tickAsync(2000)
  t.equal(await result, undefined)
  t.equal(h.requests.length, 3, 'two refusals, then the stream')
  t.same(out.map(e => e.type), ['token', 'done'])
})

t.test('a refusal that cannot pass rejects at once with the batcher\'s code', async t => {
  const h = harness([[{ ms: 5, error: new InvokeError('model', 'Input validation error: `inputs` must have less than 60 tokens') }]])
  const { result } = h.collect()
  await h.clock.tickAsync(100)
  const err = await result
  t.equal(err?.code, 'MODEL_ERROR')
  t.equal(h.requests.length, 1)
})

t.test('a failure after the first token is a failed event, never retried', async t => {
  const h = harness([[tok('a'), { ms: 10, error: new StreamFailure('CUDA out of memory', 'generation') }], [tok('z'), done('z')]])
  const { out, result } = h.collect()
  await h.clock.tickAsync(1000)
  t.equal(await result, undefined)
  t.equal(h.requests.length, 1)
  t.same(out.map(e => e.type), ['token', 'failed'])
  const last = out.at(-1)
  t.equal(last?.type === 'failed' ? last.error.code : undefined, 'MODEL_ERROR')
})

t.test('the caller leaving closes the endpoint\'s stream', async t => {
  const h = harness([[tok('a'), tok('b', 1000), done('ab')]])
  const caller = new AbortController()
  const { out, result } = h.collect(caller.signal)
  await h.clock.tickAsync(20)
  caller.abort()
  await h.clock.tickAsync(1)
  t.ok(h.requests[0].signal.aborted, 'the invocation is aborted')
  t.equal(await result, undefined)
  t.equal(out.at(-1)?.type === 'failed' ? (out.at(-1) as { error: BatcherError }).error.code : undefined, 'CANCELLED')
})

t.test('the deadline closes a stream; a retry that cannot fit is not made', async t => {
  const slow = harness([[tok('a'), tok('b', 5000), done('ab')]])
  const { out, result } = slow.collect(undefined, 1000)
  await slow.clock.tickAsync(1500)
  t.equal(await result, undefined)
  t.equal(out.at(-1)?.type === 'failed' ? (out.at(-1) as { error: BatcherError }).error.code : undefined, 'DEADLINE_EXCEEDED')

  const refused = harness([[{ ms: 5, error: new InvokeError('retryable', 'throttled', { retryAfterMs: 5000 }) }]])
  const r = refused.collect(undefined, 1000)
  await refused.clock.tickAsync(100)
  t.equal((await r.result)?.code, 'DEADLINE_EXCEEDED')
  t.equal(refused.requests.length, 1)
})

t.test('a reader that stops early closes the endpoint\'s stream', async t => {
  const h = harness([[tok('a'), tok('b', 1000), done('ab')]])
  const reading = (async () => {
    for await (const e of h.streams({ endpoint: 'e', contract: tgiContract(), input: 'x', params: {}, deadline: h.clock.now + 60_000, signal: new AbortController().signal })) {
      if (e.type === 'token') break
    }
  })()
  await h.clock.tickAsync(20)
  await reading
  t.ok(h.requests[0].signal.aborted)
})
