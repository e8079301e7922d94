import t from 'tap'
import fc from 'fast-check'
import { DeadlineHeap, type HeapEntry } from '../../src/batching/deadline-heap.js'
import { assemblePayload, encodePayload, normaliseParams, partitionKey, payloadBytes, payloadOverheadBytes, payloadTail, type Params } from '../../src/batching/payload.js'

/** UTF-8 bytes one input adds to a payload (its JSON string), comma excluded. */
const inputBytes = (input: string): number => Buffer.byteLength(JSON.stringify(input), 'utf8')
import { RETRY_AFTER_CAP_MS, backoffCeilingMs, backoffMs, estimateRetryAfterMs } from '../../src/batching/backoff.js'

t.test('partitionKey: same model and params in any key order share a key', async (t) => {
  t.equal(partitionKey('m', { a: 1, b: 2 }), partitionKey('m', { b: 2, a: 1 }))
  t.equal(partitionKey('m', { a: 1 }), partitionKey('m', { a: 1.0 }))
  t.equal(partitionKey('m', {}), partitionKey('m', {}))
})

t.test('partitionKey: model, key set and exact values all separate partitions', async (t) => {
  const keys = [
    partitionKey('m', { a: 1 }),
    partitionKey('n', { a: 1 }),
    partitionKey('m', { a: '1' }),
    partitionKey('m', { a: true }),
    partitionKey('m', { a: 'true' }),
    partitionKey('m', { a: 1, b: 1 }),
    partitionKey('m', {}),
    partitionKey('m', { max_length: 50 }),
    // a default value is not dropped: JumpStart defaults vary by model version
    partitionKey('m', { max_length: 20 })
  ]
  t.equal(new Set(keys).size, keys.length)
  // no delimiter tricks: the model name cannot leak into the params
  t.not(partitionKey('m","a', {}), partitionKey('m', { a: '' }))
})

t.test('normaliseParams sorts keys and keeps values', async (t) => {
  t.same(Object.keys(normaliseParams({ top_k: 5, do_sample: true, max_length: 9 })), ['do_sample', 'max_length', 'top_k'])
  t.equal(JSON.stringify(normaliseParams({ b: 'x', a: 1.5 })), '{"a":1.5,"b":"x"}')
})

t.test('encodePayload is the JumpStart list body with text_inputs first and sorted params', async (t) => {
  t.equal(encodePayload(['a', 'b"c'], { top_k: 2, do_sample: false }), '{"text_inputs":["a","b\\"c"],"do_sample":false,"top_k":2}')
  t.equal(encodePayload([], {}), '{"text_inputs":[]}')
})

t.test('byte accounting equals the UTF-8 length of the encoded payload', async (t) => {
  t.equal(payloadOverheadBytes({}), 18)
  t.equal(inputBytes('abc'), 5)
  // é is 2 bytes, 😀 4 bytes, each plus quotes
  t.equal(inputBytes('é'), 4)
  t.equal(inputBytes('😀'), 6)
  t.equal(inputBytes('a\nb'), 6)
  const params: Params = { max_length: 20, do_sample: true }
  const inputs = ['héllo', 'wörld "quoted"', '']
  const sum = inputs.reduce((s, i) => s + inputBytes(i), 0)
  t.equal(payloadBytes(payloadOverheadBytes(params), inputs.length, sum), Buffer.byteLength(encodePayload(inputs, params)))
  t.equal(payloadBytes(payloadOverheadBytes(params), 0, 0), Buffer.byteLength(encodePayload([], params)))
})

t.test('property: the assembled body parses back to exactly the inputs and the params', async (t) => {
  t.equal(assemblePayload(['"a"', '"b\\"c"'], payloadTail({ top_k: 2, do_sample: false })), '{"text_inputs":["a","b\\"c"],"do_sample":false,"top_k":2}')
  t.equal(assemblePayload([], payloadTail({})), '{"text_inputs":[]}')
  const params = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter(k => k !== 'text_inputs' && k !== '__proto__'), fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()))
  fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' })), params, (inputs, p) => {
    const parsed = JSON.parse(assemblePayload(inputs.map(i => JSON.stringify(i)), payloadTail(p))) as Record<string, unknown>
    const { text_inputs: texts, ...rest } = parsed
    // JSON.stringify turns -0 into 0; compare as the endpoint will read the numbers
    return JSON.stringify(texts) === JSON.stringify(inputs) && JSON.stringify(normaliseParams(rest as Params)) === JSON.stringify(normaliseParams(p))
  }))
  t.pass('held for every generated case')
})

t.test('property: incremental byte count is exact for any inputs and params', async (t) => {
  const params = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()))
  fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' })), params, (inputs, p) => {
    const sum = inputs.reduce((s, i) => s + inputBytes(i), 0)
    return payloadBytes(payloadOverheadBytes(p), inputs.length, sum) === Buffer.byteLength(encodePayload(inputs, p))
  }))
  t.pass('held for every generated case')
})

interface Entry extends HeapEntry { id: number }
const entry = (id: number, deadline: number): Entry => ({ id, deadline, heapIndex: -1 })

t.test('DeadlineHeap pops in deadline order and removes from the middle', async (t) => {
  const heap = new DeadlineHeap<Entry>()
  const entries = [entry(1, 50), entry(2, 10), entry(3, 30), entry(4, 20), entry(5, 40)]
  for (const e of entries) heap.push(e)
  t.equal(heap.size, 5)
  t.equal(heap.peek()?.id, 2)
  heap.remove(entries[2])
  t.equal(entries[2].heapIndex, -1)
  // removing twice, or an entry never pushed, is a no-op
  heap.remove(entries[2])
  heap.remove(entry(9, 0))
  t.equal(heap.size, 4)
  const order: number[] = []
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) order.push(e.id)
  t.same(order, [2, 4, 5, 1])
  t.equal(heap.pop(), undefined)
})

t.test('property: DeadlineHeap agrees with a sorted list under random pushes and removals', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.boolean())), (ops) => {
    const heap = new DeadlineHeap<Entry>()
    const model: Entry[] = []
    ops.forEach(([deadline, removeOne], id) => {
      const e = entry(id, deadline)
      heap.push(e)
      model.push(e)
      if (removeOne && model.length > 0) {
        const victim = model.splice(deadline % model.length, 1)[0]
        heap.remove(victim)
      }
    })
    const expected = model.map((e) => e.deadline).sort((a, b) => a - b)
    const actual: number[] = []
    for (let e = heap.pop(); e !== undefined; e = heap.pop()) actual.push(e.deadline)
    return JSON.stringify(actual) === JSON.stringify(expected)
  }))
  t.pass('held for every generated case')
})

t.test('backoff: full jitter under min(cap, base * 2^(attempt-1)), retryAfter as a floor', async (t) => {
  const retry = { maxAttempts: 5, baseMs: 100, capMs: 1000 }
  t.same([1, 2, 3, 4, 5, 6].map((a) => backoffCeilingMs(retry, a)), [100, 200, 400, 800, 1000, 1000])
  t.equal(backoffMs(retry, 1, () => 0.5), 50)
  t.equal(backoffMs(retry, 3, () => 0.25), 100)
  t.equal(backoffMs(retry, 9, () => 0.999), 999)
  t.equal(backoffMs(retry, 1, () => 0), 0)
  t.equal(backoffMs(retry, 1, () => 0.5, 700), 700)
  t.equal(backoffMs(retry, 4, () => 0.5, 100), 400)
})

t.test('estimateRetryAfterMs: latency x waves of maxConcurrent batches, floored at 1 s and capped', async (t) => {
  t.equal(estimateRetryAfterMs(0, 10, 2), 1000)
  t.equal(estimateRetryAfterMs(400, 4, 2), 1000)
  t.equal(estimateRetryAfterMs(400, 10, 2), 2000)
  t.equal(estimateRetryAfterMs(400, 11, 2), 2400)
  t.equal(estimateRetryAfterMs(333.3, 12, 4), 1000)
  t.equal(estimateRetryAfterMs(1500.2, 1, 1), 1501)
  t.equal(estimateRetryAfterMs(30_000, 100, 1), RETRY_AFTER_CAP_MS)
})
