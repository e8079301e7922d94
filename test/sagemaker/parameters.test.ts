// One parameter vocabulary (src/sagemaker/contracts/parameters.ts): the public (JumpStart) names
// translated per contract, refusals naming the field, value and contract. Sources: TGI
// router/src/lib.rs GenerateParameters and router/src/validation.rs (best_of needs sampling, top_p
// < 1, seed with best_of refused); djl-serving lmi_input_output_schema.md.
import t from 'tap'
import { jumpstartList, lmiRolling, tgiContract, translateParameters } from '../../src/sagemaker/contracts/index.js'
import { isCatalogError } from '../../src/errors.js'

const tgi = tgiContract()
const at = 'body.parameters'

function refusal (fn: () => unknown): { code: string, message: string, param: string | undefined } {
  try {
    fn()
  } catch (err) {
    if (!isCatalogError(err)) throw err
    return { code: err.code, message: err.message, param: err.param }
  }
  throw new Error('expected a refusal')
}

t.test('jumpstart-list: the parameters as given; stop and truncate refused', async (t) => {
  t.same(translateParameters(jumpstartList, { max_length: 50, num_beams: 4, num_return_sequences: 2 }, at), { params: { max_length: 50, num_beams: 4, num_return_sequences: 2 }, sequences: 2 })
  const r = refusal(() => translateParameters(jumpstartList, {}, at, { stop: ['\n'] }))
  t.equal(r.code, 'INVALID_PARAMETERS')
  t.equal(r.param, 'body.parameters.stop')
  t.match(r.message, /jumpstart-list/)
  t.match(refusal(() => translateParameters(jumpstartList, {}, at, { truncate: 10 })).param, 'body.parameters.truncate')
  t.same(translateParameters(jumpstartList, {}, at, { stop: [] }).params, {}, 'an empty stop list is its no-op')
})

t.test('tgi: max_length is max_new_tokens; sampling names pass through; top_p 1 is its no-op', async (t) => {
  t.same(translateParameters(tgi, { max_length: 40, do_sample: true, temperature: 0.7, top_k: 5, top_p: 0.9, seed: 3 }, at).params,
    { max_new_tokens: 40, do_sample: true, temperature: 0.7, top_k: 5, top_p: 0.9, seed: 3 })
  t.same(translateParameters(tgi, { top_p: 1, num_beams: 1, early_stopping: false, num_return_sequences: 1 }, at).params, {})
})

t.test('tgi: what it cannot do is a 400 naming the parameter and the contract', async (t) => {
  for (const [params, name] of [
    [{ num_beams: 4 }, 'num_beams'],
    [{ early_stopping: true }, 'early_stopping'],
    [{ no_repeat_ngram_size: 3 }, 'no_repeat_ngram_size'],
    [{ batch_size: 8 }, 'batch_size'],
    [{ num_return_sequences: 2 }, 'num_return_sequences']
  ] as const) {
    const r = refusal(() => translateParameters(tgi, params, at))
    t.equal(r.code, 'INVALID_PARAMETERS', name)
    t.equal(r.param, `body.parameters.${name}`)
    t.match(r.message, new RegExp(`body\\.parameters\\.${name} .* tgi contract`))
  }
})

t.test('tgi: num_return_sequences with sampling is best_of with details, bounded by MAX_BEST_OF', async (t) => {
  t.same(translateParameters(tgi, { num_return_sequences: 2, do_sample: true }, at, {}, { maxBestOf: 2 }), { params: { do_sample: true, best_of: 2, details: true }, sequences: 2 })
  t.match(refusal(() => translateParameters(tgi, { num_return_sequences: 3, do_sample: true }, at, {}, { maxBestOf: 2 })).message, /MAX_BEST_OF is 2/)
  t.equal(refusal(() => translateParameters(tgi, { num_return_sequences: 2, do_sample: true, seed: 1 }, at)).param, 'body.parameters.seed')
})

t.test('tgi: stop and truncate reach the payload as TGI types', async (t) => {
  const { params } = translateParameters(tgi, { max_length: 10 }, at, { stop: ['.', '\n'], truncate: 512 }, { maxStopSequences: 4 })
  const body = JSON.parse(tgi.buildPayload(['hello'], params)) as { parameters: Record<string, unknown> }
  t.same(body.parameters, { max_new_tokens: 10, stop: ['.', '\n'], truncate: 512 })
  t.match(refusal(() => translateParameters(tgi, {}, at, { stop: ['a', 'b', 'c'] }, { maxStopSequences: 2 })).message, /MAX_STOP_SEQUENCES is 2/)
})

t.test('lmi: one sequence per input; stop as stop_sequences', async (t) => {
  const lmi = lmiRolling(64)
  const { params } = translateParameters(lmi, { max_length: 20, num_beams: 2 }, at, { stop: ['x'] })
  t.same(JSON.parse(lmi.buildPayload(['hi'], params)), { inputs: 'hi', parameters: { max_new_tokens: 20, num_beams: 2, stop_sequences: ['x'] } })
  t.equal(refusal(() => translateParameters(lmi, { num_return_sequences: 2 }, at)).param, 'body.parameters.num_return_sequences')
})
