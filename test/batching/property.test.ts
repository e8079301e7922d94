import t from 'tap'
import fc from 'fast-check'
import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { MicroBatcher, type FlushPolicy, type InvokeRequest } from '../../src/batching/batcher.js'
import { BatcherError, InvokeError } from '../../src/batching/errors.js'
import { encodePayload, normaliseParams, type Params } from '../../src/batching/payload.js'

// epoch ms the fake clock starts at
const T0 = 1_700_000_000_000

interface Arrival {
  // ms after the previous arrival
  gap: number
  model: number
  param: number
  // characters of padding after the id; long ones may be PAYLOAD_TOO_LARGE
  length: number
  // ms from arrival to deadline
  ttl: number
  // ms from arrival to the caller aborting, if it does
  cancelAfter: number | null
  poisoned: boolean
}

interface Behaviour {
  // ms the endpoint takes
  latency: number
  failure: 'none' | 'retryable' | 'fatal' | 'mismatch'
}

interface Scenario {
  maxSize: number
  maxBytes: number
  maxConcurrent: number
  maxQueue: number
  maxWaitMs: number
  flushPolicy: FlushPolicy
  retry: { maxAttempts: number, baseMs: number, capMs: number }
  arrivals: Arrival[]
  behaviours: Behaviour[]
  randoms: number[]
  // whether invoke rejects as soon as its signal aborts, as the AWS SDK does
  honoursAbort: boolean
  // ms after T0 at which drain() is called, if before the end
  drainAt: number | null
}

const arrival: fc.Arbitrary<Arrival> = fc.record({
  gap: fc.integer({ min: 0, max: 8 }),
  model: fc.integer({ min: 0, max: 1 }),
  param: fc.integer({ min: 0, max: 2 }),
  length: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 120 }) }),
  ttl: fc.integer({ min: 1, max: 150 }),
  cancelAfter: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) }),
  // about one arrival in ten
  poisoned: fc.integer({ min: 0, max: 9 }).map((n) => n === 0)
})

const scenario: fc.Arbitrary<Scenario> = fc.record({
  maxSize: fc.integer({ min: 1, max: 6 }),
  maxBytes: fc.integer({ min: 60, max: 300 }),
  maxConcurrent: fc.integer({ min: 1, max: 3 }),
  maxQueue: fc.integer({ min: 1, max: 25 }),
  maxWaitMs: fc.integer({ min: 0, max: 20 }),
  flushPolicy: fc.constantFrom<FlushPolicy>('eager', 'wait', 'adaptive', 'learned'),
  retry: fc.record({ maxAttempts: fc.integer({ min: 1, max: 3 }), baseMs: fc.integer({ min: 0, max: 20 }), capMs: fc.integer({ min: 0, max: 40 }) }),
  arrivals: fc.array(arrival, { minLength: 1, maxLength: 40, size: 'max' }),
  behaviours: fc.array(fc.record({
    latency: fc.integer({ min: 0, max: 30 }),
    failure: fc.constantFrom<Behaviour['failure']>('none', 'none', 'none', 'retryable', 'fatal', 'mismatch')
  }), { minLength: 1, maxLength: 10 }),
  randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 5 }),
  honoursAbort: fc.boolean(),
  drainAt: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) })
})

interface Record {
  input: string
  model: string
  paramsJson: string
  // epoch ms
  deadline: number
  cancelledAt?: number
  poisoned: boolean
  settlements: number
  value?: string[]
  error?: BatcherError
  settledAt?: number
  sends: number
}

type Limits = Pick<Scenario, 'maxSize' | 'maxBytes' | 'maxConcurrent'>

/**
 * Runs one scenario to quiescence and returns the violations found (empty = the invariants hold).
 * Limits are judged against `judged`, normally the scenario's own; a stricter one proves the checks bite.
 */
async function run (s: Scenario, judged: Limits = s): Promise<string[]> {
  const violations: string[] = []
  const clock = FakeTimers.createClock(T0, 100_000)
  const records = new Map<string, Record>()
  let open = 0
  let calls = 0
  let randomIndex = 0
  const invoke = async (req: InvokeRequest): Promise<string[][]> => {
    const now = clock.now
    open++
    if (open > judged.maxConcurrent) violations.push(`${open} invocations in flight, limit ${judged.maxConcurrent}`)
    if (req.inputs.length > judged.maxSize) violations.push(`payload of ${req.inputs.length} items, limit ${judged.maxSize}`)
    if (req.body !== encodePayload(req.inputs, req.params)) violations.push(`payload ${req.batchId} body is not the encoding of its inputs and params`)
    const bytes = Buffer.byteLength(req.body)
    if (bytes > judged.maxBytes) violations.push(`payload of ${bytes} bytes, limit ${judged.maxBytes}`)
    let previousSeq = -1
    for (const input of req.inputs) {
      const record = records.get(input)
      if (record === undefined) { violations.push(`unknown input ${input}`); continue }
      record.sends++
      if (record.model !== req.endpoint || record.paramsJson !== JSON.stringify(req.params)) violations.push(`${input} sent in the ${req.endpoint} ${JSON.stringify(req.params)} partition`)
      if (record.deadline <= now) violations.push(`${input} sent at ${now - T0} past its deadline ${record.deadline - T0}`)
      if (record.cancelledAt !== undefined) violations.push(`${input} sent after it was cancelled`)
      if (record.settlements > 0) violations.push(`${input} sent after it settled`)
      const seq = Number(input.split('|')[0])
      if (seq <= previousSeq) violations.push(`payload ${req.batchId} not in arrival order`)
      previousSeq = seq
    }
    if (req.deadline !== Math.max(...req.inputs.map((i) => records.get(i)?.deadline ?? 0))) violations.push(`payload ${req.batchId} deadline is not the latest`)
    const behaviour = s.behaviours[calls++ % s.behaviours.length]
    return await new Promise<string[][]>((resolve, reject) => {
      const finish = (): void => { open-- }
      const timer = clock.setTimeout(() => {
        finish()
        req.signal.removeEventListener('abort', onAbort)
        if (req.inputs.some((i) => records.get(i)?.poisoned === true)) reject(new InvokeError('model', 'poisoned'))
        else if (behaviour.failure === 'retryable') reject(new InvokeError('retryable', 'throttled'))
        else if (behaviour.failure === 'fatal') reject(new Error('fatal'))
        else if (behaviour.failure === 'mismatch' && req.inputs.length > 1) resolve([])
        else resolve(req.inputs.map((i) => [`OUT:${i}`]))
      }, behaviour.latency)
      const onAbort = (): void => {
        if (!s.honoursAbort) return
        clock.clearTimeout(timer)
        finish()
        reject(new DOMException('aborted', 'AbortError'))
      }
      req.signal.addEventListener('abort', onAbort)
    })
  }

  const batcher = new MicroBatcher({
    invoke,
    maxSize: s.maxSize,
    maxBytes: s.maxBytes,
    maxConcurrent: s.maxConcurrent,
    maxQueue: s.maxQueue,
    maxWaitMs: s.maxWaitMs,
    flushPolicy: s.flushPolicy,
    retry: s.retry,
    random: () => s.randoms[randomIndex++ % s.randoms.length],
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    onFlush: (e) => { if (e.items < 1) violations.push(`flush of ${e.items} items`) }
  })

  let at = T0
  s.arrivals.forEach((a, seq) => {
    at += a.gap
    const input = `${seq}|${'x'.repeat(a.length)}`
    const model = `m${a.model}`
    const params: Params = a.param === 0 ? {} : a.param === 1 ? { max_length: 20, top_k: 5 } : { top_k: 5, max_length: 20.0, do_sample: true }
    const record: Record = {
      input,
      model,
      paramsJson: JSON.stringify(normaliseParams(params)),
      deadline: at + a.ttl,
      poisoned: a.poisoned,
      settlements: 0,
      sends: 0
    }
    records.set(input, record)
    clock.setTimeout(() => {
      const controller = new AbortController()
      batcher.submit({ endpoint: model, params, input, deadline: record.deadline, signal: controller.signal }).then(
        (value) => { record.settlements++; record.value = value; record.settledAt = clock.now },
        (error: BatcherError) => { record.settlements++; record.error = error; record.settledAt = clock.now }
      )
      if (a.cancelAfter !== null) {
        clock.setTimeout(() => {
          if (record.settlements === 0) record.cancelledAt = clock.now
          controller.abort()
        }, a.cancelAfter)
      }
    }, at - T0)
  })
  let drained = false
  if (s.drainAt !== null) clock.setTimeout(() => { void batcher.drain().then(() => { drained = true }) }, s.drainAt)

  await clock.runAllAsync()
  await batcher.drain()
  await clock.runAllAsync()

  if (batcher.depth !== 0 || batcher.inFlight !== 0) violations.push(`not idle: depth ${batcher.depth}, inFlight ${batcher.inFlight}`)
  if (s.drainAt !== null && !drained) violations.push('drain() never resolved')
  if (clock.countTimers() !== 0) violations.push(`${clock.countTimers()} timers left`)
  if (open !== 0) violations.push(`${open} invocations never finished`)
  for (const r of records.values()) {
    if (r.settlements !== 1) violations.push(`${r.input} settled ${r.settlements} times`)
    if (r.settledAt !== undefined && r.settledAt > r.deadline) violations.push(`${r.input} answered at ${r.settledAt - T0}, after its deadline ${r.deadline - T0}`)
    if (r.cancelledAt !== undefined && (r.settledAt === undefined || r.settledAt > r.cancelledAt)) violations.push(`${r.input} not settled when cancelled`)
    if (r.value !== undefined && JSON.stringify(r.value) !== JSON.stringify([`OUT:${r.input}`])) violations.push(`${r.input} got ${JSON.stringify(r.value)}`)
    if (r.value !== undefined && r.poisoned) violations.push(`${r.input} is poisoned yet resolved`)
    if (r.error !== undefined && !(r.error instanceof BatcherError)) violations.push(`${r.input} rejected with a foreign error`)
    if (r.error?.code === 'MODEL_ERROR' && !r.poisoned) violations.push(`${r.input} blamed for a model error it did not cause`)
    if (r.error?.code === 'PAYLOAD_TOO_LARGE' && r.sends > 0) violations.push(`${r.input} rejected too large yet sent`)
    if ((r.error?.code === 'QUEUE_FULL' || r.error?.code === 'SHUTTING_DOWN') && r.sends > 0) violations.push(`${r.input} turned away yet sent`)
  }
  return violations
}

t.test('property: under random arrivals, params, latencies, failures and cancellations every invariant holds', async (t) => {
  let runs = 0
  await fc.assert(fc.asyncProperty(scenario, async (s) => {
    runs++
    const violations = await run(s)
    if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'))
  }), { numRuns: 300 })
  t.equal(runs, 300)
})

t.test('the property checks can fail', async (t) => {
  const s: Scenario = {
    maxSize: 3,
    maxBytes: 200,
    maxConcurrent: 2,
    maxQueue: 10,
    maxWaitMs: 5,
    flushPolicy: 'wait',
    retry: { maxAttempts: 1, baseMs: 0, capMs: 0 },
    arrivals: Array.from({ length: 6 }, (_, i) => ({ gap: 0, model: i % 2, param: 0, length: 1, ttl: 100, cancelAfter: null, poisoned: false })),
    behaviours: [{ latency: 10, failure: 'none' }],
    randoms: [0],
    honoursAbort: true,
    drainAt: null
  }
  t.same(await run(s), [])
  // two partitions of three make two payloads of 3 items in parallel, each 35 bytes: {"text_inputs":["0|x","2|x","4|x"]}
  t.same(await run(s, { maxSize: 2, maxBytes: 200, maxConcurrent: 2 }), ['payload of 3 items, limit 2', 'payload of 3 items, limit 2'])
  t.same(await run(s, { maxSize: 3, maxBytes: 34, maxConcurrent: 2 }), ['payload of 35 bytes, limit 34', 'payload of 35 bytes, limit 34'])
  t.same(await run(s, { maxSize: 3, maxBytes: 200, maxConcurrent: 1 }), ['2 invocations in flight, limit 1'])
})
