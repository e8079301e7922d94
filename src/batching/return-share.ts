// answers a ReturnShare fits over, the latest first: at least RETURN_SAMPLES, and more until
// Σ w·x² reaches RETURN_EVIDENCE (32 payloads of 6 callers or more, 256 of 2), as a small payload says
// less: fitted over 32 whatever their size, loops of 1 or 2 callers per slot read 0.6 at most and
// often near 0 (the confidence bound took the rest), and a free slot then did not wait for the
// last caller of a share, who waited a whole invocation for the next (p99 1.4–1.9x p50 at 8
// callers on 4 slots); at most MAX_RETURN_SAMPLES, so a change of callers shows within a few
// hundred answers at most
const RETURN_SAMPLES = 32
const RETURN_EVIDENCE = 1024
const MAX_RETURN_SAMPLES = 256
// the most one answer weighs in the fit (x² = 32: 1/RETURN_SAMPLES of the evidence), as a
// weighted least squares whose weights cap x² there: an answer whose neighbours and callers
// left together (the last answers of 64 callers who stopped: x ≈ 64, d ≈ 0) otherwise weighed 64
// times an answer of 8 callers, and held a new loop's share under the late-caller floor for
// seconds (8 callers on one 50+5·B slot after 64: p99 1.86x p50 in the real bench). Where every
// answer is as big, the capped fit is the plain one
const MAX_LEVERAGE = RETURN_EVIDENCE / RETURN_SAMPLES
// arrival times kept (8 KiB): a window holding more arrivals than this gives no sample (at such
// rates every payload is full and nothing waits for company anyway)
const ARRIVAL_RING = 1024
// answers kept: with more in a window (windows of seconds at hundreds of answers a second) the
// oldest go unjudged
const ANSWER_LIMIT = 256
// standard errors the estimate is lowered by: independent arrivals read as 0, not as noise (at
// 2, a stream of them now and then read 0.1–0.3 and the waits it allowed cost 1.5x eager's p50
// on 5+10·B with 8 slots at 60% of capacity)
const RETURN_CONFIDENCE = 3

interface Answer {
  // epoch ms
  at: number
  items: number
  windowMs: number
  // arrivals recorded before it: those from this index on came after it, the same ms included
  arrivalsBefore: number
}

/**
 * How much an event `ms` away from an answer counts in its windows: 1 at the answer, less and
 * less to none at the window's edge. A neighbouring answer near the edge and its callers, who
 * come back a little after it, then count nearly alike whether they fall just inside or just
 * outside (with a hard edge, answers a window apart swung the comparison by a whole batch and a
 * steady closed loop on 2 or 4 slots read 0).
 */
function weight (ms: number, windowMs: number): number {
  return Math.max(0, 1 - Math.abs(ms) / windowMs)
}

/**
 * How much of what is answered comes back soon after: the share of callers in a closed loop
 * (1: each sends its next item once answered; 0: independent callers, whose arrivals do not
 * follow answers).
 *
 * Each answer is a sample once its window (`windowMs`, given per answer) has passed:
 * - d: the arrivals after it less those before it, within the window on either side;
 * - x: the items answered after it (itself included) less those answered before it, within the
 *   same windows: the returns a closed loop would add to d.
 * Both are weighted by distance from the answer (`weight`). The share is the least-squares
 * slope of d on x over the last answers (Σ w·x·d / Σ w·x², no answer's w·x² over MAX_LEVERAGE;
 * how many: RETURN_EVIDENCE). Counting
 * the neighbours in x matters where answers land within a window of each other: a batch of 1
 * just after one of 31 sees the 31 come back in its window before (d = 1 − 31), as x says; where
 * slots free at a steady pace, the windows hold as many returns on either side (d ≈ x ≈ 0: no
 * evidence either way).
 * Independent arrivals come alike before and after (d ≈ 0 whatever x). The slope is lowered by
 * RETURN_CONFIDENCE standard errors (counts taken as Poisson: Var d = Σ weight² over the
 * arrivals), so independent requests read as 0 rather than as noise, and so does a loop the
 * windows cannot tell from them. A closed loop reads well above 0 but under 1 (0.24–0.77 in the
 * tests): its callers come back a little after their answer, down the weight's slope, and the
 * confidence bound takes its share. 1 until the first sample, and again after the clock steps
 * back (earlier times no longer compare): taken for a closed loop until shown otherwise. Pure:
 * times are given, not read.
 */
export class ReturnShare {
  readonly #times = new Float64Array(ARRIVAL_RING)
  // arrivals ever recorded; the newest is #times[(#count - 1) % ARRIVAL_RING]
  #count = 0
  // answers, oldest first: from #judged on not judged yet, before it kept while a later one may
  // count them as neighbours
  #answers: Answer[] = []
  #judged = 0
  // the latest time given, to notice a clock that steps back
  #latest = Number.NEGATIVE_INFINITY
  // ring buffers of the samples: x, d, and Var d
  #x: number[] = []
  #d: number[] = []
  #v: number[] = []
  #next = 0
  // the share as of the last sample, and its point estimate (NaN: to be worked out)
  #share = 1
  #point = 1
  // the time of the latest value() or point(): asked again within the same ms (the batcher asks once per
  // partition per decision, and decides several times a ms under load), nothing has changed
  #valuedAt = Number.NaN

  /** Record one arrival at `now` (epoch ms). */
  arrive (now: number): void {
    this.#seen(now)
    this.#times[this.#count % ARRIVAL_RING] = now
    this.#count++
  }

  /** Record an answer of `items` at `now`, judged once `windowMs` (at least the clock's 1 ms grain) has passed. */
  answered (now: number, items: number, windowMs: number): void {
    this.#seen(now)
    // a window of 0 (no wait configured, answered within the ms) would weigh everything 0/0
    this.#answers.push({ at: now, items, windowMs: Math.max(1, windowMs), arrivalsBefore: this.#count })
    if (this.#answers.length > ANSWER_LIMIT) {
      this.#answers.shift()
      this.#judged = Math.max(0, this.#judged - 1)
    }
  }

  /** The share of answered items that come back, in [0, 1]: the slope lowered by RETURN_CONFIDENCE standard errors (independent callers read 0). */
  value (now: number): number {
    this.#update(now)
    return this.#share
  }

  /**
   * The same slope before the confidence bound, in [0, 1]: the expected share, for weighing a
   * loss (4 callers a slot whose bound read 0.24–0.33 in the real bench had a point estimate of about 0.5). `value` is
   * what tells a loop from independent callers; this one is noisy for independent callers.
   */
  point (now: number): number {
    this.#update(now)
    return this.#point
  }

  #update (now: number): void {
    this.#seen(now)
    if (now === this.#valuedAt) return
    this.#valuedAt = now
    for (; this.#judged < this.#answers.length; this.#judged++) {
      const answer = this.#answers[this.#judged]
      if (answer.at + answer.windowMs > now) break
      this.#sample(answer)
    }
    this.#forget(now)
    if (Number.isNaN(this.#share)) this.#fit()
  }

  /** Drops judged answers no answer still to judge can count: an unjudged one is within its window of now. */
  #forget (now: number): void {
    let widest = 0
    for (let i = this.#judged; i < this.#answers.length; i++) widest = Math.max(widest, this.#answers[i].windowMs)
    let stale = 0
    while (stale < this.#judged && this.#answers[stale].at < now - 2 * widest) stale++
    if (stale > 0) {
      this.#answers.splice(0, stale)
      this.#judged -= stale
    }
  }

  /** A time earlier than one already given: the clock stepped back, and nothing before compares. */
  #seen (now: number): void {
    if (now < this.#latest) {
      this.#count = 0
      this.#answers = []
      this.#judged = 0
      this.#x = []
      this.#d = []
      this.#v = []
      this.#next = 0
      this.#share = 1
      this.#point = 1
      this.#valuedAt = Number.NaN
    }
    this.#latest = now
  }

  /** Sets the share (the slope of d on x over the latest samples, see RETURN_EVIDENCE, lowered by RETURN_CONFIDENCE standard errors) and its point estimate, both in [0, 1]. */
  #fit (): void {
    let xd = 0
    let xx = 0
    let xxv = 0
    const kept = this.#x.length
    for (let k = 1; k <= kept; k++) {
      const i = (this.#next - k + kept) % kept
      const x = this.#x[i]
      const w = x * x > MAX_LEVERAGE ? MAX_LEVERAGE / (x * x) : 1
      xd += w * x * this.#d[i]
      xx += w * x * x
      xxv += w * w * x * x * this.#v[i]
      // each answer adds at most MAX_LEVERAGE: at least RETURN_SAMPLES of them
      if (xx >= RETURN_EVIDENCE) break
    }
    const clamp = (share: number): number => Math.min(1, Math.max(0, share))
    this.#share = xx === 0 ? 1 : clamp((xd - RETURN_CONFIDENCE * Math.sqrt(xxv)) / xx)
    this.#point = xx === 0 ? 1 : clamp(xd / xx)
  }

  #sample ({ at, windowMs, arrivalsBefore }: Answer): void {
    const oldest = Math.max(0, this.#count - ARRIVAL_RING)
    // the ring no longer reaches back over the window before: no sample rather than a short count
    if (oldest > 0 && (arrivalsBefore <= oldest || this.#times[oldest % ARRIVAL_RING] > at - windowMs)) return
    let d = 0
    let v = 0
    for (let i = arrivalsBefore; i < this.#count; i++) {
      const w = weight(this.#times[i % ARRIVAL_RING] - at, windowMs)
      if (w === 0) break
      d += w
      v += w * w
    }
    for (let i = arrivalsBefore - 1; i >= oldest; i--) {
      const w = weight(at - this.#times[i % ARRIVAL_RING], windowMs)
      if (w === 0) break
      d -= w
      v += w * w
    }
    // answers of the same ms count as after it, as their callers come back after it
    let x = 0
    for (const other of this.#answers) x += (other.at >= at ? 1 : -1) * other.items * weight(other.at - at, windowMs)
    this.#x[this.#next] = x
    this.#d[this.#next] = d
    this.#v[this.#next] = v
    this.#next = (this.#next + 1) % MAX_RETURN_SAMPLES
    this.#share = Number.NaN
  }
}
