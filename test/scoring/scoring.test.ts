import t from 'tap'
import { EvaluationInputError } from '../../src/evaluation/evaluate.js'
import { createScoring, evaluationErrorToCatalog } from '../../src/scoring/index.js'
import type { CatalogError } from '../../src/errors.js'

// The scoring service without HTTP: evaluation's input errors become catalog errors naming the
// body field, once, here; anything else passes through.

t.test('evaluation\'s input errors in the catalog: TEXT_TOO_LONG 413, other bad input INVALID_REQUEST 400, the field under body.', async t => {
  const long = new EvaluationInputError('TEXT_TOO_LONG', 'references[0].text', 'references[0].text has 9 tokens; the limit is 5')
  t.match(evaluationErrorToCatalog(long), { code: 'TEXT_TOO_LONG', statusCode: 413, message: 'body.references[0].text has 9 tokens; the limit is 5', cause: long })
  const dup = new EvaluationInputError('INVALID_EVALUATION_INPUT', 'references[1].id', 'references[1].id "a" is duplicated')
  t.match(evaluationErrorToCatalog(dup), { code: 'INVALID_REQUEST', statusCode: 400, message: 'body.references[1].id "a" is duplicated', cause: dup })
})

t.test('the service scores, and refuses bad input with a catalog error', async t => {
  const scoring = createScoring({ workers: 1, maxTokens: 5 })
  t.teardown(async () => { await scoring.close() })
  const result = await scoring.score({ predictions: [{ id: 'a', text: 'the cat sat' }], references: [{ id: 'a', text: 'the cat sat' }] })
  t.equal(result.scores.rouge1?.fmeasure, 1, 'identical texts score 1')
  const err = await scoring.score({ predictions: [{ id: 'a', text: 'one two three four five six' }], references: [{ id: 'a', text: 'x' }] })
    .then(() => undefined, (e: CatalogError) => e)
  t.match(err, { code: 'TEXT_TOO_LONG', statusCode: 413, message: /^body\.predictions\[0\]\.text / })
})
