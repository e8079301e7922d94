// Bootstrap confidence intervals in the manner of rouge-score's BootstrapAggregator:
// resample the per-record rows with replacement `samples` times, take each resample's mean,
// and report percentiles (numpy's default 'linear' method) of those means.
//
// Differences from rouge-score, on purpose:
// - The generator is a seeded mulberry32, so results are reproducible for a seed, but they
//   cannot equal numpy's (np.random.choice on the global Mersenne Twister state); only the
//   statistics agree in distribution.
// - One set of resample indices is shared by every column (all ROUGE types and measures),
//   so a type's interval does not depend on which other types were requested; rouge-score
//   draws fresh indices per type.
// - The point estimate ("mid") is the plain mean of the records, computed by the caller;
//   rouge-score's aggregate() reports the median of the resampled means as "mid".

import { mulberry32 } from '../util/prng.js'

/** Bootstrap settings; see DEFAULT_BOOTSTRAP for the defaults API.md names. */
export interface BootstrapOptions {
  /** Number of resamples, >= 1. */
  samples: number
  /** Two-sided confidence level in (0, 1), e.g. 0.95 for the 2.5th..97.5th percentiles. */
  confidence: number
  /** PRNG seed; only its low 32 bits are used. */
  seed: number
}

/** API.md defaults: 1000 resamples, 95% interval, seed 0. */
export const DEFAULT_BOOTSTRAP: Readonly<BootstrapOptions> = Object.freeze({ samples: 1000, confidence: 0.95, seed: 0 })

/** Low and high bounds per column of the input matrix. */
export interface BootstrapInterval {
  low: Float64Array
  high: Float64Array
}

/** numpy.percentile(sorted, q) with the default 'linear' method; q in [0, 100], input sorted ascending. */
export function percentile (sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const position = (q / 100) * (n - 1)
  const lower = Math.floor(position)
  const upper = Math.min(lower + 1, n - 1)
  const t = position - lower
  const a = sorted[lower]
  const b = sorted[upper]
  const diff = b - a
  // numpy's _lerp: interpolate from whichever end is nearer, for monotonicity.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}

/**
 * Bootstrap interval of the column means of a row-major rows x cols matrix
 * (one row per record, one column per measure).
 */
export function bootstrapInterval (matrix: Float64Array, rows: number, cols: number, options: BootstrapOptions): BootstrapInterval {
  const { samples, confidence, seed } = options
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`samples must be a positive integer, got ${samples}`)
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
  if (rows < 1) throw new RangeError('bootstrap needs at least one row')
  if (matrix.length < rows * cols) throw new RangeError(`matrix has ${matrix.length} cells, expected ${rows * cols}`)

  const random = mulberry32(seed)
  // means[c * samples + s]: mean of column c in resample s
  const means = new Float64Array(cols * samples)
  const sums = new Float64Array(cols)
  for (let s = 0; s < samples; s++) {
    sums.fill(0)
    for (let draw = 0; draw < rows; draw++) {
      const offset = Math.floor(random() * rows) * cols
      for (let c = 0; c < cols; c++) sums[c] += matrix[offset + c]
    }
    for (let c = 0; c < cols; c++) means[c * samples + s] = sums[c] / rows
  }

  const delta = (1 - confidence) / 2
  const low = new Float64Array(cols)
  const high = new Float64Array(cols)
  for (let c = 0; c < cols; c++) {
    const column = means.subarray(c * samples, (c + 1) * samples).sort()
    low[c] = percentile(column, 100 * delta)
    high[c] = percentile(column, 100 * (1 - delta))
  }
  return { low, high }
}
