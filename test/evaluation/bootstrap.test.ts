import t from 'tap'
import { bootstrapInterval, percentile } from '../../src/evaluation/bootstrap.js'
import { mulberry32 } from '../../src/util/prng.js'

t.test('mulberry32 is deterministic per seed and uniform in [0, 1)', async (t) => {
  const a = mulberry32(1)
  const b = mulberry32(1)
  const c = mulberry32(2)
  const xs = Array.from({ length: 1000 }, () => a())
  t.same(xs, Array.from({ length: 1000 }, () => b()))
  t.not(xs[0], c())
  t.ok(xs.every((x) => x >= 0 && x < 1))
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  t.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean} near 0.5`)
})

t.test('percentile follows numpy linear interpolation', async (t) => {
  const sorted = [1, 2, 3, 4]
  t.equal(percentile(sorted, 0), 1)
  t.equal(percentile(sorted, 25), 1.75) // np.percentile([1,2,3,4], 25)
  t.equal(percentile(sorted, 50), 2.5)
  t.equal(percentile(sorted, 100), 4)
  t.ok(Math.abs(percentile(sorted, 97.5) - 3.925) < 1e-15)
  t.equal(percentile([5], 2.5), 5)
})

t.test('bootstrapInterval: deterministic under a seed, bounds around the mean', async (t) => {
  const rows = 200
  const matrix = new Float64Array(rows * 2)
  const rnd = mulberry32(99)
  for (let i = 0; i < rows * 2; i++) matrix[i] = rnd()
  const options = { samples: 500, confidence: 0.95, seed: 7 }
  const a = bootstrapInterval(matrix, rows, 2, options)
  const b = bootstrapInterval(matrix, rows, 2, options)
  const c = bootstrapInterval(matrix, rows, 2, { ...options, seed: 8 })
  t.same(a, b, 'same seed, same interval')
  t.not(a.low[0], c.low[0], 'another seed resamples differently')
  for (let col = 0; col < 2; col++) {
    let sum = 0
    for (let r = 0; r < rows; r++) sum += matrix[r * 2 + col]
    const mean = sum / rows
    t.ok(a.low[col] < mean && mean < a.high[col], `column ${col}: ${a.low[col]} < ${mean} < ${a.high[col]}`)
    // standard error of a uniform mean is ~0.29/sqrt(200) = 0.02, so a 95% interval is ~0.08 wide
    t.ok(a.high[col] - a.low[col] > 0.04 && a.high[col] - a.low[col] < 0.12, 'interval width is plausible')
  }
  const narrow = bootstrapInterval(matrix, rows, 2, { ...options, confidence: 0.5 })
  t.ok(narrow.high[0] - narrow.low[0] < a.high[0] - a.low[0], 'lower confidence, narrower interval')
})

t.test('bootstrapInterval rejects bad settings', async (t) => {
  const m = new Float64Array([1, 2])
  t.throws(() => bootstrapInterval(m, 2, 1, { samples: 0, confidence: 0.95, seed: 0 }), RangeError)
  t.throws(() => bootstrapInterval(m, 2, 1, { samples: 10, confidence: 1, seed: 0 }), RangeError)
  t.throws(() => bootstrapInterval(m, 0, 1, { samples: 10, confidence: 0.9, seed: 0 }), RangeError)
})
