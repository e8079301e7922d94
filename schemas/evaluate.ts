import { Type, type Static } from 'typebox'

const Id = Type.Union([Type.String({ minLength: 1 }), Type.Integer()], { description: 'Record id; ids compare as strings (7 and "7" match).' })

export const EvaluationItem = Type.Object({
  id: Id,
  text: Type.String({ description: 'May be empty. For rougeLsum, put one sentence per line.' })
}, { additionalProperties: false, title: 'EvaluationItem', description: 'A prediction or a reference, joined on id.' })

export const RougeType = Type.String({ pattern: '^rouge([1-9]|L|Lsum)$', description: 'rouge1..rouge9, rougeL or rougeLsum.', examples: ['rouge1'] })

export const EvaluationOptions = {
  rougeTypes: Type.Optional(Type.Array(RougeType, { minItems: 1, uniqueItems: true, description: 'Default: rouge1, rouge2, rougeL, rougeLsum.' })),
  useStemmer: Type.Optional(Type.Boolean({ description: "NLTK's Porter stemmer on tokens longer than 3 characters." }))
}

export const BootstrapOptions = Type.Object({
  samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'Resamples of the references.' })),
  confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95, description: 'Two-sided confidence level of low/high.' })),
  seed: Type.Optional(Type.Integer({ default: 0, description: 'Same seed, same bounds.' }))
}, { additionalProperties: false, title: 'BootstrapOptions', description: 'Seeded bootstrap of the mean: adds low/high to each score.' })

/** Bounds that keep one request's work and memory in check (LCS is quadratic). */
export const MAX_EVALUATION_RECORDS = 100_000

export const EvaluateBody = Type.Object({
  predictions: Type.Array(EvaluationItem, { maxItems: MAX_EVALUATION_RECORDS }),
  references: Type.Array(EvaluationItem, { minItems: 1, maxItems: MAX_EVALUATION_RECORDS }),
  ...EvaluationOptions,
  perRecord: Type.Optional(Type.Boolean({ description: 'Also return each reference’s scores.' })),
  bootstrap: Type.Optional(BootstrapOptions)
}, {
  additionalProperties: false,
  title: 'EvaluateRequest',
  examples: [{
    predictions: [{ id: 'a', text: 'the cat sat on the mat' }],
    references: [{ id: 'a', text: 'the cat was on the mat' }],
    rougeTypes: ['rouge1', 'rougeL'],
    useStemmer: true
  }]
})
export type EvaluateBody = Static<typeof EvaluateBody>

export const Score = Type.Object({
  precision: Type.Number(),
  recall: Type.Number(),
  fmeasure: Type.Number()
}, { title: 'Score', description: 'Precision, recall and F-measure, each in [0, 1].' })

export const AggregateScore = Type.Object({
  precision: Type.Number(),
  recall: Type.Number(),
  fmeasure: Type.Number(),
  low: Type.Optional({ ...Score, description: 'Lower bootstrap bound (with `bootstrap`).' }),
  high: Type.Optional({ ...Score, description: 'Upper bootstrap bound (with `bootstrap`).' })
}, { title: 'AggregateScore', description: 'Means over references.' })

export const EvaluationResponse = Type.Object({
  count: Type.Integer({ description: 'References scored.' }),
  missing: Type.Array(Id, { description: 'Reference ids with no prediction (scored against "").' }),
  unmatched: Type.Array(Id, { description: 'Prediction ids with no reference (not scored).' }),
  scores: Type.Record(Type.String(), AggregateScore, { description: 'Means over references, by ROUGE type.' }),
  records: Type.Optional(Type.Array(Type.Object({ id: Id }, { additionalProperties: Score }), { description: 'Per reference, in reference order (perRecord).' }))
}, {
  $id: 'EvaluationResponse',
  title: 'EvaluationResponse',
  examples: [{ count: 1, missing: [], unmatched: [], scores: { rouge1: { precision: 0.8333333333333334, recall: 0.8333333333333334, fmeasure: 0.8333333333333334 } } }]
})
