/** An endpoint's latency curve as learnt so far: ms = baseMs + perItemMs · items. */
export interface LatencyFit {
  /** ms an invocation costs whatever it carries. */
  baseMs: number
  /** ms each further input adds. */
  perItemMs: number
  /** Samples the fit rests on. */
  samples: number
  /** The smallest and largest invocation in the window: the slope is only seen between them. */
  minItems: number
  maxItems: number
}

/** ms an invocation of `items` inputs takes on `fit`'s curve. */
export function fitLatencyMs (fit: Pick<LatencyFit, 'baseMs' | 'perItemMs'>, items: number): number {
  return fit.baseMs + fit.perItemMs * items
}

// invocations remembered: enough for a median to shrug off a few outliers (GC pauses, a cold
// instance), few enough that the Theil–Sen fit (n·(n-1)/2 slopes) stays around 20 µs and that a
// changed endpoint replaces the old picture within one window
export const LATENCY_WINDOW = 32

/**
 * Learns one endpoint's latency from the invocations it answers, with a windowed Theil–Sen fit
 * (slope: the median of pairwise slopes; intercept: the median residual). The median makes it
 * robust: up to ~29% of the window may be outliers without moving the fit, and once more than
 * half the window reflects a changed endpoint, the fit follows it. Pure: times are given, not
 * read.
 */
export class LatencyModel {
  // ring buffers of the last LATENCY_WINDOW samples: items per invocation and its latency (ms)
  readonly #items: number[] = []
  readonly #ms: number[] = []
  #next = 0
  #fit?: LatencyFit

  /** Record one answered invocation of `items` inputs that took `latencyMs`. */
  observe (items: number, latencyMs: number): void {
    if (!(items >= 1) || !Number.isFinite(latencyMs) || latencyMs < 0) return
    this.#items[this.#next] = items
    this.#ms[this.#next] = latencyMs
    this.#next = (this.#next + 1) % LATENCY_WINDOW
    this.#fit = undefined
  }

  /** The current fit; undefined before the first sample. */
  fit (): LatencyFit | undefined {
    if (this.#fit !== undefined || this.#items.length === 0) return this.#fit
    const xs = this.#items
    const ys = this.#ms
    const slopes: number[] = []
    for (let i = 0; i < xs.length; i++) {
      for (let j = i + 1; j < xs.length; j++) {
        if (xs[i] !== xs[j]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]))
      }
    }
    // every sample the same size: no slope to see yet, so all the cost is put on the base;
    // a latency never falls with size, so a negative median slope is noise
    const perItemMs = slopes.length === 0 ? 0 : Math.max(0, median(slopes))
    const baseMs = Math.max(0, median(xs.map((x, i) => ys[i] - perItemMs * x)))
    this.#fit = { baseMs, perItemMs, samples: xs.length, minItems: Math.min(...xs), maxItems: Math.max(...xs) }
    return this.#fit
  }

  /** ms an invocation of `items` inputs is expected to take; undefined before the first sample. */
  predict (items: number): number | undefined {
    const fit = this.fit()
    return fit === undefined ? undefined : fitLatencyMs(fit, items)
  }
}

/** The median of a non-empty list (the mean of the middle two for an even length); sorts a copy. */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
