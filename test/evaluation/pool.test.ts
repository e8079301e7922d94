import t from 'tap'
import { evaluate, EvaluationInputError } from '../../src/evaluation/evaluate.js'
import { EvaluationPool, INLINE_MAX_CHARS } from '../../src/evaluation/pool.js'

const words = ['river', 'bridge', 'council', 'vote', 'budget', 'library', 'sunday', 'repair', 'road', 'ferry']
const sentence = (i: number): string => Array.from({ length: 12 }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(' ')

t.test('a large request is scored in a worker with the same numbers, without blocking the loop', async t => {
  const pool = new EvaluationPool(1)
  t.teardown(async () => { await pool.close() })
  const references = Array.from({ length: 3000 }, (_, i) => ({ id: i, text: `${sentence(i)}\n${sentence(i + 1)}` }))
  const predictions = references.map((r, i) => ({ id: r.id, text: sentence(i + 2) }))
  const request = { predictions, references, useStemmer: true }
  t.ok(JSON.stringify(request).length > INLINE_MAX_CHARS, 'big enough to leave the main thread')
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 1)
  const started = Date.now()
  const result = await pool.run(request, {})
  const elapsed = Date.now() - started
  clearInterval(timer)
  t.same(result, evaluate(request), 'identical to inline scoring')
  t.ok(ticks >= Math.min(5, elapsed / 10), `the event loop kept turning (${ticks} ticks in ${elapsed} ms)`)
})

t.test('input errors keep their class and message across the thread', async t => {
  const pool = new EvaluationPool(1)
  t.teardown(async () => { await pool.close() })
  const big = 'word '.repeat(INLINE_MAX_CHARS / 4)
  const failure = async (p: Promise<unknown>): Promise<unknown> => await p.then(() => undefined, (err: unknown) => err)
  const dup = await failure(pool.run({ predictions: [], references: [{ id: 'a', text: big }, { id: 'a', text: 'x' }] }, {}))
  t.ok(dup instanceof EvaluationInputError, 'an EvaluationInputError')
  t.equal((dup as EvaluationInputError).code, 'INVALID_EVALUATION_INPUT')
  t.match((dup as Error).message, /references\[1\]\.id "a" is duplicated/)
  const long = await failure(pool.run({ predictions: [], references: [{ id: 'long', text: big }] }, { maxTokens: 100 }))
  t.ok(long instanceof EvaluationInputError)
  t.equal((long as EvaluationInputError).code, 'TEXT_TOO_LONG')
})
