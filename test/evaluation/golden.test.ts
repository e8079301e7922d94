// Checks every case of the shared golden file (computed with Google's rouge-score and NLTK)
// to within 1e-12. The data lives outside the repository and is read at run time.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { RougeScorer, DEFAULT_ROUGE_TYPES } from '../../src/evaluation/rouge.js'

const GOLDEN = fileURLToPath(new URL('../../../shared/data/rouge/golden.jsonl', import.meta.url))
const TOLERANCE = 1e-12
const MEASURES = ['precision', 'recall', 'fmeasure'] as const

interface GoldenCase {
  reference: string
  prediction: string
  useStemmer: boolean
  expected: Record<string, Record<(typeof MEASURES)[number], number>>
}

if (!existsSync(GOLDEN)) {
  t.test('golden ROUGE cases', { skip: `golden data not found at ${GOLDEN} (shared data, never committed)` }, async () => {})
} else {
  const cases = readFileSync(GOLDEN, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GoldenCase)
  const scorers = {
    plain: new RougeScorer(DEFAULT_ROUGE_TYPES, { useStemmer: false }),
    stemmed: new RougeScorer(DEFAULT_ROUGE_TYPES, { useStemmer: true })
  }

  t.test('every golden case matches rouge-score to 1e-12', async (t) => {
    let matched = 0
    let maxError = 0
    const failures: string[] = []
    cases.forEach((c, index) => {
      const got = (c.useStemmer ? scorers.stemmed : scorers.plain).score(c.reference, c.prediction)
      let ok = true
      for (const type of DEFAULT_ROUGE_TYPES) {
        for (const measure of MEASURES) {
          const error = Math.abs(got[type][measure] - c.expected[type][measure])
          maxError = Math.max(maxError, error)
          if (!(error <= TOLERANCE)) {
            ok = false
            failures.push(`case ${index + 1} ${type}.${measure}: got ${got[type][measure]}, expected ${c.expected[type][measure]}`)
          }
        }
      }
      if (ok) matched++
    })
    t.comment(`golden: ${matched}/${cases.length} cases matched, max abs error ${maxError}`)
    t.ok(cases.length > 0, 'golden file has cases')
    t.same(failures.slice(0, 20), [], 'no mismatches (first 20 shown)')
    t.equal(matched, cases.length, `${matched}/${cases.length} golden cases matched`)
  })
}
