import t from 'tap'
import { closedLoop, echo, lcg, quantile, setup, type Curve } from '../helpers/batching.js'
import type { LatencyFit } from '../../src/batching/latency-model.js'
import { batchTarget, decideFlush, evenShare, type FlushPolicy, type PartitionView } from '../../src/batching/flush-policy.js'

// a partition at the moment a slot is free: 4 slots, maxSize 32, the 50 + 5·B endpoint learnt
const VIEW: PartitionView = {
  now: 1000,
  queued: 1,
  bytesFull: false,
  oldestArrival: 1000,
  slotFreedAt: 0,
  inFlightItems: 0,
  population: 1,
  returnShare: 1,
  arrivalsPerMs: 0,
  lastArrival: 1000,
  totalPopulation: 1,
  inFlight: 0,
  busyFreeInMs: [],
  slots: 4,
  maxSize: 32,
  maxWaitMs: 10,
  meanLatencyMs: 90,
  fit: { baseMs: 50, perItemMs: 5, samples: 32, minItems: 1, maxItems: 32 },
  draining: false
}

t.test("'learned': every slot gets an even share of the recent population", async (t) => {
  t.same(decideFlush('learned', { ...VIEW, queued: 32, population: 32, totalPopulation: 32 }), { take: 8 }, '32 callers, 4 slots: batches of 8, not one of 32')
  t.same(decideFlush('learned', { ...VIEW, queued: 200, population: 200, totalPopulation: 200 }), { take: 32 }, 'never over maxSize')
  t.same(decideFlush('learned', VIEW), { take: 1 }, 'a lone caller goes at once')
  t.same(decideFlush('learned', { ...VIEW, queued: 12, population: 32, totalPopulation: 32, inFlight: 3, busyFreeInMs: [30, 40, 60], inFlightItems: 20 }), { take: 12 },
    'one slot free: it takes the remainder along rather than leave 4 behind for a busy slot')
  t.same(decideFlush('learned', { ...VIEW, queued: 12, population: 32, totalPopulation: 32, inFlight: 2, busyFreeInMs: [30, 40], inFlightItems: 20 }), { take: 8 }, 'two free: at least a share each')
  t.same(decideFlush('learned', { ...VIEW, queued: 12, population: 32, totalPopulation: 32, inFlight: 3, busyFreeInMs: [0, 2, 60], inFlightItems: 20 }), { take: 8 }, 'answers due within the patience count as free slots')
  t.equal(evenShare({ population: 3, totalPopulation: 64, slots: 4, maxSize: 32 }), 3, 'a partition cannot fill a share bigger than itself')
  t.equal(evenShare({ population: 0, totalPopulation: 0, slots: 4, maxSize: 32 }), 1)
  // base-dominated (200 + 0.5·B): a batch of 28 costs under 5% more than the share of 8
  const base = { population: 32, totalPopulation: 32, slots: 4, maxSize: 32 }
  t.equal(batchTarget({ ...base, fit: { baseMs: 200, perItemMs: 0.5, samples: 32, minItems: 2, maxItems: 32 } }), 28, 'base-dominated: fewer, fuller payloads')
  t.equal(batchTarget({ ...base, fit: { baseMs: 50, perItemMs: 5, samples: 32, minItems: 2, maxItems: 32 } }), 8, '50 + 5·B: the even share')
  t.equal(batchTarget({ ...base, fit: { baseMs: 20, perItemMs: 0, samples: 32, minItems: 1, maxItems: 4 } }), 32, 'no per-item cost seen across sizes 1 to 4: one payload')
  t.equal(batchTarget({ ...base, fit: { baseMs: 20, perItemMs: 0, samples: 32, minItems: 8, maxItems: 8 } }), 8, 'one size only: the slope is unknown, spread')
})

t.test("'learned': waits for the rest of a share only while callers are expected back, at most the learnt base", async (t) => {
  // 32 callers of late; 24 in flight, 1 back: 7 expected
  const back = { ...VIEW, queued: 1, inFlightItems: 24, population: 32, totalPopulation: 32 }
  t.same(decideFlush('learned', back), { until: 1010 }, 'base 50 ms: maxWaitMs (10) binds')
  t.same(decideFlush('learned', { ...back, fit: { baseMs: 5, perItemMs: 10, samples: 32, minItems: 1, maxItems: 32 } }), { until: 1005 }, 'base 5 ms: waiting longer than a base costs more than the fragment')
  t.same(decideFlush('learned', { ...back, now: 1010 }), { take: 1 }, 'the wait is over: what is there goes')
  t.same(decideFlush('learned', { ...back, now: 1030, slotFreedAt: 1030 }), { until: 1040 }, 'waiting for a slot is not waiting for company: patience starts when the slot frees')
  t.same(decideFlush('learned', { ...back, inFlightItems: 31 }), { take: 1 }, 'nobody else expected: a free slot never idles while an item waits')
  t.same(decideFlush('learned', { ...back, fit: undefined }), { take: 1 }, 'nothing learnt yet and nothing in flight: at once')
  t.same(decideFlush('learned', { ...back, fit: undefined, inFlight: 3 }), { until: 1010 }, 'nothing learnt yet, the endpoint busy: maxWaitMs at most')
  const trickle = { ...VIEW, queued: 3, population: 16, totalPopulation: 16, inFlightItems: 13, inFlight: 2 }
  t.same(decideFlush('learned', trickle), { take: 3 }, 'callers trickling in slowly (none in transit, none due): no wait')
  t.same(decideFlush('learned', { ...trickle, arrivalsPerMs: 0.2 }), { until: 1010 }, 'arriving at 2 per patience: wait for them')
  t.same(decideFlush('learned', { ...back, queued: 8 }), { take: 8 }, 'a full share goes at once')
  t.same(decideFlush('learned', { ...back, bytesFull: true }), { take: 8 }, 'so does a payload at maxBytes')
  t.same(decideFlush('learned', { ...back, draining: true }), { take: 32 }, 'draining: no waiting at all')
  // base-dominated (200 + 0.5·B, target 28 for 32 callers): the even share of 8 is what is waited for
  const flat = { ...back, fit: { baseMs: 200, perItemMs: 0.5, samples: 32, minItems: 2, maxItems: 32 } }
  t.same(decideFlush('learned', { ...flat, queued: 8 }), { take: 28 }, 'base-dominated: a share is there, so it goes, with up to the wider target')
  t.same(decideFlush('learned', { ...flat, queued: 20 }), { take: 28 }, 'base-dominated: what is queued goes up to the target')
  t.same(decideFlush('learned', { ...flat, queued: 4 }), { until: 1010 }, 'base-dominated: company is waited for up to the even share only')
})

t.test("'learned': for independent callers a wait is worth only what the endpoint's base saves", async (t) => {
  // 12 in flight on 3 slots, 1 here, nobody on the way back, more arriving at 1 per ms: a share of 4
  const busy = { ...VIEW, queued: 1, inFlightItems: 12, inFlight: 3, busyFreeInMs: [30, 40, 60], population: 13, totalPopulation: 13, arrivalsPerMs: 1 }
  const perItem = { ...busy, fit: { baseMs: 5, perItemMs: 10, samples: 32, minItems: 1, maxItems: 32 } }
  t.same(decideFlush('learned', perItem), { until: 1005 }, 'callers in a closed loop, 5 + 10·B: the base (5 ms) is waited for')
  // a batch of 4 costs 45 ms of which 5 are base: 5 × 5 / 45 ms
  t.same(decideFlush('learned', { ...perItem, returnShare: 0 }), { take: 1 }, 'independent callers, 5 + 10·B: a ninth of it, in which less than one more item is due: at once')
  t.same(decideFlush('learned', { ...perItem, returnShare: 0, arrivalsPerMs: 4 }), { until: 1000 + 25 / 45 }, 'independent callers arriving at 4 per ms: a ninth of the base')
  t.same(decideFlush('learned', { ...perItem, returnShare: 0.5 }), { until: 1000 + 0.5 * 5 + 0.5 * 25 / 45 }, 'half of them coming back: half way between')
  const flat = { ...busy, fit: { baseMs: 200, perItemMs: 0.5, samples: 32, minItems: 2, maxItems: 32 } }
  t.same(decideFlush('learned', { ...flat, returnShare: 0 }), { until: 1000 + 10 * 200 / 202 }, 'independent callers, 200 + 0.5·B: nearly all of maxWaitMs, as batching pays')
})

t.test("'learned': the last caller of a share is waited for where it would lose an invocation, even on a low share", async (t) => {
  // 200 + 0.5·B on 2 slots, 8 callers: the other slot busy with 4, 3 of this slot's 4 back, the
  // share of answered callers coming back read at 0.3 (stragglers, or answers of callers since
  // gone): 0.3 of a caller expected, who would wait a whole invocation (202 ms) for the next slot
  const last = { ...VIEW, queued: 3, population: 8, totalPopulation: 8, inFlightItems: 4, inFlight: 1, slots: 2, busyFreeInMs: [150], returnShare: 0.3, fit: { baseMs: 200, perItemMs: 0.5, samples: 32, minItems: 2, maxItems: 32 } }
  // patience: maxWaitMs × (0.3 + 0.7 × 200 / 202)
  t.same(decideFlush('learned', last), { until: 1000 + 10 * (0.3 + 0.7 * 200 / 202) }, '0.3 × 202 ms to lose against 3 × 10 ms of waiting: wait')
  t.same(decideFlush('learned', { ...last, returnShare: 0.1 }), { take: 3 }, 'a share of 0.1 is within independent callers\' noise: at once')
  // 3 slots, 7 callers (a share of 3): 4 in flight on one slot, 2 here, 1 expected at 0.3
  t.same(decideFlush('learned', { ...last, slots: 3, population: 7, totalPopulation: 7, queued: 2 }), { take: 2 }, 'another slot idle: the late caller will take that one, so at once')
  // 5 + 10·B, a share of 4 (45 ms): patience 5 ms × (0.2 + 0.8 × 5 / 45)
  const perItem = { ...last, returnShare: 0.2, fit: { baseMs: 5, perItemMs: 10, samples: 32, minItems: 1, maxItems: 32 } }
  t.same(decideFlush('learned', perItem), { until: 1000 + 5 * (0.2 + 0.8 * 5 / 45) }, '5 + 10·B: 0.2 × 45 ms to lose against 3 × 1.4 ms: wait')
  t.same(decideFlush('learned', { ...perItem, returnShare: 0.05 }), { take: 3 }, 'and at 0.05, noise: at once')
  // 50 + 5·B, a share of 4 (70 ms), as traced in the real bench: the bound read 0.27 and its
  // point estimate about 0.5; 0.27 × 70 ms against 3 × 7.9 ms sent the share without its last caller
  const balanced = { ...last, returnShare: 0.27, fit: { baseMs: 50, perItemMs: 5, samples: 32, minItems: 2, maxItems: 32 } }
  const patienceMs = 10 * (0.27 + 0.73 * 50 / 70)
  t.same(decideFlush('learned', { ...balanced, returnPoint: 0.5 }), { until: 1000 + patienceMs }, 'the loss weighed with the point estimate: 0.5 × 70 ms against 3 × 7.9 ms: wait')
  t.same(decideFlush('learned', { ...balanced, returnPoint: 0.3 }), { take: 3 }, 'a point estimate of 0.3: 21 ms against 23.7 ms, at once')
  t.same(decideFlush('learned', { ...balanced, returnShare: 0.1, returnPoint: 0.9 }), { take: 3 }, 'a bound under the floor is no loop, whatever the point estimate: at once')
  t.same(decideFlush('learned', { ...balanced, returnPoint: Number.NaN }), { take: 3 }, 'a point estimate that is not a number: the bound, as if none were given: at once')
  t.same(decideFlush('learned', balanced), { take: 3 }, 'none given: the bound')
})

t.test("'learned': the last free slot keeps waiting for callers still coming back, while they keep coming", async (t) => {
  // 200 + 0.5·B on 2 slots, 64 callers: one slot busy (answer due in 150 ms), 32 of the other
  // slot's callers on their way back at one per 0.6 ms, 16 here after 10 ms
  const coming = {
    ...VIEW,
    now: 1010,
    queued: 16,
    oldestArrival: 1000,
    slotFreedAt: 1000,
    lastArrival: 1009.5,
    arrivalsPerMs: 1 / 0.6,
    inFlightItems: 32,
    population: 64,
    totalPopulation: 64,
    inFlight: 1,
    busyFreeInMs: [150],
    slots: 2,
    fit: { baseMs: 200, perItemMs: 0.5, samples: 32, minItems: 2, maxItems: 32 }
  }
  t.same(decideFlush('learned', coming), { until: 1019.5 }, 'past maxWaitMs: until maxWaitMs after the latest arrival')
  t.same(decideFlush('learned', { ...coming, now: 1020 }), { take: 16 }, 'arrivals paused for maxWaitMs: what is there goes')
  t.same(decideFlush('learned', { ...coming, queued: 32 }), { take: 32 }, 'the share complete: at once')
  t.same(decideFlush('learned', { ...coming, arrivalsPerMs: 0.01 }), { take: 16 }, 'arriving too slowly to be worth the wait of those queued: at once')
  t.same(decideFlush('learned', { ...coming, inFlightItems: 48 }), { take: 16 }, 'nobody on the way back: at once')
})

t.test("'learned': latecomers are waited for even when the next slot frees soon, since its own callers fill it", async (t) => {
  // traced on the fake-clock grid (5 + 10·B on 4 slots, 64 callers, a 5 ms stall every 50
  // requests): 15 of a share of 16 back, the 16th held up, the next slot due in 15.5 ms. Sent
  // without it, the latecomer took the next slot's last place, and that slot's own last caller
  // waited 134 ms for the slot after (p99 1.32x p50)
  const short = {
    ...VIEW,
    now: 1014,
    queued: 15,
    oldestArrival: 1000,
    slotFreedAt: 1000,
    lastArrival: 1013.5,
    arrivalsPerMs: 0.61,
    inFlightItems: 48,
    population: 64,
    totalPopulation: 64,
    inFlight: 3,
    busyFreeInMs: [15.5, 147.5, 152.5],
    slots: 4,
    maxWaitMs: 10,
    fit: { baseMs: 5, perItemMs: 10, samples: 32, minItems: 2, maxItems: 32 }
  }
  t.same(decideFlush('learned', short), { until: 1023.5 }, 'waits while arrivals go on (maxWaitMs after the latest)')
  t.same(decideFlush('learned', { ...short, now: 1024 }), { take: 15 }, 'arrivals paused for maxWaitMs: what is there goes')
  t.same(decideFlush('learned', { ...short, arrivalsPerMs: 0.05 }), { take: 15 }, 'the queued would wait longer in all than one invocation (15 / 0.05 = 300 ms > 165 ms): at once')
})

t.test('the other policies decide as before', async (t) => {
  const waiting = { ...VIEW, queued: 2, inFlight: 1 }
  t.same(decideFlush('eager', waiting), { take: 32 })
  t.same(decideFlush('wait', waiting), { until: 1010 })
  t.same(decideFlush('wait', { ...waiting, queued: 32 }), { take: 32 })
  t.same(decideFlush('adaptive', { ...waiting, inFlight: 0 }), { take: 32 })
  t.same(decideFlush('adaptive', { ...waiting, meanLatencyMs: 20 }), { until: 1005 }, 'latency / slots = 5 ms')
})

t.test("'learned' in the batcher: 32 simultaneous callers leave as 4 batches of 8, one per slot", async (t) => {
  const { calls, submit, tick } = setup({ flushPolicy: 'learned', maxSize: 32, maxConcurrent: 4 })
  for (let i = 0; i < 32; i++) submit(`t${i}`)
  await tick()
  t.same(calls.map((c) => c.req.inputs.length), [8, 8, 8, 8])
  t.same(calls.flatMap((c) => c.req.inputs), Array.from({ length: 32 }, (_, i) => `t${i}`), 'in arrival order')
  calls.forEach(echo)
})

// Closed-loop callers on the fake clock against three latency curves, 4 slots, maxSize 32: the
// share of C / latency(min(32, ⌈C/4⌉)) — every slot busy with an even share, the most any
// scheduler gets — that the learnt policy reaches, from a cold start (nothing learnt).
const CURVES: Array<Curve & { name: string }> = [
  { name: '50 + 5·B', baseMs: 50, perItemMs: 5 },
  { name: '200 + 0.5·B (base-dominated)', baseMs: 200, perItemMs: 0.5 },
  { name: '5 + 10·B (per-item-dominated)', baseMs: 5, perItemMs: 10 }
]
const SLOTS = 4
const MAX_SIZE = 32

async function run (policy: FlushPolicy, curve: Curve, clients: number): Promise<{ share: number, p50: number, fit?: LatencyFit }> {
  const h = setup({ flushPolicy: policy, maxSize: MAX_SIZE, maxConcurrent: SLOTS, maxWaitMs: 10, maxQueue: 10_000 },
    (req) => req.inputs.map((input) => [input]), (req) => curve.baseMs + curve.perItemMs * req.inputs.length)
  const random = lcg(clients)
  const fromMs = 3000
  const endMs = 13_000
  // the round trip back to the caller and its next request: 0.1 to 0.5 ms
  const done = closedLoop(h, { clients, fromMs, endMs, transitMs: () => 0.1 + 0.4 * random() })
  await h.clock.tickAsync(endMs + 2000)
  const result = await done
  const ceilingPerMs = clients / (curve.baseMs + curve.perItemMs * Math.min(MAX_SIZE, Math.ceil(clients / SLOTS)))
  return { share: result.ok / (endMs - fromMs) / ceilingPerMs, p50: quantile(result.latencies, 0.5), fit: h.batcher.latencyFit('m') }
}

for (const curve of CURVES) {
  t.test(`'learned' reaches >= 90% of the ceiling at 1, 8, 32 and 128 callers on ${curve.name}, and learns the curve`, async (t) => {
    for (const clients of [1, 8, 32, 128]) {
      const learned = await run('learned', curve, clients)
      const adaptive = await run('adaptive', curve, clients)
      t.comment(`C=${clients}: learned ${(100 * learned.share).toFixed(1)}% (p50 ${learned.p50.toFixed(1)} ms), adaptive ${(100 * adaptive.share).toFixed(1)}%`)
      t.ok(learned.share >= 0.9, `C=${clients}: ${(100 * learned.share).toFixed(1)}% of the ceiling`)
      if (clients === 1) t.ok(learned.p50 <= curve.baseMs + curve.perItemMs + 1, `one caller waits no more than the endpoint takes (p50 ${learned.p50} ms)`)
      if (clients >= 8) {
        // what the policy leans on: the latency of the batches it sends (once they are all an
        // even share, a single size, the slope itself cannot be seen; the next test sees it)
        const size = Math.min(MAX_SIZE, Math.ceil(clients / SLOTS))
        const truth = curve.baseMs + curve.perItemMs * size
        const predicted = learned.fit === undefined ? NaN : learned.fit.baseMs + learned.fit.perItemMs * size
        t.ok(Math.abs(predicted - truth) <= 0.05 * truth, `C=${clients}: learnt ${predicted.toFixed(1)} ms for ${size} items (truth ${truth})`)
      }
    }
  })
}

for (const curve of CURVES) {
  t.test(`the batcher learns ${curve.name} from the invocations of irregular traffic`, async (t) => {
    const h = setup({ flushPolicy: 'learned', maxSize: MAX_SIZE, maxConcurrent: SLOTS, maxQueue: 10_000 },
      (req) => req.inputs.map((input) => [input]), (req) => curve.baseMs + curve.perItemMs * req.inputs.length)
    const random = lcg(11)
    // bursts of 1 to 40 callers at random moments: batches of many sizes
    for (let burst = 0; burst < 150; burst++) {
      const n = 1 + Math.floor(random() * 40)
      for (let i = 0; i < n; i++) h.submit(`b${burst}.${i}`)
      await h.tick(Math.floor(random() * 3 * (curve.baseMs + curve.perItemMs * 8)))
    }
    await h.tick(60_000)
    const fit = h.batcher.latencyFit('m')
    t.ok(fit !== undefined && Math.abs(fit.baseMs - curve.baseMs) <= 0.05 * curve.baseMs && Math.abs(fit.perItemMs - curve.perItemMs) <= 0.05 * curve.perItemMs,
      `learnt ${fit?.baseMs.toFixed(2)} + ${fit?.perItemMs.toFixed(2)}·B`)
  })
}
