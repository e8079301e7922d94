// The pure pieces of batches: line reading, grouping by normalised parameters, status
// derivation, output assembly in input order.
import t from 'tap'
import { checkUploadLine, groupLines, readBatchLine, type FileUniformity } from '../../src/openai/batch-lines.js'
import { assembleBatch, batchStatus, finalStatus, type BatchLineRecord, type GroupResults } from '../../src/openai/batch-output.js'
import { completionRequest } from '../../src/openai/requests.js'
import type { ResultLine } from '../../src/jobs/results.js'

const completion = (extra: Record<string, unknown>): ReturnType<typeof completionRequest> => completionRequest({ model: 'm', prompt: 'p', ...extra } as never)

t.test('lines group by model and normalised parameters, in order of first appearance', async t => {
  const requests = [
    completion({ max_tokens: 5 }),
    completion({ max_tokens: 5, stop: 'x' }), // stop is applied to the output: same job
    completion({ n: 2 }),
    completion({ max_tokens: 5, user: 'u' }),
    completion({ n: 2, temperature: 0 }), // temperature 0 is greedy, as no temperature
    completion({ temperature: 0.7, seed: 1 })
  ]
  const groups = groupLines(requests)
  t.same(groups.map(g => g.positions), [[0, 1, 3], [2, 4], [5]])
  t.same(groups.map(g => g.parameters), [{ max_length: 5 }, { num_return_sequences: 2, num_beams: 2 }, { do_sample: true, temperature: 0.7, seed: 1 }])
  t.same(groupLines([completion({}), completionRequest({ model: 'other', prompt: 'p' } as never)]).length, 2, 'another model is another job')
})

t.test('upload check: shape, one url and model per file', async t => {
  t.match(readBatchLine({ custom_id: 'a', method: 'POST', url: '/v1/completions', body: { model: 'm', prompt: 'p' }, extra: 1 }), { ok: false, message: /line has unknown key "extra"/ })
  t.match(readBatchLine({ custom_id: '', method: 'POST', url: '/v1/completions', body: {} }), { ok: false, message: /line\.custom_id must not be empty/ })
  const seen: FileUniformity = { requests: 0 }
  const line = (model: string): unknown => ({ custom_id: model, method: 'POST', url: '/v1/completions', body: { model, prompt: 'p' } })
  t.match(checkUploadLine(line('m'), 1, seen), { ok: true })
  t.match(checkUploadLine(line('m'), 2, seen), { ok: true })
  t.match(checkUploadLine(line('z'), 3, seen), { ok: false, message: /differs from line 1's "m"/ })
  t.equal(seen.requests, 2)
})

t.test('status: in_progress while a job runs, cancelling once cancelled, finalizing once all ended, then the final one', async t => {
  t.equal(batchStatus(['InProgress', 'Completed'], false, undefined), 'in_progress')
  t.equal(batchStatus(['Stopping', 'Completed'], true, undefined), 'cancelling')
  t.equal(batchStatus(['Completed', 'Failed'], false, undefined), 'finalizing')
  t.equal(batchStatus(['Stopped'], true, undefined), 'finalizing')
  t.equal(batchStatus(['InProgress'], false, 'cancelled'), 'cancelled', 'a written result wins')
  t.equal(finalStatus(['Completed', 'Failed'], false), 'completed')
  t.equal(finalStatus(['Failed', 'Failed'], false), 'failed')
  t.equal(finalStatus(['Completed', 'Stopped'], true), 'cancelled')
})

async function * from<T> (items: T[]): AsyncGenerator<T> { yield * items }

t.test('assembly: input order across groups, errors apart, stop applied, deterministic ids', async t => {
  const request = completion({ stop: ' b' })
  const lines: BatchLineRecord[] = [
    { custom_id: 'x', group: 1, request },
    { custom_id: 'y', group: 0, request },
    { custom_id: 'z', group: 1, request }
  ]
  const groups = (): GroupResults[] => [
    { lines: from<ResultLine>([{ id: 'y', error: { code: 'JOB_STOPPED', message: 'stopped' } }]), created: 5 },
    { lines: from<ResultLine>([{ id: 'x', generated_texts: ['a b c'] }, { id: 'z', generated_texts: ['q'] }]), created: 7 }
  ]
  const out = []
  for await (const line of assembleBatch('batch_1', '/v1/completions', from(lines), groups())) out.push(line)
  t.same(out.map(l => l.custom_id), ['x', 'y', 'z'])
  t.match(out[0], { error: null, response: { status_code: 200, body: { object: 'text_completion', created: 7, choices: [{ text: 'a', index: 0, finish_reason: 'stop' }] } } })
  t.match(out[1], { response: null, error: { code: 'batch_cancelled', message: 'stopped' } })
  const again = []
  for await (const line of assembleBatch('batch_1', '/v1/completions', from(lines), groups())) again.push(line)
  t.same(again, out, 'the same batch assembles to the same lines')
  const mismatched = assembleBatch('batch_1', '/v1/completions', from([{ custom_id: 'x', group: 0, request }]), [{ lines: from<ResultLine>([{ id: 'other', generated_texts: [] }]), created: 1 }])
  await t.rejects(mismatched.next(), /answered "other" where "x" was expected/)
})
