// ReturnShare: whether the items answered come back (callers in a closed loop) or arrivals go
// their own way (independent callers), from arrival and answer times alone.
import t from 'tap'
import { ReturnShare } from '../../src/batching/return-share.js'
import { lcg } from '../helpers/batching.js'

const WINDOW_MS = 50

/** A closed loop: `slots` slots each answering `batch` callers every `cycleMs`, staggered; each caller is back 1–`spreadMs` ms later. */
function closedLoop (share: ReturnShare, opts: { slots: number, batch: number, cycleMs: number, spreadMs: number, untilMs: number }, random = lcg(7)): void {
  const events: Array<{ at: number, answer?: number }> = []
  for (let slot = 0; slot < opts.slots; slot++) {
    for (let at = 1000 + slot * opts.cycleMs / opts.slots; at < opts.untilMs; at += opts.cycleMs) {
      events.push({ at, answer: opts.batch })
      for (let i = 0; i < opts.batch; i++) events.push({ at: at + 1 + random() * (opts.spreadMs - 1) })
    }
  }
  replay(share, events)
}

function replay (share: ReturnShare, events: Array<{ at: number, answer?: number }>): void {
  events.sort((a, b) => a.at - b.at)
  for (const event of events) {
    if (event.answer !== undefined) share.answered(event.at, event.answer, WINDOW_MS)
    else share.arrive(event.at)
  }
}

t.test('nothing seen yet: taken for a closed loop', async (t) => {
  const share = new ReturnShare()
  t.equal(share.value(0), 1)
  share.arrive(10)
  share.answered(20, 4, WINDOW_MS)
  t.equal(share.value(20 + WINDOW_MS - 1), 1, 'an answer is judged only once its window has passed')
})

t.test('callers in a closed loop come back: about 1', async (t) => {
  const one = new ReturnShare()
  closedLoop(one, { slots: 1, batch: 8, cycleMs: 100, spreadMs: 5, untilMs: 6000 })
  t.ok(one.value(6000) >= 0.8, `one slot, 8 callers: ${one.value(6000).toFixed(2)}`)
  const four = new ReturnShare()
  closedLoop(four, { slots: 4, batch: 8, cycleMs: 200, spreadMs: 20, untilMs: 8000 })
  t.ok(four.value(8000) >= 0.8, `four slots of 8 callers, back over 20 ms: ${four.value(8000).toFixed(2)}`)
})

t.test('independent callers: about 0, however the answers fall', async (t) => {
  for (const perMs of [0.05, 0.3, 2]) {
    const random = lcg(Math.round(perMs * 1000))
    const share = new ReturnShare()
    const events: Array<{ at: number, answer?: number }> = []
    for (let at = 1000; at < 11_000; at += -Math.log(1 - random()) / perMs) events.push({ at })
    // answers of every size at every pace, none followed by the callers they answered
    for (let at = 1000; at < 11_000; at += 5 + 60 * random()) events.push({ at, answer: 1 + Math.floor(random() * 32) })
    replay(share, events)
    t.ok(share.value(11_000) <= 0.15, `${perMs * 1000}/s: ${share.value(11_000).toFixed(2)}`)
  }
})

t.test('a batch of 1 right after one of 31 (one slot, a caller held up): still a closed loop', async (t) => {
  // the lone caller's answer sees the 31 come back in its window before: Σ d / Σ k would read
  // (32 - 30) / 32 here; weighing each answer by the answers around it reads 1
  const share = new ReturnShare()
  const events: Array<{ at: number, answer?: number }> = []
  for (let at = 1000; at < 8000; at += 330) {
    events.push({ at, answer: 31 })
    for (let i = 0; i < 31; i++) events.push({ at: at + 1 + i * 0.4 })
    events.push({ at: at + 15, answer: 1 })
    events.push({ at: at + 17 })
  }
  replay(share, events)
  t.ok(share.value(8000) >= 0.8, `${share.value(8000).toFixed(2)}`)
})

t.test('a window with more arrivals than the ring holds gives no sample rather than a short count', async (t) => {
  const share = new ReturnShare()
  // 2,000 arrivals in the 50 ms before an answer, none after: the ring keeps 1,024, and a count cut
  // short there would be taken for the whole window
  for (let i = 0; i < 2000; i++) share.arrive(1000 + i * 0.025)
  share.answered(1050, 8, WINDOW_MS)
  t.equal(share.value(2000), 1, 'nothing judged: still the prior')
})
