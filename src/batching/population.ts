/**
 * How many items a partition holds at its busiest of late: the maximum of the samples given
 * over the last one to two windows (two buckets of `windowMs`), then forgotten.
 *
 * Why a recent maximum and not the count now: callers in a closed loop (a client that sends its
 * next text once it has its answer) leave the batcher together when their batch is answered and
 * come back over the next few ms; counted at that instant they look like a handful, and a
 * batcher that believed it would send them in fragments. Their number over the last window is
 * what comes back.
 */
export class RecentMax {
  // bucket start (epoch ms) and the maxima of the current and previous buckets
  #start = Number.NEGATIVE_INFINITY
  #current = 0
  #previous = 0
  // epoch ms of the latest observation
  #observedAt = Number.NEGATIVE_INFINITY

  /** Record `value` seen at `now` (epoch ms); `windowMs` > 0 may change between calls. */
  observe (value: number, now: number, windowMs: number): void {
    this.#roll(now, windowMs)
    if (value > this.#current) this.#current = value
    this.#observedAt = now
  }

  /** The maximum seen over the last one to two windows, 0 when nothing was. */
  value (now: number, windowMs: number): number {
    this.#roll(now, windowMs)
    return Math.max(this.#current, this.#previous)
  }

  #roll (now: number, windowMs: number): void {
    const elapsed = now - this.#start
    if (elapsed < windowMs) return
    // one bucket on: the current becomes the previous; two or more: both are stale, unless the
    // window just shrank (the latency curve changed) and the current bucket was seen within one
    // window of now: forgetting it would make a steady crowd of callers look like one caller
    this.#previous = elapsed < 2 * windowMs || now - this.#observedAt < windowMs ? this.#current : 0
    this.#current = 0
    this.#start = elapsed < 2 * windowMs ? this.#start + windowMs : now
  }
}

// weight of the newest gap in the mean time between arrivals
const GAP_EWMA_ALPHA = 0.2

/**
 * How fast items arrive: the reciprocal of an exponentially weighted mean gap between
 * arrivals. One long gap (an idle spell) pulls the rate down at once, so a caller after a
 * pause is not kept waiting for company that stopped coming.
 */
export class ArrivalRate {
  #last = Number.NaN
  // ms
  #gap = Number.POSITIVE_INFINITY

  /** Record one arrival at `now` (epoch ms). */
  arrive (now: number): void {
    if (!Number.isNaN(this.#last)) {
      const gap = Math.max(0, now - this.#last)
      this.#gap = this.#gap === Number.POSITIVE_INFINITY ? gap : this.#gap + GAP_EWMA_ALPHA * (gap - this.#gap)
    }
    this.#last = now
  }

  /** Epoch ms of the latest arrival; NaN before the first. */
  get last (): number { return this.#last }

  /** Items per ms; 0 before the second arrival. */
  perMs (): number {
    return this.#gap === Number.POSITIVE_INFINITY ? 0 : 1 / Math.max(this.#gap, 1e-3)
  }
}
