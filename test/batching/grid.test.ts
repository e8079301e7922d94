// The learned policy on the bench's grid, on a fake clock: three latency shapes × 1, 2, 4, 8
// slots × 1, 8, 32, 64, 128 closed-loop callers, on a quiet machine and on a busy one, against
// the endpoint's own ceiling simulated the same way (min(C, S) callers sending perfect batches
// of ⌈C/S⌉). Deterministic: a number that moves is a change of behaviour.
import t from 'tap'
import { closedLoop, directCeiling, lcg, quantile, serialTransit, setup, T0 } from '../helpers/batching.js'

const SHAPES = [
  { name: 'balanced 50+5·B', baseMs: 50, perItemMs: 5 },
  { name: 'base-dominated 200+0.5·B', baseMs: 200, perItemMs: 0.5 },
  { name: 'per-item-dominated 5+10·B', baseMs: 5, perItemMs: 10 }
]
const SLOTS = [1, 2, 4, 8]
const LEVELS = [1, 8, 32, 64, 128]
const MAX_SIZE = 32
const FROM_MS = 3000
const END_MS = 13_000

// (the fake clock runs timers on whole ms, rounding delays down and up to 1 ms from 0: the
// quiet round trip below is 1 ms, and the busy machines' callers come back in 1 ms steps)
// quiet: nothing but a 0.1–0.5 ms round trip; busy: the gateway's CPU per request in series
// (0.3 ms or 0.6 ms ±50%: the 64-caller case fell to 72% on a busy machine, which the
// 0.6 ms machine reproduces on the code before its fix) and an endpoint that varies by up to
// `jitterMs`
const MACHINES: Array<{ name: string, cpuMs: number, jitterMs: number, stall?: { every: number, ms: number } }> = [
  { name: 'quiet', cpuMs: 0, jitterMs: 0 },
  { name: 'busy (0.3 ms per request, 5 ms jitter)', cpuMs: 0.3, jitterMs: 5 },
  { name: 'busier (0.6 ms per request, 10 ms jitter)', cpuMs: 0.6, jitterMs: 10 },
  // a machine shared with other work: now and then the core is taken from under a request for
  // 5 ms, so the callers of one answer come back in clumps with gaps, as traced on the bench's
  // machine. Before latecomers were waited for up to a whole invocation (flush-policy.ts,
  // `stragglerWaitMs`), the tail broke the bound at 64 and 128 callers on 2-, 4- and 8-slot
  // endpoints (1.19-1.77x p50): a caller that missed its batch took the next slot's place,
  // whose own last caller then missed it in turn
  { name: 'shared (0.3 ms per request, 5 ms jitter, a 5 ms stall every 50 requests)', cpuMs: 0.3, jitterMs: 5, stall: { every: 50, ms: 5 } }
]
// the tail is asserted where batches fill (one or eight callers per slot see the endpoint's own
// jitter, which is not the batcher's to remove)
const TAIL_AT = [32, 64, 128]
const TAIL_BOUND = 1.3
const SHARE_BOUND = 0.9

for (const machine of MACHINES) {
  t.test(`'learned' holds >= 90% of the endpoint's simulated ceiling on every cell of the grid, p99 <= 1.3x p50 from 32 callers on, ${machine.name}`, async (t) => {
    for (const shape of SHAPES) {
      for (const slots of SLOTS) {
        const row: string[] = []
        for (const clients of LEVELS) {
          const random = lcg(clients * 10 + slots)
          const latencyMs = (items: number): number => shape.baseMs + shape.perItemMs * items + machine.jitterMs * random()
          const netMs = (): number => 0.1 + 0.4 * random()
          const h = setup({ flushPolicy: 'learned', maxSize: MAX_SIZE, maxConcurrent: slots, maxWaitMs: 10, maxQueue: 10_000 },
            (req) => req.inputs.map((input) => [input]), (req) => latencyMs(req.inputs.length))
          const done = closedLoop(h, { clients, fromMs: FROM_MS, endMs: END_MS, transitMs: serialTransit(h.clock, machine.cpuMs, netMs, random, machine.stall) })
          await h.clock.tickAsync(END_MS + 3000)
          const result = await done
          const ceiling = directCeiling({ clients, slots, maxSize: MAX_SIZE, latencyMs, netMs, horizonMs: 100_000 })
          const share = result.ok / (END_MS - FROM_MS) / ceiling
          const tail = quantile(result.latencies, 0.99) / quantile(result.latencies, 0.5)
          row.push(`C=${clients} ${(100 * share).toFixed(1)}% ${tail.toFixed(2)}x`)
          t.ok(share >= SHARE_BOUND, `${shape.name}, ${slots} slots, ${clients} callers: ${(100 * share).toFixed(1)}% of the ceiling`)
          if (TAIL_AT.includes(clients)) t.ok(tail <= TAIL_BOUND, `${shape.name}, ${slots} slots, ${clients} callers: p99 ${tail.toFixed(2)}x p50`)
        }
        t.comment(`${shape.name}, ${slots} slots: ${row.join('  ')}`)
      }
    }
  })
}

// Eight callers in a load process of their own, each back 0.5–8.5 ms after its answer (as the
// real bench's clients are): two per slot on 4 slots, four on 2. The endpoint's estimate of how
// many answered callers come back (`ReturnShare`) read such loops on 4 slots anywhere from 0.00
// to 0.70 when it fitted the last 32 answers whatever their size; under 0.5 the policy sent a
// share without its last, slightly late caller, who waited a whole invocation for the next slot:
// p99 1.42x p50 on 50+5·B, 1.70x on 200+0.5·B and 1.85x on 5+10·B with 4 slots (and 1.9–2.0x on
// 200+0.5·B with 2 slots in the real bench)
t.test('eight callers who straggle back over 8 ms: each share waits for its last caller, p99 <= 1.3x p50', async (t) => {
  for (const shape of SHAPES) {
    for (const slots of [2, 4]) {
      const clients = 8
      const random = lcg(clients * 10 + slots + 8)
      const latencyMs = (items: number): number => shape.baseMs + shape.perItemMs * items + 5 * random()
      const netMs = (): number => 0.5 + 8 * random()
      const h = setup({ flushPolicy: 'learned', maxSize: MAX_SIZE, maxConcurrent: slots, maxWaitMs: 10, maxQueue: 10_000 },
        (req) => req.inputs.map((input) => [input]), (req) => latencyMs(req.inputs.length))
      const done = closedLoop(h, { clients, fromMs: FROM_MS, endMs: END_MS, transitMs: netMs })
      await h.clock.tickAsync(END_MS + 3000)
      const result = await done
      const ceiling = directCeiling({ clients, slots, maxSize: MAX_SIZE, latencyMs, netMs, horizonMs: 100_000 })
      const share = result.ok / (END_MS - FROM_MS) / ceiling
      const tail = quantile(result.latencies, 0.99) / quantile(result.latencies, 0.5)
      t.ok(share >= SHARE_BOUND, `${shape.name}, ${slots} slots: ${(100 * share).toFixed(1)}% of the ceiling`)
      t.ok(tail <= TAIL_BOUND, `${shape.name}, ${slots} slots: p99 ${tail.toFixed(2)}x p50`)
    }
  }
})

// The real bench runs its levels one after another on one gateway: 3 s of 64 callers to warm it
// up, then 1 caller for 5 s, then 8. The last answers of the 64 (whose callers stopped: x ≈ 64,
// d ≈ 0) weighed 64 times a new answer of 8 in `ReturnShare`'s fit, and the 1-caller answers in
// between carry so little evidence that the fit reached back past them: for seconds the share
// read under the late-caller floor, and each share went out without its last caller (8 clients
// on 50+5·B with 1 slot: 87% of the ceiling, p99 1.86x p50 in the real bench)
t.test('eight callers after 64 and then one: the old callers do not hold the share down, p99 <= 1.3x p50', async (t) => {
  for (const shape of SHAPES) {
    for (const slots of [1, 2, 4]) {
      const random = lcg(slots + 88)
      const latencyMs = (items: number): number => shape.baseMs + shape.perItemMs * items + 5 * random()
      const netMs = (): number => 0.5 + 8 * random()
      const h = setup({ flushPolicy: 'learned', maxSize: MAX_SIZE, maxConcurrent: slots, maxWaitMs: 10, maxQueue: 10_000 },
        (req) => req.inputs.map((input) => [input]), (req) => latencyMs(req.inputs.length))
      const phases = [{ clients: 64, endMs: 3000 }, { clients: 1, endMs: 8000 }, { clients: 8, endMs: 13_000 }]
      let done: ReturnType<typeof closedLoop> | undefined
      for (const { clients, endMs } of phases) {
        done = closedLoop(h, { clients, fromMs: endMs - 4000, endMs, transitMs: netMs })
        await h.clock.tickAsync(endMs - (h.clock.now - T0))
      }
      await h.clock.tickAsync(3000)
      const result = await (done as ReturnType<typeof closedLoop>)
      const ceiling = directCeiling({ clients: 8, slots, maxSize: MAX_SIZE, latencyMs, netMs, horizonMs: 100_000 })
      const share = result.ok / 4000 / ceiling
      const tail = quantile(result.latencies, 0.99) / quantile(result.latencies, 0.5)
      t.ok(share >= SHARE_BOUND, `${shape.name}, ${slots} slots: ${(100 * share).toFixed(1)}% of the ceiling`)
      t.ok(tail <= TAIL_BOUND, `${shape.name}, ${slots} slots: p99 ${tail.toFixed(2)}x p50`)
    }
  }
})
