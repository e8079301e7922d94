import t from 'tap'
import { closedLoop, echo, lcg, quantile, setup, T0, type Tracked } from '../helpers/batching.js'
import { FairQueue, FairTags, parseTenantWeights, type LaneEntry } from '../../src/batching/fair-queue.js'

interface Entry extends LaneEntry { name: string }

function queueOf (weights: Record<string, number> = {}): { queue: FairQueue<Entry>, add: (lane: string, name: string, arrival?: number) => Entry, tags: FairTags } {
  const tags = new FairTags((lane) => weights[lane] ?? 1)
  const queue = new FairQueue<Entry>()
  const add = (lane: string, name: string, arrival = 0): Entry => {
    const entry = { lane, name, arrival, tag: tags.next(lane) }
    queue.push(entry)
    return entry
  }
  return { queue, add, tags }
}

function drainNames (queue: FairQueue<Entry>, tags: FairTags): string[] {
  const out: string[] = []
  for (let e = queue.take(); e !== undefined; e = queue.take()) {
    tags.served(e.tag)
    out.push(e.name)
  }
  return out
}

t.test('fair queue: tenants take turns; each tenant in arrival order', async (t) => {
  const { queue, add, tags } = queueOf()
  for (let i = 1; i <= 5; i++) add('a', `a${i}`)
  add('b', 'b1')
  add('b', 'b2')
  t.equal(queue.size, 7)
  t.same(drainNames(queue, tags), ['a1', 'b1', 'a2', 'b2', 'a3', 'a4', 'a5'])
})

t.test("fair queue: a tenant arriving after another's burst is served next, not after it", async (t) => {
  const { queue, add, tags } = queueOf()
  for (let i = 1; i <= 100; i++) add('a', `a${i}`)
  const served = [queue.take(), queue.take()]
  for (const e of served) if (e !== undefined) tags.served(e.tag)
  add('b', 'b1', 1)
  // b1 ties with a3 (both one turn past what was served); the tie goes to the older arrival
  t.same(drainNames(queue, tags).slice(0, 4), ['a3', 'b1', 'a4', 'a5'])
})

t.test('fair queue: weights give a tenant that many entries per turn; an idle tenant banks nothing', async (t) => {
  const { queue, add, tags } = queueOf({ gold: 3 })
  for (let i = 1; i <= 6; i++) add('gold', `g${i}`)
  for (let i = 1; i <= 4; i++) add('free', `f${i}`)
  t.same(drainNames(queue, tags), ['g1', 'g2', 'g3', 'f1', 'g4', 'g5', 'g6', 'f2', 'f3', 'f4'])
  // 'free' was idle while gold worked through a long queue: it gets its turn, not a backlog of turns
  const again = queueOf()
  for (let i = 1; i <= 6; i++) again.add('a', `a${i}`)
  for (let i = 0; i < 4; i++) { const e = again.queue.take(); if (e !== undefined) again.tags.served(e.tag) }
  again.tags.idle('b')
  again.add('b', 'b1')
  again.add('b', 'b2')
  t.same(drainNames(again.queue, again.tags), ['a5', 'b1', 'a6', 'b2'])
})

t.test('fair queue: removal anywhere, the oldest arrival, emptiness', async (t) => {
  const { queue, add } = queueOf()
  const a1 = add('a', 'a1', 5)
  add('b', 'b1', 3)
  const a2 = add('a', 'a2', 7)
  t.equal(queue.oldestArrival(), 3)
  t.equal(queue.remove(a2), true)
  t.equal(queue.remove(a2), false)
  t.equal(queue.size, 2)
  queue.remove(a1)
  t.equal(queue.peek()?.name, 'b1')
  queue.take()
  t.equal(queue.size, 0)
  t.equal(queue.peek(), undefined)
  t.equal(queue.oldestArrival(), Number.POSITIVE_INFINITY)
})

t.test('TENANT_WEIGHTS parsing', async (t) => {
  t.same([...parseTenantWeights('a1b2c3d4e5f6:3, 0f0f0f0f0f0f:1')], [['a1b2c3d4e5f6', 3], ['0f0f0f0f0f0f', 1]])
  t.same([...parseTenantWeights('')], [])
  t.throws(() => parseTenantWeights('gold:0'), { name: 'RangeError', message: /"gold:0"/ })
  t.throws(() => parseTenantWeights('gold:1.5'), { message: /"gold:1.5"/ })
  t.throws(() => parseTenantWeights('gold'), { message: /"gold"/ })
})

t.test('the batcher takes tenants round-robin into each payload', async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxSize: 4, maxConcurrent: 1 })
  submit('warm')
  await tick()
  for (let i = 1; i <= 6; i++) submit(`a${i}`, { key: 'a' })
  submit('b1', { key: 'b' })
  submit('b2', { key: 'b' })
  echo(calls[0])
  await tick()
  t.same(calls[1].req.inputs, ['a1', 'b1', 'a2', 'b2'])
})

t.test("a tenant's burst in other parameters does not go ahead of another tenant either", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'eager', maxSize: 2, maxConcurrent: 1 })
  submit('warm')
  await tick()
  for (let i = 1; i <= 6; i++) submit(`a${i}`, { key: 'a', params: { max_length: 10 } })
  echo(calls[0])
  await tick()
  t.same(calls[1].req.inputs, ['a1', 'a2'])
  await tick(1)
  submit('b1', { key: 'b' })
  echo(calls[1])
  await tick()
  echo(calls[2])
  await tick()
  const order = calls.slice(2).flatMap((c) => c.req.inputs)
  t.ok(order.includes('b1') && order.indexOf('b1') < 3, `b's partition takes its turn, not after a's other four (${order.join(',')})`)
})

t.test('QUEUE_MAX_PER_KEY: one key over its bound gets QUEUE_FULL, the others still queue', async (t) => {
  const { calls, submit, tick, batcher } = setup({ flushPolicy: 'eager', maxConcurrent: 1, maxQueuePerKey: 3, maxQueue: 100 })
  submit('warm')
  await tick()
  const a: Array<Tracked<string[]>> = []
  for (let i = 0; i < 5; i++) a.push(submit(`a${i}`, { key: 'a' }))
  const b = submit('b0', { key: 'b' })
  const anonymous = [submit('x0'), submit('x1'), submit('x2'), submit('x3')]
  await tick()
  t.same(a.map((x) => x.state), ['pending', 'pending', 'pending', 'rejected', 'rejected'])
  t.equal(a[3].error?.code, 'QUEUE_FULL')
  t.ok((a[3].error?.retryAfterMs ?? 0) >= 1000, 'with a Retry-After')
  t.match(a[3].error?.message, /this key has 3 items waiting/)
  t.equal(b.state, 'pending')
  t.ok(anonymous.every((x) => x.state === 'pending'), 'callers without a key are bounded by maxQueue only')
  t.same([batcher.room('a'), batcher.room('b'), batcher.room()], [0, 2, 92])
  echo(calls[0])
  await tick()
  t.equal(batcher.room('a'), 3, 'room again once its items are sent')
})

// A flood from one key against a steady second key, on the fake clock: 4 slots, an endpoint at
// 40 + 0.25·B ms. Key a keeps the endpoint busy with 16 closed-loop callers in both runs; in the
// second, a also dumps 3,000 items at once every 2 s (bounded per key at 1,000). Key b sends one
// item every 7 ms. b's p99 with the flood stays within 20% of its p99 without it. The slots are
// busy either way, so what the flood could take from b is its place in the queue (FIFO would put
// b behind a thousand items: seconds). The endpoint's base dominates on purpose: a flood fills
// every payload to maxSize, and on a per-item-dominated endpoint fuller payloads are slower for
// everyone in them, which no queue order can undo. Measured from 3 s: the 16 callers start
// together, so for the first second or so the four slots answer in phase and b waits up to a
// whole invocation for the next wave, in both runs (longer with the flood, whose payloads are
// all the same size and keep the phase).
const START_MS = 3000
async function keyBP99 (flood: boolean): Promise<{ p99: number, bOk: number, aFull: number, bErrors: number }> {
  const h = setup({ flushPolicy: 'learned', maxSize: 16, maxConcurrent: 4, maxQueue: 5000, maxQueuePerKey: 1000 },
    (req) => req.inputs.map((input) => [input]), (req) => 40 + 0.25 * req.inputs.length)
  const random = lcg(3)
  const endMs = 12_000
  const loop = closedLoop(h, { clients: 16, fromMs: START_MS, endMs, transitMs: () => 0.1 + 0.4 * random(), submit: { key: 'a' } })
  const b: Array<Tracked<string[]>> = []
  const firstB = Math.ceil(START_MS / 7) * 7
  let aFull = 0
  for (let at = 0; at < endMs; at += 7) {
    if (flood && at > START_MS && Math.floor(at / 2000) !== Math.floor((at - 7) / 2000)) {
      for (let i = 0; i < 3000; i++) {
        h.batcher.submit({ endpoint: 'm', params: {}, input: 'flood', deadline: h.clock.now + 60_000, key: 'a' })
          .catch((err: { code?: string }) => { if (err.code === 'QUEUE_FULL') aFull++ })
      }
    }
    if (at >= START_MS) b.push(h.submit(`b${at}`, { key: 'b', deadline: h.clock.now + 60_000 }))
    await h.tick(7)
  }
  await h.tick(120_000)
  await loop
  const latencies = b.map((x, i) => x.state === 'fulfilled' ? (x.at ?? 0) - (firstB + 7 * i) : NaN).filter((ms) => !Number.isNaN(ms)).sort((x, y) => x - y)
  return { p99: quantile(latencies, 0.99), bOk: latencies.length, aFull, bErrors: b.filter((x) => x.state === 'rejected').length }
}

t.test("one key's flood leaves another key's p99 within 20% of its value without the flood", async (t) => {
  const calm = await keyBP99(false)
  const flooded = await keyBP99(true)
  t.comment(`key b p99: ${calm.p99} ms without the flood, ${flooded.p99} ms with it; key a refused ${flooded.aFull} flood items with QUEUE_FULL`)
  t.equal(flooded.bErrors, 0, 'b never refused')
  t.equal(flooded.bOk, calm.bOk)
  t.ok(flooded.aFull > 0, "the flood really hit a's bound")
  t.ok(flooded.p99 <= 1.2 * calm.p99, `p99 ${flooded.p99} ms <= 1.2 x ${calm.p99} ms`)
  t.ok(T0 > 0)
})
