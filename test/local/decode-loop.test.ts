// The emulated TGI container's continuous-batching latency model (LOCAL_TGI_STEP_MS,
// LOCAL_TGI_STEP_PER_REQUEST_MS) on a fake clock: a step takes base + perRequest × (requests in
// it) and gives each one token, so n requests together finish n× the work of one in
// (base + n·perRequest) / (base + perRequest) of its time; past MAX_CONCURRENT_REQUESTS the
// container answers 429 "Model is overloaded" (text-generation-inference router/src/infer.rs).
import t from 'tap'
import { DecodeLoop, type DecodeStep } from '../../src/local/decode-loop.js'
import { decodeStepOf, TgiContainer } from '../../src/local/tgi-container.js'

/** A fake clock: sleeping advances it at once; each step's duration is recorded. */
function fakeClock (): { now: () => number, steps: number[], sleep: (ms: number) => Promise<void> } {
  let now = 0
  const steps: number[] = []
  return {
    now: () => now,
    steps,
    sleep: async ms => {
      steps.push(ms)
      await new Promise(resolve => setImmediate(resolve))
      now += ms
    }
  }
}

const STEP: DecodeStep = { baseMs: 20, perRequestMs: 2 }

/** Virtual ms until `n` requests of `tokens` tokens, joining together, all finish. */
async function together (n: number, tokens: number): Promise<number> {
  const clock = fakeClock()
  const loop = new DecodeLoop(STEP, clock.sleep)
  await Promise.all(Array.from({ length: n }, async () => { await loop.join(tokens).token(tokens - 1) }))
  return clock.now()
}

t.test('throughput rises with concurrency as the step model says', async t => {
  const alone = await together(1, 10)
  t.equal(alone, 10 * (20 + 2), 'one request: a token per base + perRequest')
  const eight = await together(8, 10)
  t.equal(eight, 10 * (20 + 8 * 2), 'eight together: every step carries all eight')
  const ratio = (8 / eight) / (1 / alone)
  t.ok(Math.abs(ratio - 8 * 22 / 36) < 1e-9, `throughput ratio ${ratio.toFixed(3)} = 8·(b+p)/(b+8p)`)
  t.ok(ratio > 4, 'batching pays')
})

t.test('a request arriving during a step joins at the next, and one that leaves stops counting', async t => {
  const clock = fakeClock()
  const loop = new DecodeLoop(STEP, clock.sleep)
  const first = loop.join(5)
  await first.token(0)
  t.equal(clock.now(), 22, 'the first token after one step of one request')
  const second = loop.join(3)
  const controller = new AbortController()
  const third = loop.join(10, controller.signal)
  await second.token(2)
  t.same(clock.steps.slice(0, 5), [22, 22, 26, 26, 26], 'the joiners arrive during the second step and enter at the third')
  controller.abort()
  const thirdDone = third.token(9).then(() => 'finished', (err: Error) => err.name)
  await first.token(4)
  t.equal(await thirdDone, 'AbortError', 'an aborted request gets no more tokens')
  t.equal(clock.steps.at(-1), 22, 'and the steps after it count one request')
  t.equal(loop.active, 0, 'nothing left decoding')
})

t.test('the container paces by steps, refuses past MAX_CONCURRENT_REQUESTS, and streams one token per step', async t => {
  const clock = fakeClock()
  const limits = { maxConcurrentRequests: 4, maxInputLength: 1000, maxTotalTokens: 2000, maxStopSequences: 4, maxBestOf: 2 }
  const container = new TgiContainer({ limits, tokenDelayMs: 0, step: STEP, fault: undefined }, Math.random, clock.sleep)
  const body = Buffer.from(JSON.stringify({ inputs: 'The council approved the budget on Monday after a long debate. Libraries will open on Sundays. Roads get twice the money.', parameters: { max_new_tokens: 6 } }))
  const signal = new AbortController().signal
  const answers = await Promise.all(Array.from({ length: 5 }, async () => await container.invoke('application/json', body, signal)))
  t.same(answers.map(a => a.status).sort(), [200, 200, 200, 200, 429], 'the fifth at once is overloaded')
  t.equal(clock.now(), 6 * (20 + 4 * 2), 'four requests of six tokens: six steps of four')

  const streamed = await container.invoke('application/json', Buffer.from(JSON.stringify({ inputs: 'The council approved the budget on Monday after a long debate.', parameters: { max_new_tokens: 3 }, stream: true })), signal)
  const before = clock.now()
  const at: number[] = []
  for await (const chunk of streamed.chunks) if (chunk.toString().startsWith('data:')) at.push(clock.now() - before)
  t.same(at, [22, 44, 66], 'a token event at the end of each step')
  t.equal(container.busy, 0, 'permits released')
})

t.test('the knobs are read from the model Environment, and only when set', async t => {
  t.equal(decodeStepOf({}), undefined, 'absent: the per-token delay as before')
  t.same(decodeStepOf({ LOCAL_TGI_STEP_MS: '20' }), { baseMs: 20, perRequestMs: 0 })
  t.same(decodeStepOf({ LOCAL_TGI_STEP_MS: '20', LOCAL_TGI_STEP_PER_REQUEST_MS: '0.5' }), { baseMs: 20, perRequestMs: 0.5 })
  t.match(decodeStepOf({ LOCAL_TGI_STEP_PER_REQUEST_MS: 'fast' }), /LOCAL_TGI_STEP_PER_REQUEST_MS "fast" is not a non-negative number of ms/)
})
