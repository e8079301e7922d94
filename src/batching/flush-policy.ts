import { fitLatencyMs, type LatencyFit } from './latency-model.js'

/** The flush policies, the default first. */
export const FLUSH_POLICIES = ['learned', 'adaptive', 'eager', 'wait'] as const

/**
 * When a waiting partition goes out while an invocation slot is free, and with how many items.
 *
 * - `learned` (the default): gives every slot an even share of the partition's recent
 *   population (items queued or in flight at its busiest over the last window, see `RecentMax`),
 *   and waits for the rest of a share only while those callers are expected back (as far as
 *   answered callers do come back, see `ReturnShare`; or arriving fast enough that one more
 *   comes within the wait), and for less than the
 *   endpoint's learnt base latency (`LatencyModel`) and `maxWaitMs` — longer only for callers
 *   still coming back, while they keep coming (see `stragglerWaitMs`). For independent callers
 *   (who do not come back when answered) the wait shrinks to the base's part of an invocation:
 *   nearly all of it on a base-dominated endpoint, little on a per-item-dominated one. Closed-loop callers
 *   return when their batch is answered, so C callers on S slots settle into S batches of
 *   ⌈C/S⌉ — the most any scheduler gets from the endpoint, as each slot is busy with an equal
 *   share — instead of one batch of C on one slot while the others idle. When more than a share
 *   per free slot waits, the free slots split it all rather than leave a remainder behind for
 *   a busy slot; where the learnt curve says a bigger batch costs under 5% more latency (a
 *   base-dominated endpoint), batches take up to that size from what is queued (never waiting
 *   for it). Nothing to tune.
 * - `eager`: at once, everything queued (up to maxSize). No batching delay at low load, and
 *   batches grow by themselves under load; at moderate load slots go to small batches.
 * - `wait`: only at `maxSize` items, `maxBytes`, or once the oldest item has waited
 *   `maxWaitMs`: fuller batches, at the price of up to `maxWaitMs` on every request.
 * - `adaptive`: `eager` while no invocation is in flight, `wait` as soon as one is, but
 *   waiting at most the mean latency / slots (capped by `maxWaitMs`).
 */
export type FlushPolicy = typeof FLUSH_POLICIES[number]

/** What a flush decision looks at: one partition's queue and the batcher around it. */
export interface PartitionView {
  /** Epoch ms. */
  now: number
  /** Items of this partition waiting. */
  queued: number
  /** True when the waiting items already fill a payload's byte limit. */
  bytesFull: boolean
  /** Epoch ms the oldest waiting item arrived. */
  oldestArrival: number
  /** Epoch ms a slot last became free (-Infinity if none ever did): waiting for a slot is not waiting for company. */
  slotFreedAt: number
  /** Items of this partition in flight. */
  inFlightItems: number
  /** Items this partition held (queued or in flight) at its busiest of late; >= queued + inFlightItems. */
  population: number
  /** Share of this partition's answered items that come back (`ReturnShare`): 1 for callers in a closed loop, 0 for independent ones. */
  returnShare: number
  /** The same share before `ReturnShare`'s confidence bound: what the loss of a late caller is weighed with (returnShare where absent). */
  returnPoint?: number
  /** Items per ms arriving in this partition of late (`ArrivalRate`). */
  arrivalsPerMs: number
  /** Epoch ms of this partition's latest arrival (NaN before the first). */
  lastArrival: number
  /** The same summed over every partition: the items competing for the slots. */
  totalPopulation: number
  /** Slots busy, batcher-wide. */
  inFlight: number
  /** Per busy slot, ms until it is expected to free (<= 0: any moment now), from the learnt curve. */
  busyFreeInMs: readonly number[]
  /** Slots in all (maxConcurrent). */
  slots: number
  maxSize: number
  /** ms; no policy makes an item wait for company longer. */
  maxWaitMs: number
  /** ms, the recent mean invocation latency (0 before the first answer); for `adaptive`. */
  meanLatencyMs: number
  /** The endpoint's learnt latency curve, if any invocation has been answered yet. */
  fit?: LatencyFit
  draining: boolean
}

/** Send `take` items now (the batcher may send fewer: bytes, expiry), or look again at `until` (epoch ms). */
export type FlushDecision = { take: number } | { until: number }

/** What to do with a partition that has at least one waiting item, under `policy`. */
export function decideFlush (policy: FlushPolicy, view: PartitionView): FlushDecision {
  const all = { take: view.maxSize }
  if (view.draining) return all
  switch (policy) {
    case 'eager':
      return all
    case 'learned':
      return decideLearned(view)
    case 'adaptive':
      if (view.inFlight === 0) return all
      return waitFor(view, Math.min(view.maxWaitMs, view.meanLatencyMs / view.slots))
    case 'wait':
      return waitFor(view, view.maxWaitMs)
  }
}

/** The even share of the slots a batch of this partition should carry (see `learned`). */
export function evenShare (view: Pick<PartitionView, 'population' | 'totalPopulation' | 'slots' | 'maxSize'>): number {
  const share = Math.ceil(view.totalPopulation / view.slots)
  // a partition alone in its parameters cannot fill a share bigger than itself
  return Math.max(1, Math.min(view.maxSize, share, view.population))
}

// a batch may grow past the even share while its expected latency stays within this factor of
// the share's: fewer, fuller invocations (what the endpoint bills and `invocationsSaved` counts)
// for at most 5% of the throughput ceiling
const CONSOLIDATE_LATENCY_FACTOR = 1.05

/**
 * The even share, widened to the largest batch whose learnt latency is within 5% of the
 * share's: on a base-dominated endpoint spreading buys nothing, so the callers share a payload.
 */
export function batchTarget (view: Pick<PartitionView, 'population' | 'totalPopulation' | 'slots' | 'maxSize' | 'fit'>): number {
  const even = evenShare(view)
  // the slope is only known where sizes differed enough (batches all of one size say nothing of
  // what a bigger one costs): without that, spread
  if (view.fit === undefined || view.fit.maxItems < 2 * view.fit.minItems) return even
  const budgetMs = CONSOLIDATE_LATENCY_FACTOR * fitLatencyMs(view.fit, even)
  const widest = view.fit.perItemMs > 0 ? Math.floor((budgetMs - view.fit.baseMs) / view.fit.perItemMs) : Number.POSITIVE_INFINITY
  return Math.max(even, Math.min(view.maxSize, view.population, widest))
}

// the least share of answered callers coming back (`ReturnShare`) that counts as a closed loop
// when a share's last callers are weighed (see decideLearned): independent callers read 0, now
// and then up to 0.1 (the fake-clock streams of open-loop.test.ts)
const LATE_CALLER_SHARE = 0.15

function decideLearned (view: PartitionView): FlushDecision {
  // company is waited for up to the even share only; the wider target of a base-dominated
  // endpoint is taken from what is already queued, never waited for (a wait on every batch
  // costs more than the invocations it saves)
  const share = evenShare(view)
  const target = batchTarget(view)
  // more than a share each for the free slots: what a free slot leaves behind waits for a busy
  // one to finish, a whole invocation later, so the free slots take it along instead (groups of
  // callers merge until there are no more groups than slots, instead of locking into fragments)
  // a fragment sent now costs the endpoint one more base latency of slot time; waiting longer
  // than that for company costs the waiting items more than the fragment would. Nothing learnt
  // yet: an idle endpoint gets the item at once, a busy one is given maxWaitMs at most
  const fullPatienceMs = view.fit !== undefined ? Math.min(view.maxWaitMs, view.fit.baseMs) : view.inFlight > 0 ? view.maxWaitMs : 0
  // an invocation of the share, as learnt
  const shareMs = view.fit !== undefined ? fitLatencyMs(view.fit, share) : undefined
  // independent callers do not come back to a slot together, so there is no lock-in to avoid:
  // a wait only buys company, worth it as far as an invocation's cost is its base (one payload
  // instead of two); on a per-item-dominated endpoint the company mostly lengthens the invocation
  const baseShare = view.fit !== undefined && shareMs !== undefined ? view.fit.baseMs / Math.max(Number.EPSILON, shareMs) : 1
  const clampShare = (value: number): number => Math.min(1, Math.max(0, value))
  const returning = Number.isFinite(view.returnShare) ? clampShare(view.returnShare) : 1
  // never under the bound; the bound itself where no point estimate is given (or it is not a number)
  const expectedReturning = view.returnPoint !== undefined && Number.isFinite(view.returnPoint) ? Math.max(returning, clampShare(view.returnPoint)) : returning
  const patienceMs = fullPatienceMs * (returning + (1 - returning) * baseShare)
  // slots that free within that patience count as free (several answers land at once)
  const free = Math.max(1, view.slots - view.inFlight + view.busyFreeInMs.filter((ms) => ms <= patienceMs).length)
  if (view.queued >= share || view.bytesFull) return { take: Math.min(view.maxSize, Math.max(target, Math.ceil(view.queued / free))) }
  // callers of this partition not here now but here of late, as far as answered callers come
  // back (in a closed loop, on their way back), or at the rate items arrive, at least one more
  // within the patience
  const missing = view.population - view.queued - view.inFlightItems
  const inTransit = returning * missing
  const soon = view.arrivalsPerMs * patienceMs
  // nobody expected: a free slot never idles while items wait. At least half a caller: a
  // stream of independent callers whose share reads a few hundredths would otherwise wait on
  // every batch (1.5x eager's p50 on 5+10·B, 8 slots, 60% of capacity). Less will do where the
  // other slots are all busy and the share reads clearly above such noise: a caller left behind
  // then waits about an invocation for the next slot, so it is waited for while what it would
  // lose (the callers expected × an invocation) is more than what the queued items lose waiting for it
  // (queued × patience). Closed loops of 2 to 4 callers per slot read 0.15–0.5 at times (their
  // callers straggle back over several ms, or answers of callers since gone still weigh in), and
  // each share then went out without its last caller: p99 1.9–2x p50 at 8 callers on 2 slots.
  // The floor asks the share's bound whether these are a loop at all; the loss is weighed with
  // its point estimate, what is expected: weighed with the bound, 4 callers a slot on 50+5·B
  // whose bound read 0.24–0.33 (point estimate about 0.5) lost their last caller by 2 ms at every
  // dispatch, the 8 locked into 3 + 4 with one in turn waiting half a cycle (real bench, 2 slots:
  // p99 1.56–1.65x p50 in 3 of 5 runs; 1.10–1.32x in 5 of 5 weighed with the point estimate)
  const lateCallerCostly = (): boolean => view.slots - view.inFlight <= 1 && returning >= LATE_CALLER_SHARE &&
    expectedReturning * missing * (shareMs ?? view.meanLatencyMs) >= view.queued * patienceMs
  if (patienceMs <= 0 || (inTransit < 0.5 && soon < 1 && !lateCallerCostly())) return { take: view.queued }
  // patience counts from when the wait became a choice: items that waited for a slot start now
  const waitStart = Math.max(view.oldestArrival, view.slotFreedAt)
  const until = Math.max(waitStart + patienceMs, Math.min(waitStart + stragglerWaitMs(view, inTransit, returning, shareMs), view.lastArrival + view.maxWaitMs))
  return until <= view.now ? { take: view.queued } : { until }
}

/**
 * How long a free slot may keep waiting for callers on their way back (ms from when the wait
 * began; 0: not past the patience). Closed-loop callers of a full batch come back over batch ×
 * the gateway's CPU per request (32 × 0.6 ms on a busy 2-core machine: longer than
 * BATCH_MAX_WAIT_MS), and now and then one is held up (a GC pause, the core taken by another
 * process). A batch sent without them leaves the latecomers behind, and they cost far more than
 * the wait for the next free slot: that slot's own callers make up its share, so the
 * latecomers take the place of its last ones, who take the place of the next slot's last ones,
 * and so on around the slots until the slot that went short comes back with room: one whole
 * invocation of waiting per latecomer in all, in slices that land on whichever callers are
 * last, and all of it on one caller where the slots bunch together (50+5·B, 4 slots, 128
 * callers, a 5 ms stall every 50 requests: p99 1.33x p50; 200+0.5·B, 2 slots, 64 callers:
 * 1.77x, and 72% of the ceiling before any wait for latecomers). So the wait goes on up to one
 * invocation of the share, and only while the items queued wait less in all than the
 * latecomers would (q · eta <= (share - q) · latency, that is q / rate <= latency). The caller
 * stops it once arrivals pause for maxWaitMs. It is cut by the share of answered callers who do
 * come back (`returnShare`): independent callers keep arriving, and a wait that lasts while they
 * do would last a whole invocation for callers who were never coming back.
 */
function stragglerWaitMs (view: PartitionView, inTransit: number, returning: number, cycleMs: number | undefined): number {
  if (inTransit <= 0 || view.arrivalsPerMs <= 0 || cycleMs === undefined) return 0
  return view.queued / view.arrivalsPerMs > cycleMs ? 0 : cycleMs * returning
}

/** Take `take` once the oldest item has waited `waitMs`, else look again then. */
function waitFor (view: PartitionView, waitMs: number, take = view.maxSize): FlushDecision {
  if (view.queued >= view.maxSize || view.bytesFull) return { take: view.maxSize }
  const due = view.oldestArrival + waitMs
  return due <= view.now ? { take } : { until: due }
}
