// The real-time service's batchers on a fake clock: list endpoints share today's batcher, an
// endpoint of a single-input contract gets its own (one item per invocation, at most instances
// × the container's MAX_CONCURRENT_REQUESTS in flight, capped), the queue bound holds across
// all of them, and a contract's real body never exceeds what the batcher sized by more than the
// margin it keeps.
import t from 'tap'
import { BatcherError } from '../../src/batching/errors.js'
import { encodePayload, normaliseParams } from '../../src/batching/payload.js'
import type { ResolvedEndpoint } from '../../src/endpoints/resolver.js'
import { CONTRACT_BODY_MARGIN_BYTES, endpointConcurrency } from '../../src/realtime/batchers.js'
import { jumpstartList } from '../../src/sagemaker/contracts/jumpstart-list.js'
import { lmiDynamic, lmiRolling } from '../../src/sagemaker/contracts/lmi.js'
import { translateParameters } from '../../src/sagemaker/contracts/parameters.js'
import { tgiContract } from '../../src/sagemaker/contracts/tgi.js'
import { echo, setupBatchers } from '../helpers/batching.js'

const tgi = (name: string, perInstance: number, instances = 1): ResolvedEndpoint => ({ name, contract: tgiContract(perInstance), limits: {}, instances })
const LIST: ResolvedEndpoint = { name: 'list-ep', contract: jumpstartList, limits: {}, instances: 1 }

t.test('a TGI endpoint: one input per invocation, its own invoker, instances × MAX_CONCURRENT_REQUESTS in flight', async t => {
  const h = setupBatchers({ maxSize: 32 })
  const ep = tgi('tgi-ep', 2, 2)
  const deadline = h.clock.now + 60_000
  const answers = Array.from({ length: 6 }, (_, i) => h.batchers.submit(ep, { params: {}, input: `in ${i}`, deadline }))
  await h.tick(0)
  t.equal(h.calls.length, 4, 'two instances × two permits each')
  t.ok(h.calls.every(c => c.req.inputs.length === 1 && c.req.endpoint === 'tgi-ep'), 'one input each')
  t.same(h.contracts, ['tgi'], 'the endpoint\'s batcher was built with an invoker for its contract')
  t.equal(h.batchers.depth, 2)
  t.equal(h.batchers.inFlight, 4)
  for (const call of h.calls.splice(0)) echo(call)
  await h.tick(0)
  t.equal(h.calls.length, 2, 'the waiting two go as permits free')
  for (const call of h.calls.splice(0)) echo(call)
  t.same(await Promise.all(answers), Array.from({ length: 6 }, (_, i) => [`IN ${i}`]))
  t.equal(h.batchers.of(ep), h.batchers.of(tgi('tgi-ep', 2, 2)), 'the same endpoint keeps its batcher')
})

t.test('the concurrency bound: instances × per instance, capped by REALTIME_MAX_CONCURRENT_PER_ENDPOINT', async t => {
  t.equal(endpointConcurrency(tgi('a', 128, 1), 64), 64, 'TGI\'s default 128 capped')
  t.equal(endpointConcurrency(tgi('a', 4, 3), 64), 12)
  t.equal(endpointConcurrency({ contract: lmiRolling(256), instances: 2 }, 100), 100)
})

t.test('the queue bound holds across every batcher (and per tenant): N endpoints do not multiply it', async t => {
  const h = setupBatchers({ maxQueue: 3, maxQueuePerKey: 2 })
  const deadline = h.clock.now + 60_000
  const a = tgi('a', 1)
  const b = tgi('b', 1)
  const settled: Array<Promise<unknown>> = []
  // one in flight per endpoint, then three waiting across them
  for (const [ep, input] of [[a, 'a1'], [b, 'b1'], [LIST, 'l1']] as const) settled.push(h.batchers.submit(ep, { params: {}, input, deadline }))
  await h.tick(0)
  for (const [ep, input] of [[a, 'a2'], [b, 'b2']] as const) settled.push(h.batchers.submit(ep, { params: {}, input, deadline }))
  await h.tick(0)
  t.equal(h.batchers.inFlight, 3, 'a1, b1 and the list item l1 are sent')
  t.equal(h.batchers.depth, 2)
  settled.push(h.batchers.submit(a, { params: {}, input: 'a3', deadline }))
  t.equal(h.batchers.depth, 3)
  const full = await h.batchers.submit(b, { params: {}, input: 'b3', deadline }).catch((e: unknown) => e)
  t.match(full, { code: 'QUEUE_FULL', message: '3 items are already waiting (limit 3)' }, 'refused though b\'s own batcher has room')
  t.ok(full instanceof BatcherError)
  t.equal(h.batchers.room(), 0)

  const h2 = setupBatchers({ maxQueue: 10, maxQueuePerKey: 2 })
  const d2 = h2.clock.now + 60_000
  const keyed: Array<Promise<unknown>> = []
  for (const [ep, input] of [[a, 'x1'], [b, 'x2']] as const) keyed.push(h2.batchers.submit(ep, { params: {}, input, deadline: d2, key: 'acme' }))
  await h2.tick(0)
  for (const [ep, input] of [[a, 'x3'], [b, 'x4']] as const) keyed.push(h2.batchers.submit(ep, { params: {}, input, deadline: d2, key: 'acme' }))
  await h2.tick(0)
  t.equal(h2.batchers.room('acme'), 0, 'acme has two waiting, one in each endpoint\'s batcher')
  const mine = await h2.batchers.submit(a, { params: {}, input: 'x5', deadline: d2, key: 'acme' }).catch((e: unknown) => e)
  t.match(mine, { code: 'QUEUE_FULL', message: 'this key has 2 items waiting already (the limit per key)' })
  t.equal(h2.batchers.room('other'), 2, 'another tenant is unaffected')
  t.equal(h2.batchers.room(), 8)
  h.batchers.abort()
  h2.batchers.abort()
  t.same((await Promise.allSettled([...settled, ...keyed])).map(s => s.status === 'rejected' && (s.reason as BatcherError).code), Array(10).fill('SHUTTING_DOWN'), 'abort answers queued and in-flight items in every batcher')
})

t.test('drain and abort cover every batcher; a changed endpoint gets a new batcher while the old one finishes', async t => {
  const h = setupBatchers()
  const deadline = h.clock.now + 60_000
  const first = h.batchers.submit(tgi('ep', 1, 1), { params: {}, input: 'one', deadline })
  await h.tick(0)
  const old = h.batchers.of(tgi('ep', 1, 1))
  const scaled = tgi('ep', 1, 2)
  t.not(h.batchers.of(scaled), old, 'two instances: a new batcher of bound 2')
  t.equal(h.batchers.all().length, 3, 'the list one, the new one, and the old one still finishing')
  const second = h.batchers.submit(scaled, { params: {}, input: 'two', deadline })
  await h.tick(0)
  t.equal(h.batchers.inFlight, 2)
  const draining = h.batchers.drain()
  const refused = await h.batchers.submit(LIST, { params: {}, input: 'late', deadline }).catch((e: unknown) => e)
  t.match(refused, { code: 'SHUTTING_DOWN' })
  h.batchers.abort()
  t.match(await first.catch((e: unknown) => e), { code: 'SHUTTING_DOWN' })
  t.match(await second.catch((e: unknown) => e), { code: 'SHUTTING_DOWN' })
  for (const call of h.calls.splice(0)) echo(call)
  await draining
  t.equal(h.batchers.all().length, 2, 'the old batcher is dropped once drained')
})

t.test('a contract\'s body exceeds the list body the batcher sized by at most CONTRACT_BODY_MARGIN_BYTES', async t => {
  const inputs = ['', 'short', 'a "quoted" input\nwith\\escapes and ünïcödé', 'x'.repeat(10_000)]
  const paramSets = [
    {},
    { max_length: 1024, temperature: 0.7, top_k: 50, top_p: 0.9, do_sample: true, seed: 42 },
    { max_length: 5, num_return_sequences: 2, do_sample: true }
  ]
  const stops = [[], ['.'], ['"', '\\', '\n', 'ü', 'end of text']]
  let worst = Number.NEGATIVE_INFINITY
  for (const contract of [tgiContract(), lmiRolling(), lmiDynamic(undefined)]) {
    for (const p of paramSets) {
      for (const stop of stops) {
        let params
        try {
          params = normaliseParams(translateParameters(contract, p, 'body', { stop }).params)
        } catch {
          continue
        }
        for (const input of inputs) {
          const sized = Buffer.byteLength(encodePayload([input], params))
          for (const stream of contract.streams ? [false, true] : [false]) {
            const sent = Buffer.byteLength(contract.buildPayload([input], params, { stream }))
            worst = Math.max(worst, sent - sized)
          }
        }
      }
    }
  }
  t.ok(worst <= CONTRACT_BODY_MARGIN_BYTES, `the largest excess is ${worst} bytes`)
  t.ok(worst > 0, 'and there is one: the list body alone would not bound it')

  const h = setupBatchers({ maxBytes: 2000 })
  const big = 'y'.repeat(2000 - 40)
  const tooBig = await h.batchers.submit(tgi('t', 1), { params: {}, input: big, deadline: h.clock.now + 60_000 }).catch((e: unknown) => e)
  t.match(tooBig, { code: 'PAYLOAD_TOO_LARGE' }, 'a TGI input that fits the list body but not with the margin is refused before sending')
  t.equal(h.calls.length, 0)
})

t.test('an LMI dynamic-batch endpoint: its own list batcher, at most SERVING_BATCH_SIZE inputs per payload', async t => {
  const h = setupBatchers({ maxSize: 32, maxConcurrent: 1 })
  const ep: ResolvedEndpoint = { name: 'lmi-ep', contract: lmiDynamic(2), limits: {}, instances: 1 }
  const deadline = h.clock.now + 60_000
  const first = h.batchers.submit(ep, { params: {}, input: 'first', deadline })
  await h.tick(0)
  const rest = Array.from({ length: 5 }, (_, i) => h.batchers.submit(ep, { params: {}, input: `in ${i}`, deadline }))
  t.not(h.batchers.of(ep), h.batchers.list, 'not the jumpstart-list batcher: its body is LMI\'s')
  t.same(h.contracts, ['lmi'])
  const sizes: number[] = []
  for (let i = 0; i < 10 && h.calls.length > 0; i++) {
    for (const call of h.calls.splice(0)) {
      sizes.push(call.req.inputs.length)
      echo(call)
    }
    await h.tick(0)
  }
  t.same(sizes, [1, 2, 2, 1], 'the waiting five go two at a time')
  t.same(await Promise.all([first, ...rest]), [['FIRST'], ...Array.from({ length: 5 }, (_, i) => [`IN ${i}`])])
})
