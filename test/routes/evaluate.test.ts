import t from 'tap'
import { expectRejections, type Rejection } from '../helpers/http.js'
import { localApp } from '../helpers/local-app.js'

t.test('scores, missing and unmatched, ids compared as strings', async t => {
  const { app } = await localApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/v1/evaluate',
    payload: {
      predictions: [{ id: 7, text: 'the cat sat on the mat' }, { id: 'stray', text: 'nobody asked' }],
      references: [{ id: '7', text: 'the cat was on the mat' }, { id: 'b', text: 'a dog barked' }],
      rougeTypes: ['rouge1', 'rougeL'],
      perRecord: true
    }
  })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.count, 2)
  t.same(body.missing, ['b'])
  t.same(body.unmatched, ['stray'])
  t.same(Object.keys(body.scores).sort(), ['rouge1', 'rougeL'])
  // record 7: 5 of 6 unigrams match both ways; record b: scored against "" -> 0
  t.equal(body.records[0].id, '7')
  t.equal(body.records[0].rouge1.fmeasure, 5 / 6)
  t.equal(body.records[1].rouge1.fmeasure, 0)
  t.equal(body.scores.rouge1.fmeasure, (5 / 6) / 2)
})

t.test('bootstrap adds low and high around the mean', async t => {
  const { app } = await localApp(t)
  const refs = Array.from({ length: 20 }, (_, i) => ({ id: i, text: `word${i} shared text here` }))
  const preds = refs.map((r, i) => ({ id: r.id, text: i % 2 === 0 ? r.text : 'shared' }))
  const res = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { predictions: preds, references: refs, bootstrap: { samples: 200, seed: 3 } } })
  t.equal(res.statusCode, 200, res.body)
  const { rouge1 } = res.json().scores
  t.ok(rouge1.low.fmeasure <= rouge1.fmeasure && rouge1.fmeasure <= rouge1.high.fmeasure)
  t.ok(rouge1.low.fmeasure < rouge1.high.fmeasure)
})

t.test('bad input names the field', async t => {
  const { app } = await localApp(t, { EVAL_MAX_TOKENS: 10 })
  const cases: Rejection[] = [
    [{ predictions: [], references: [] }, 400, 'INVALID_REQUEST', /body\.references must have at least 1 item/],
    [{ predictions: [{ id: 'a', text: 5 }], references: [{ id: 'a', text: 'x' }] }, 400, 'INVALID_REQUEST', /body\.predictions\[0\]\.text must be string \(got 5\)/],
    [{ predictions: [], references: [{ text: 'x' }] }, 400, 'INVALID_REQUEST', /body\.references\[0\]\.id is required/],
    [{ predictions: [], references: [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }] }, 400, 'INVALID_REQUEST', /references\[1\]\.id "a" is duplicated/],
    [{ predictions: [], references: [{ id: 'a', text: 'x' }], rougeTypes: ['rougeX'] }, 400, 'INVALID_REQUEST', /body\.rougeTypes\[0\] must match/],
    [{ predictions: [], references: [{ id: 'long', text: 'one two three four five six seven eight nine ten eleven' }] }, 413, 'TEXT_TOO_LONG', /"long" has 11 tokens; the limit is 10/]
  ]
  await expectRejections(t, app, '/v1/evaluate', cases)
})
