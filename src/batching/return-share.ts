// answers a ReturnShare fits over: enough that independent arrivals rarely pass for returns,
// few enough that a change of callers shows within a few dozen invocations
const RETURN_SAMPLES = 32
// arrival times kept (8 KiB): a window holding more arrivals than this gives no sample (at such
// rates every payload is full and nothing waits for company anyway)
const ARRIVAL_RING = 1024
// answers kept, to see which fall in a sample's windows
const ANSWER_RING = 256
// standard errors the estimate is lowered by: independent arrivals read as about 0, not as noise
const RETURN_CONFIDENCE = 2

interface Answer {
  // epoch ms
  at: number
  items: number
  windowMs: number
  // arrivals in the window before it
  before: number
}

/**
 * How many of the items answered come back soon after: the share of callers in a closed loop
 * (1: each sends its next item once answered; 0: independent callers, whose arrivals do not
 * follow answers).
 *
 * Each answer is a sample once its window (`windowMs`, given per answer) has passed:
 * - d: the arrivals in the window after it less those in the window before it;
 * - x: the items answered in the window after it (itself included) less those answered in the
 *   window before it: the returns a closed loop would add to d.
 * The share is the least-squares slope of d on x over the last answers (Σ x·d / Σ x²). Counting
 * the neighbours in x matters where answers land within a window of each other: a batch of 1
 * just after one of 31 sees the 31 return in its window before (d = 1 − 31), as x says; and where
 * slots free at a steady pace, before and after windows hold as many returns each (d ≈ x ≈ 0,
 * no evidence either way). Independent arrivals come alike before and after (d ≈ 0 whatever x).
 * The slope is lowered by RETURN_CONFIDENCE standard errors (Poisson counts: Var d ≈ after +
 * before), so independent requests read as about 0 rather than as noise, and so does a loop the
 * windows cannot tell from them. 1 until the first sample: a new partition is taken for a closed
 * loop until shown otherwise. Pure: times are given, not read.
 */
export class ReturnShare {
  readonly #times = new Float64Array(ARRIVAL_RING)
  // arrivals ever seen; the newest is #times[(#count - 1) % ARRIVAL_RING]
  #count = 0
  // answers of the last ANSWER_RING, oldest first; those from #judged on are not sampled yet
  readonly #answers: Answer[] = []
  #judged = 0
  // ring buffers of the samples: x, d, and after + before (the variance of d)
  readonly #x: number[] = []
  readonly #d: number[] = []
  readonly #v: number[] = []
  #next = 0
  // the share as of the last sample (NaN: to be worked out)
  #share = 1

  /** Record one arrival at `now` (epoch ms). */
  arrive (now: number): void {
    this.#times[this.#count % ARRIVAL_RING] = now
    this.#count++
  }

  /** Record an answer of `items` at `now`, sampled once `windowMs` has passed. */
  answered (now: number, items: number, windowMs: number): void {
    this.#answers.push({ at: now, items, windowMs, before: this.#arrivalsIn(now - windowMs, now) ?? Number.NaN })
    if (this.#answers.length > ANSWER_RING) {
      this.#answers.shift()
      this.#judged = Math.max(0, this.#judged - 1)
    }
  }

  /** The share of answered items that come back, in [0, 1]. */
  value (now: number): number {
    for (; this.#judged < this.#answers.length; this.#judged++) {
      const answer = this.#answers[this.#judged]
      if (answer.at + answer.windowMs > now) break
      this.#sample(answer)
    }
    if (Number.isNaN(this.#share)) this.#share = this.#fit()
    return this.#share
  }

  /** The slope of d on x over the samples, lowered by RETURN_CONFIDENCE standard errors, in [0, 1]. */
  #fit (): number {
    let xd = 0
    let xx = 0
    let xxv = 0
    for (let i = 0; i < this.#x.length; i++) {
      const x = this.#x[i]
      xd += x * this.#d[i]
      xx += x * x
      xxv += x * x * this.#v[i]
    }
    if (xx === 0) return 1
    return Math.min(1, Math.max(0, (xd - RETURN_CONFIDENCE * Math.sqrt(xxv)) / xx))
  }

  #sample ({ at, windowMs, before }: Answer): void {
    const after = this.#arrivalsIn(at, at + windowMs)
    if (after === undefined || Number.isNaN(before)) return
    let x = 0
    for (let i = this.#answers.length - 1; i >= 0 && this.#answers[i].at >= at - windowMs; i--) {
      const { at: t, items } = this.#answers[i]
      if (t >= at + windowMs) continue
      x += t >= at ? items : -items
    }
    this.#x[this.#next] = x
    this.#d[this.#next] = after - before
    this.#v[this.#next] = after + before
    this.#next = (this.#next + 1) % RETURN_SAMPLES
    this.#share = Number.NaN
  }

  /** Arrivals in (from, to], or undefined when the ring no longer reaches back to `from`. */
  #arrivalsIn (from: number, to: number): number | undefined {
    const oldest = Math.max(0, this.#count - ARRIVAL_RING)
    // the ring has wrapped and its oldest arrival is inside the window: some may be lost
    if (oldest > 0 && this.#times[oldest % ARRIVAL_RING] > from) return undefined
    return this.#firstAfter(to, oldest) - this.#firstAfter(from, oldest)
  }

  /** The index of the first arrival later than `time` (arrivals come in time order). */
  #firstAfter (time: number, oldest: number): number {
    let lo = oldest
    let hi = this.#count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#times[mid % ARRIVAL_RING] > time) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
