// ReturnShare: whether the items answered come back (callers in a closed loop) or arrivals go
// their own way (independent callers), from arrival and answer times alone.
import t from 'tap'
import { ReturnShare } from '../../src/batching/return-share.js'
import { lcg } from '../helpers/batching.js'

// the windows as the batcher sets them: half an invocation
const WINDOW_MS = 50

interface Event { at: number, answer?: number, windowMs?: number }

/**
 * A closed loop: `slots` slots each answering `batch` callers every `cycleMs`, staggered, each
 * answer up to `jitterMs` late; each caller is back `returnMs` (at least) to `returnMs` +
 * `spreadMs` after its answer.
 */
function closedLoop (opts: { slots: number, batch: number, cycleMs: number, spreadMs: number, fromMs?: number, untilMs: number, jitterMs?: number, returnMs?: number }, random = lcg(7)): Event[] {
  const events: Event[] = []
  const windowMs = opts.cycleMs / 2
  for (let slot = 0; slot < opts.slots; slot++) {
    for (let due = (opts.fromMs ?? 1000) + slot * opts.cycleMs / opts.slots; due < opts.untilMs; due += opts.cycleMs) {
      const at = due + (opts.jitterMs ?? 0) * random()
      events.push({ at, answer: opts.batch, windowMs })
      for (let i = 0; i < opts.batch; i++) events.push({ at: at + (opts.returnMs ?? 1) + random() * opts.spreadMs })
    }
  }
  return events
}

/** Independent callers at `perMs`, and answers of every size at every pace that none of them follows. */
function independent (perMs: number, fromMs: number, untilMs: number, random: () => number): Event[] {
  const events: Event[] = []
  for (let at = fromMs; at < untilMs; at += -Math.log(1 - random()) / perMs) events.push({ at })
  for (let at = fromMs; at < untilMs; at += 5 + 60 * random()) events.push({ at, answer: 1 + Math.floor(random() * 32) })
  return events
}

/** Feeds events in time order (an answer before the callers it answers within the same ms). */
function replay (share: ReturnShare, events: Event[]): void {
  events.sort((a, b) => a.at - b.at)
  for (const event of events) {
    if (event.answer !== undefined) share.answered(event.at, event.answer, event.windowMs ?? WINDOW_MS)
    else share.arrive(event.at)
  }
}

function shareOf (events: Event[], at: number): number {
  const share = new ReturnShare()
  replay(share, events)
  return share.value(at)
}

t.test('nothing seen yet: taken for a closed loop', async (t) => {
  const share = new ReturnShare()
  t.equal(share.value(0), 1)
  share.arrive(10)
  share.answered(20, 4, WINDOW_MS)
  t.equal(share.value(20 + WINDOW_MS - 1), 1, 'an answer is judged only once its window has passed')
})

// A closed loop reads well above independent callers' 0 however its slots are staggered, but not
// 1: callers come back a little after their answer, down the slope of the windows' weight, and
// the estimate is lowered by three standard errors (0.77 on one slot, 0.24 on eight slots whose
// callers straggle over a fifth of the window, when this was written).
const CLOSED_AT_LEAST = 0.2
const INDEPENDENT_AT_MOST = 0.05

t.test('callers in a closed loop come back: well above 0, however the slots are staggered', async (t) => {
  const cases = [
    { name: 'one slot, 8 callers, back within 5 ms', slots: 1, batch: 8, cycleMs: 100, spreadMs: 4 },
    { name: 'four slots of 8, back over 20 ms', slots: 4, batch: 8, cycleMs: 200, spreadMs: 19 },
    // answers a window apart: each neighbour sits on the window's edge, its callers just past it
    { name: 'four slots of 8, answers 50 ms apart, each up to 1 ms late', slots: 4, batch: 8, cycleMs: 200, spreadMs: 4, jitterMs: 1 },
    { name: 'two slots of 16, answers 50 ms apart, each up to 0.1 ms late', slots: 2, batch: 16, cycleMs: 100, spreadMs: 4, jitterMs: 0.1 },
    { name: 'three slots of 8, each answer up to 3 ms late', slots: 3, batch: 8, cycleMs: 150, spreadMs: 4, jitterMs: 3 },
    { name: 'eight slots of 16, back over 10 ms, each answer up to 5 ms late', slots: 8, batch: 16, cycleMs: 160, spreadMs: 9, jitterMs: 5 }
  ]
  for (const c of cases) {
    const value = shareOf(closedLoop({ ...c, untilMs: 8000 }), 8000)
    t.ok(value >= CLOSED_AT_LEAST, `${c.name}: ${value.toFixed(2)}`)
  }
})

t.test('callers back within the same ms as their answer count as back', async (t) => {
  // a loopback client answered at once: its next request stamped with the answer's own ms
  const value = shareOf(closedLoop({ slots: 1, batch: 8, cycleMs: 100, spreadMs: 0, returnMs: 0, untilMs: 6000 }), 6000)
  t.ok(value >= CLOSED_AT_LEAST, `${value.toFixed(2)}`)
})

t.test('independent callers: about 0, however the answers fall', async (t) => {
  for (const perMs of [0.05, 0.3, 2]) {
    const value = shareOf(independent(perMs, 1000, 11_000, lcg(Math.round(perMs * 1000))), 11_000)
    t.ok(value <= INDEPENDENT_AT_MOST, `${perMs * 1000}/s: ${value.toFixed(2)}`)
  }
})

t.test('a batch of 1 right after one of 31 (one slot, a caller held up): still a closed loop', async (t) => {
  // the lone caller's answer sees the 31 come back in its window before: Σ d / Σ k would read
  // (32 - 30) / 32 here; weighing each answer by the answers around it reads 1
  const events: Event[] = []
  for (let at = 1000; at < 8000; at += 330) {
    events.push({ at, answer: 31 })
    for (let i = 0; i < 31; i++) events.push({ at: at + 1 + i * 0.4 })
    events.push({ at: at + 15, answer: 1 })
    events.push({ at: at + 17 })
  }
  const value = shareOf(events, 8000)
  t.ok(value >= 0.6, `${value.toFixed(2)}`)
})

t.test('the same endpoint changing from one kind of caller to the other: within a few dozen answers', async (t) => {
  const share = new ReturnShare()
  replay(share, closedLoop({ slots: 4, batch: 8, cycleMs: 200, spreadMs: 9, jitterMs: 2, untilMs: 5000 }))
  t.ok(share.value(5000) >= CLOSED_AT_LEAST, `closed loop first: ${share.value(5000).toFixed(2)}`)
  // 4 s of independent callers: about 120 answers
  replay(share, independent(0.3, 5000, 9000, lcg(3)))
  t.ok(share.value(9000) <= INDEPENDENT_AT_MOST, `then independent callers: ${share.value(9000).toFixed(2)}`)
  replay(share, closedLoop({ slots: 4, batch: 8, cycleMs: 200, spreadMs: 9, jitterMs: 2, fromMs: 9000, untilMs: 13_000 }))
  t.ok(share.value(13_000) >= CLOSED_AT_LEAST, `and a closed loop again: ${share.value(13_000).toFixed(2)}`)
})

t.test('a clock that steps back: what came before is forgotten, not compared', async (t) => {
  const share = new ReturnShare()
  replay(share, independent(0.3, 1000, 6000, lcg(5)))
  t.ok(share.value(6000) <= INDEPENDENT_AT_MOST, `independent callers: ${share.value(6000).toFixed(2)}`)
  // an hour back: the answers made before would never come due
  t.equal(share.value(6000 - 3_600_000), 1, 'stepped back: the prior again')
  replay(share, closedLoop({ slots: 1, batch: 8, cycleMs: 100, spreadMs: 4, fromMs: 10_000 - 3_600_000, untilMs: 15_000 - 3_600_000 }))
  t.ok(share.value(15_000 - 3_600_000) >= CLOSED_AT_LEAST, `and it learns again: ${share.value(15_000 - 3_600_000).toFixed(2)}`)
})

t.test('a window with more arrivals than the ring holds gives no sample rather than a short count', async (t) => {
  // the ring keeps 1,024 arrival times; a count cut short there would be taken for the window's
  const before = new ReturnShare()
  for (let i = 0; i < 2000; i++) before.arrive(1000 + i * 0.025)
  before.answered(1050, 8, WINDOW_MS)
  t.equal(before.value(2000), 1, '2,000 arrivals in the window before: nothing judged, still the prior')
  const after = new ReturnShare()
  after.answered(1000, 8, WINDOW_MS)
  for (let i = 0; i < 2000; i++) after.arrive(1000.01 + i * 0.025)
  t.equal(after.value(2000), 1, '2,000 after: nothing judged either')
})

// One or two callers per slot say little per answer, so the estimate takes more answers: fitted
// over the last 32 whatever their size, the confidence bound alone held these loops at 0.16–0.18
// (when this was written), under the half a caller the policy waits for (flush-policy.ts): the
// last caller of a share, a little late, was not waited for and waited a whole invocation for the
// next slot instead (p99 1.4–1.9x p50 at 8 callers on 4 slots, and on 2 slots in the real bench)
t.test('one or two callers per slot: read as a closed loop, not left near 0 by the confidence bound', async (t) => {
  const cases = [
    { name: 'four slots of 2, back over 4 ms', slots: 4, batch: 2, cycleMs: 60, spreadMs: 4 },
    { name: 'four slots of 1, back over 8 ms', slots: 4, batch: 1, cycleMs: 200, spreadMs: 8 },
    { name: 'eight slots of 2, back over 4 ms', slots: 8, batch: 2, cycleMs: 200, spreadMs: 4 }
  ]
  for (const c of cases) {
    const value = shareOf(closedLoop({ ...c, jitterMs: 2, untilMs: 20_000 }), 20_000)
    t.ok(value >= 0.4, `${c.name}: ${value.toFixed(2)}`)
  }
})

// BATCH_MAX_WAIT_MS=0 and an answer in the ms it was sent: the batcher gives a window of 0 ms.
// Its weights were 0/0 and the share NaN for the next 256 answers (the policy took NaN for 1, and
// every value() refitted all 256 samples)
t.test('a window of 0 ms (no wait configured, answered within the ms): the share stays a number', async (t) => {
  const share = new ReturnShare()
  for (let at = 1000; at < 3000; at += 20) {
    share.answered(at, 2, 0)
    share.arrive(at)
    share.arrive(at + 1)
  }
  const value = share.value(3000)
  t.ok(Number.isFinite(value) && value >= 0 && value <= 1, `${value}`)
})

// The real bench's levels, one after another on one gateway: 64 callers, one caller for 5 s
// (answers of 1: little evidence, so the fit reaches back past them), then 8. Unweighted, an
// answer of the 64 whose callers did not come back (the warm-up's last, when its callers stop:
// x ≈ 64, d ≈ 0) outweighed 64 times each new answer of 8, and the new loop read under 0.15 for
// its first second (p99 1.9x p50 in the bench). Here the crowd's callers never come back (an
// open-loop crowd at the same rate), so whatever reads as a loop is the loops that followed,
// and without the loop of 8 the share stays under the bar
t.test('a crowd that did not come back does not hold a new loop down: each answer adds at most 32 to the fit\'s 1,024', async (t) => {
  const random = lcg(5)
  const crowd: Event[] = []
  for (let at = 1000; at < 3000; at += -Math.log(1 - random()) / 0.64) crowd.push({ at })
  for (let at = 1050; at < 3000; at += 100) crowd.push({ at, answer: 64, windowMs: 50 })
  const one = closedLoop({ slots: 1, batch: 1, cycleMs: 60, spreadMs: 4, fromMs: 3100, untilMs: 8000 })
  const eight = closedLoop({ slots: 1, batch: 8, cycleMs: 100, spreadMs: 4, fromMs: 8100, untilMs: 9100 })
  // 10 answers of 8 in (0.00 unweighted)
  const value = shareOf([...crowd, ...one, ...eight], 9100)
  t.ok(value >= CLOSED_AT_LEAST, `1 s into the loop of 8: ${value.toFixed(2)}`)
  const without = shareOf([...crowd, ...one], 9100)
  t.ok(without < CLOSED_AT_LEAST, `the same without the loop of 8: ${without.toFixed(2)}, so the reading above is its`)
})

// the point estimate (the slope before the bound) weighs a late caller's loss; the bound says
// whether there is a loop at all
t.test('the point estimate: never under the bound, high for a loop, and 0 before the bound only by chance', async (t) => {
  const loop = new ReturnShare()
  replay(loop, closedLoop({ slots: 2, batch: 4, cycleMs: 70, spreadMs: 4, untilMs: 8000 }))
  t.ok(loop.point(8000) >= loop.value(8000), `a loop of 4 a slot on 2 slots: point ${loop.point(8000).toFixed(2)}, bound ${loop.value(8000).toFixed(2)}`)
  t.ok(loop.point(8000) >= 0.6, `a loop of 4 a slot: point ${loop.point(8000).toFixed(2)}`)
  const stream = new ReturnShare()
  replay(stream, independent(1, 0, 8000, lcg(11)))
  t.ok(stream.point(8000) <= 0.3, `independent callers: point ${stream.point(8000).toFixed(2)} (bound ${stream.value(8000).toFixed(2)})`)
  t.equal(new ReturnShare().point(0), 1, 'nothing seen yet: a closed loop, as the bound says')
})
