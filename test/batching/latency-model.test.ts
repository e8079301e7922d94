import t from 'tap'
import { LATENCY_WINDOW, LatencyModel, median } from '../../src/batching/latency-model.js'

// a deterministic generator, so a failure replays
function lcg (seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
}

const CURVES = [
  { name: 'base-dominated 200 + 0.5·B', baseMs: 200, perItemMs: 0.5 },
  { name: 'per-item-dominated 5 + 10·B', baseMs: 5, perItemMs: 10 },
  { name: 'the published 50 + 5·B', baseMs: 50, perItemMs: 5 }
]

for (const curve of CURVES) {
  t.test(`converges on ${curve.name} under noise and outliers`, async (t) => {
    const random = lcg(7)
    const model = new LatencyModel()
    for (let i = 0; i < 200; i++) {
      const items = 1 + Math.floor(random() * 32)
      // ±5% noise, and one invocation in ten stalls (a GC pause, a cold container) by up to 10x
      let ms = (curve.baseMs + curve.perItemMs * items) * (0.95 + 0.1 * random())
      if (random() < 0.1) ms *= 1 + 9 * random()
      model.observe(items, ms)
    }
    const fit = model.fit()
    if (fit === undefined) throw new Error('no fit')
    t.equal(fit.samples, LATENCY_WINDOW)
    // the truth at 1 and 32 items, within 10% despite the stalls a least-squares fit would chase
    for (const items of [1, 32]) {
      const truth = curve.baseMs + curve.perItemMs * items
      const predicted = model.predict(items) ?? NaN
      t.ok(Math.abs(predicted - truth) / truth < 0.1, `${items} items: predicted ${predicted.toFixed(1)} ms, truth ${truth} ms`)
    }
  })
}

t.test('follows an endpoint that changes', async (t) => {
  const model = new LatencyModel()
  for (let i = 0; i < 100; i++) model.observe(1 + (i % 16), 50 + 5 * (1 + (i % 16)))
  t.same(model.fit(), { baseMs: 50, perItemMs: 5, samples: LATENCY_WINDOW, minItems: 1, maxItems: 16 })
  // the instance type changed: twice as fast per item, a bigger base
  for (let i = 0; i < LATENCY_WINDOW; i++) model.observe(1 + (i % 16), 80 + 2.5 * (1 + (i % 16)))
  t.same(model.fit(), { baseMs: 80, perItemMs: 2.5, samples: LATENCY_WINDOW, minItems: 1, maxItems: 16 }, 'one window later, the new curve only')
})

t.test('before any variety of sizes: the whole latency is base', async (t) => {
  const model = new LatencyModel()
  t.equal(model.fit(), undefined)
  t.equal(model.predict(4), undefined)
  model.observe(1, 57)
  model.observe(1, 55)
  model.observe(1, 56)
  t.same(model.fit(), { baseMs: 56, perItemMs: 0, samples: 3, minItems: 1, maxItems: 1 })
  // nonsense is not learnt
  model.observe(0, 10)
  model.observe(3, Number.NaN)
  model.observe(3, -1)
  t.equal(model.fit()?.samples, 3)
})

t.test('a latency never falls with size: a negative slope is noise', async (t) => {
  const model = new LatencyModel()
  model.observe(1, 60)
  model.observe(10, 50)
  t.equal(model.fit()?.perItemMs, 0)
})

t.test('median', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
})
