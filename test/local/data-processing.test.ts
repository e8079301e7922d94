// The local stack's DataProcessing, judged against "Associate Prediction Results with Input
// Records" (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html)
// and the API's DataProcessing
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html): the
// supported JSONPath operators and their examples, slices inclusive of both ends (the guide's
// `$[1:4]` = second through fifth columns), the 63-character limit, SageMakerOutput added to an
// input object and SageMakerInput/SageMakerOutput for an input that is not one, an index outside
// the joined data an error.
import t from 'tap'
import { assembleOutput, dataProcessingOf, joinInput, JsonPathError, parseJsonPath, selectPath } from '../../src/local/data-processing.js'

const select = (path: string, value: unknown): unknown => selectPath(parseJsonPath(path), value)

t.test('the documented operators and examples', async t => {
  const record = { id: 7, features: [1, 2, 3, 4, 5, 6], inputs: 'text', parameters: { max_new_tokens: 5 }, SageMakerOutput: [{ generated_text: 'x' }] }
  t.same(select('$', record), record, '$ is the whole record')
  t.equal(select('$.id', record), 7, '.<name>')
  t.same(select('$.features', record), [1, 2, 3, 4, 5, 6], 'the API example $.features')
  t.same(select("$['id','SageMakerOutput']", record), { id: 7, SageMakerOutput: [{ generated_text: 'x' }] }, "$['id','SageMakerOutput']: an object of those members")
  t.same(select("$['inputs','parameters']", record), { inputs: 'text', parameters: { max_new_tokens: 5 } })
  t.same(select("$.parameters.['max_new_tokens']", record), 5, 'a dot before a bracket')
  t.same(select('$.features[1]', record), 2, 'an index')
  t.same(select('$.features[-1]', record), 6, '-1 is the last element')
  t.same(select('$.features[1,3,5]', record), [2, 4, 6], 'several indexes')
  t.same(select('$.features[1:4]', record), [2, 3, 4, 5], 'a slice takes both ends (second through fifth)')
  t.same(select('$.features[:2]', record), [1, 2, 3], 'start omitted: from the first')
  t.same(select('$.features[4:]', record), [5, 6], 'end omitted: to the last')
  t.same(select('$.features[0,4:]', record), [1, 5, 6], 'the API example $[0,5:] shape: an index and a slice')
  t.same(select('$.parameters.*', record), [5], 'a wildcard')
  t.same(select('$[1:]', ['id-1', 0.5, 0.7]), [0.5, 0.7], 'the CSV example $[1:] on a row')
})

t.test('what SageMaker does not support is refused, naming it', async t => {
  for (const [path, reason] of [
    ['$..inputs', /'\.\.' \(deep scan\)/],
    ['$[?(@.id > 1)]', /filter and script expressions/],
    ['$.features[0:4:2]', /a step is not supported/],
    ["$['a','b.c']", /nesting of children within brackets/],
    ['inputs', /must start with \$/],
    ['$.a@b', /'@' at position 3/],
    ["$['a'", /not closed/],
    ['$' + '.x'.repeat(32), /longer than 63/]
  ] as const) {
    t.throws(() => parseJsonPath(path), reason, path)
  }
  t.throws(() => dataProcessingOf({ InputFilter: '$..x' }), /InputFilter "\$\.\.x" is not a JSONPath SageMaker supports/)
  t.same(dataProcessingOf(undefined), dataProcessingOf({ InputFilter: '$', JoinSource: 'None', OutputFilter: '$' }), 'defaults')
})

t.test('applying a filter to a record it does not fit is an error, never a silent drop', async t => {
  t.throws(() => select('$.missing', { id: 1 }), JsonPathError)
  t.throws(() => select('$.features[9]', { features: [1] }), /index 9 is outside an array of 1/)
  t.throws(() => select('$.features[:5]', { features: [1, 2] }), /slice end 5 is outside/, 'indexes outside the dimension: an error (API_DataProcessing)')
  t.throws(() => select('$.id.name', { id: 1 }), /needs an object, found a number/)
  t.same(select("$['id','absent']", { id: 1 }), { id: 1 }, 'several names: the members present')
})

t.test('JoinSource Input: SageMakerOutput on an input object, SageMakerInput for anything else', async t => {
  const tgiAnswer = [{ generated_text: 'The walnut market opened.' }]
  t.same(joinInput({ id: 'a', inputs: 'x' }, tgiAnswer), { id: 'a', inputs: 'x', SageMakerOutput: tgiAnswer }, 'a list answer is kept as the list')
  t.same(joinInput([1, 2], { label: 1 }), { SageMakerInput: [1, 2], SageMakerOutput: { label: 1 } }, 'an array input is wrapped')
  t.same(joinInput('text', 3), { SageMakerInput: 'text', SageMakerOutput: 3 })
  t.same(joinInput({ id: 1, SageMakerOutput: 'mine' }, 'model'), { id: 1, SageMakerOutput: 'model' }, 'an input member SageMakerOutput is overwritten, as the guide warns')
  const dp = dataProcessingOf({ InputFilter: "$['inputs','parameters']", JoinSource: 'Input', OutputFilter: "$['id','SageMakerOutput']" })
  t.same(assembleOutput(dp, { id: 'a', inputs: 'x', parameters: {}, extra: true }, tgiAnswer), { id: 'a', SageMakerOutput: tgiAnswer })
  t.same(assembleOutput(dataProcessingOf({ OutputFilter: '$[0]' }), { id: 1 }, tgiAnswer), tgiAnswer[0], 'JoinSource None: the OutputFilter reads the answer itself')
})
