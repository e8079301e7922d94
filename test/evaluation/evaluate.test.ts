import t from 'tap'
import { evaluate, EvaluationInputError, type EvaluationRequest } from '../../src/evaluation/evaluate.js'
import { scoreRouge } from '../../src/evaluation/rouge.js'

/** The EvaluationInputError evaluate() throws for this request, or null if it succeeds. */
function errorOf (request: unknown, limits = {}): EvaluationInputError | null {
  try {
    evaluate(request as EvaluationRequest, limits)
    return null
  } catch (error) {
    if (error instanceof EvaluationInputError) return error
    throw error
  }
}

t.test('joins on id as strings; reports missing and unmatched', async (t) => {
  const result = evaluate({
    references: [
      { id: 7, text: 'the cat sat on the mat' },
      { id: 'b', text: 'a dog barked' },
      { id: 'c', text: 'birds sing' }
    ],
    predictions: [
      { id: 'extra', text: 'unused' },
      { id: '7', text: 'the cat sat' },
      { id: 'c', text: 'birds sing' }
    ],
    rougeTypes: ['rouge1', 'rougeL'],
    perRecord: true
  })
  t.equal(result.count, 3)
  t.same(result.missing, ['b'])
  t.same(result.unmatched, ['extra'])
  t.same(Object.keys(result.scores), ['rouge1', 'rougeL'])
  t.same(result.records?.map((r) => r.id), [7, 'b', 'c'], 'records in reference order, ids as given')
  const first = scoreRouge('the cat sat on the mat', 'the cat sat').rouge1
  t.same(result.records?.[0].rouge1, first, 'id 7 matched prediction "7"')
  t.same(result.records?.[1].rouge1, { precision: 0, recall: 0, fmeasure: 0 }, 'missing scored against ""')
  t.same(result.records?.[2].rougeL, { precision: 1, recall: 1, fmeasure: 1 })
  t.equal(result.scores.rouge1.fmeasure, (first.fmeasure + 0 + 1) / 3, 'mean over references')
  t.equal(result.scores.rouge1.precision, (first.precision + 0 + 1) / 3)
  t.notOk('low' in result.scores.rouge1, 'no bounds without bootstrap')
})

t.test('defaults: all four types, no records', async (t) => {
  const result = evaluate({ references: [{ id: 1, text: 'a b' }], predictions: [{ id: 1, text: 'a b' }] })
  t.same(Object.keys(result.scores), ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'])
  t.equal(result.records, undefined)
  t.same(result.scores.rougeLsum, { precision: 1, recall: 1, fmeasure: 1 })
})

t.test('useStemmer changes matching', async (t) => {
  const body = { references: [{ id: 1, text: 'runners running' }], predictions: [{ id: 1, text: 'runner runs' }], rougeTypes: ['rouge1'] }
  t.equal(evaluate(body).scores.rouge1.fmeasure, 0)
  t.equal(evaluate({ ...body, useStemmer: true }).scores.rouge1.fmeasure, 1)
})

t.test('bootstrap adds low/high, deterministic under a seed', async (t) => {
  const references = Array.from({ length: 40 }, (_, i) => ({ id: i, text: `w${i % 7} common words here ${i % 3}` }))
  const predictions = references.map((r, i) => ({ id: r.id, text: i % 2 === 0 ? r.text : `common ${i % 5}` }))
  const body = { references, predictions, bootstrap: { samples: 300, seed: 3 } }
  const a = evaluate(body)
  const b = evaluate(body)
  const c = evaluate({ ...body, bootstrap: { samples: 300, seed: 4 } })
  t.same(a, b)
  t.not(a.scores.rouge1.low?.fmeasure, c.scores.rouge1.low?.fmeasure)
  for (const [type, s] of Object.entries(a.scores)) {
    for (const k of ['precision', 'recall', 'fmeasure'] as const) {
      const low = s.low?.[k] ?? NaN
      const high = s.high?.[k] ?? NaN
      t.ok(low <= s[k] && s[k] <= high, `${type}.${k}: ${low} <= ${s[k]} <= ${high}`)
    }
  }
  const single = evaluate({ references: [{ id: 1, text: 'a b c' }], predictions: [{ id: 1, text: 'a b' }], rougeTypes: ['rouge1'], bootstrap: {} })
  t.same(single.scores.rouge1.low, { precision: single.scores.rouge1.precision, recall: single.scores.rouge1.recall, fmeasure: single.scores.rouge1.fmeasure }, 'one record: low = mean')
})

t.test('validation errors name the field, id and value', async (t) => {
  const ok = { id: 'a', text: 'x' }
  t.match(errorOf({ references: [ok, { id: 'b', text: 'y' }, { id: 'c', text: 'z' }, { id: 'a', text: 'w' }], predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references[3].id', message: /references\[3\]\.id "a" is duplicated \(first at references\[0\]\)/ })
  t.match(errorOf({ references: [ok], predictions: [ok, { id: 'a', text: 'again' }] }), { code: 'INVALID_EVALUATION_INPUT', field: 'predictions[1].id', message: /"a" is duplicated/ })
  t.match(errorOf({ references: [{ id: 7, text: 'x' }, { id: '7', text: 'y' }], predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references[1].id', message: /"7" is duplicated/ })
  t.match(errorOf({ references: [{ text: 'x' }], predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references[0].id', message: /references\[0\]\.id is missing/ })
  t.match(errorOf({ references: [ok], predictions: [{ id: 'p1', text: 42 }] }), { code: 'INVALID_EVALUATION_INPUT', field: 'predictions[0].text', message: /predictions\[0\]\.text must be a string, got 42 \(id "p1"\)/ })
  t.match(errorOf({ references: [{ id: true, text: 'x' }], predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references[0].id', message: /must be a string or a number, got true/ })
  t.match(errorOf({ references: 'nope', predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references', message: /references must be an array/ })
  t.match(errorOf({ references: [], predictions: [] }), { code: 'INVALID_EVALUATION_INPUT', field: 'references', message: /at least one/ })
  t.match(errorOf({ references: [ok], predictions: [], rougeTypes: ['rouge1', 'bleu'] }), { code: 'INVALID_EVALUATION_INPUT', field: 'rougeTypes[1]', message: /rougeTypes\[1\] "bleu" is not a ROUGE type/ })
  t.match(errorOf({ references: [ok], predictions: [], rougeTypes: ['rouge1', 'rouge1'] }), { code: 'INVALID_EVALUATION_INPUT', field: 'rougeTypes[1]', message: /duplicated/ })
  t.match(errorOf({ references: [ok], predictions: [], bootstrap: { samples: 0 } }), { code: 'INVALID_EVALUATION_INPUT', field: 'bootstrap.samples', message: /got 0/ })
  t.match(errorOf({ references: [ok], predictions: [], bootstrap: { confidence: 1.5 } }), { code: 'INVALID_EVALUATION_INPUT', field: 'bootstrap.confidence', message: /got 1\.5/ })
  t.match(errorOf({ references: [ok], predictions: [], useStemmer: 'yes' }), { code: 'INVALID_EVALUATION_INPUT', field: 'useStemmer', message: /must be a boolean/ })
})

t.test('texts over the token limit are TEXT_TOO_LONG', async (t) => {
  const long = Array.from({ length: 12 }, (_, i) => `w${i}`).join(' ')
  t.match(errorOf({ references: [{ id: 'x', text: 'short' }], predictions: [{ id: 'x', text: long }] }, { maxTokens: 10 }), { code: 'TEXT_TOO_LONG', field: 'predictions[0].text', message: /predictions\[0\]\.text id "x" has 12 tokens; the limit is 10/ })
  t.match(errorOf({ references: [{ id: 5, text: long }], predictions: [] }, { maxTokens: 10 }), { code: 'TEXT_TOO_LONG', field: 'references[0].text', message: /id "5" has 12 tokens; the limit is 10/ })
  t.doesNotThrow(() => evaluate({ references: [{ id: 'r', text: long }], predictions: [] }, { maxTokens: 12 }), 'exactly at the limit is fine')
  t.doesNotThrow(() => evaluate({ references: [{ id: 'r', text: 'a' }], predictions: [{ id: 'unmatched', text: long }] }, { maxTokens: 10 }), 'unmatched predictions are not scored, so not limited')
})
