// OpenAI's Batch API through the official `openai` client against a listening gateway in local
// mode. Formats: https://platform.openai.com/docs/api-reference/batch/request-input (input
// lines), https://platform.openai.com/docs/api-reference/batch/request-output (output lines),
// https://platform.openai.com/docs/api-reference/batch/object (statuses, request_counts).
import t from 'tap'
import OpenAI from 'openai'
import { listeningApp } from '../helpers/local-app.js'
import { batchLine, clientError, fileLines, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'

const KEY_A = 'batch-key-a'
const KEY_B = 'batch-key-b'
const ARTICLE = (i: number): string => `Report ${i} opens with this lead sentence. A second sentence follows it. Then a third one ends it.`

t.test('a whole batch: upload, create, poll to completed, output lines in input order with custom_ids', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY_A},b:${KEY_B}` })
  const client = openAiClient(url, KEY_A)
  const ids = ['r-3', 'r-1', 'r-2', 'r-10', 'r-0']
  const lines = ids.map((id, i) => batchLine(id, { model: 'flan-t5-local', prompt: ARTICLE(i), max_tokens: 5 }))
  const file = await uploadBatchFile(client, lines)
  t.match(file, { object: 'file', purpose: 'batch', filename: 'in.jsonl', status: 'processed' })
  t.match(file.id, /^file-[0-9a-f]{32}$/)
  t.equal(file.bytes, Buffer.byteLength(lines.join('\n') + '\n'))

  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h', metadata: { run: 'one' } })
  t.equal(created.status, 'in_progress')
  t.match(created.id, /^batch_[0-9a-f]{32}$/)
  t.same(created.metadata, { run: 'one' })
  t.equal(created.request_counts?.total, 5)
  t.equal(created.expires_at, created.created_at + 86400)

  const { batch, seen } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed', `statuses seen: ${seen.join(' -> ')}`)
  t.same(batch.request_counts, { total: 5, completed: 5, failed: 0 })
  t.ok(typeof batch.completed_at === 'number' && typeof batch.finalizing_at === 'number')
  t.equal(batch.error_file_id, null, 'no error file when every request succeeded')
  const out = await fileLines(client, batch.output_file_id as string)
  t.same(out.map(l => l.custom_id), ids, 'one line per request, in input order')
  for (const [i, line] of out.entries()) {
    t.equal(line.error, null)
    t.match(line.id, /^batch_req_/)
    t.equal(line.response.status_code, 200)
    t.match(line.response.request_id, /^req_/)
    t.equal(line.response.body.object, 'text_completion')
    t.equal(line.response.body.model, 'flan-t5-local')
    // the extractive engine: the lead sentence, cut at max_length words
    t.equal(line.response.body.choices[0].text, `Report ${i} opens with this`, `custom_id ${String(line.custom_id)}`)
    t.equal(line.response.body.choices[0].finish_reason, 'stop', 'JumpStart does not say whether max_length ended a text (the real-time rule)')
  }
  const outFile = await client.files.retrieve(batch.output_file_id as string)
  t.equal(outFile.purpose, 'batch_output')

  // the batch is listed, and another tenant sees neither it nor its files
  const page = await client.batches.list()
  t.same(page.data.map(b => b.id), [created.id])
  const other = openAiClient(url, KEY_B)
  const notFound = await clientError(other.batches.retrieve(created.id), OpenAI.NotFoundError)
  t.equal(notFound.status, 404)
  t.match(notFound.error, { type: 'invalid_request_error', code: 'batch_not_found', param: 'batch_id' })
  t.match((await clientError(other.files.retrieve(file.id), OpenAI.NotFoundError)).error, { code: 'file_not_found' })
  await clientError(other.files.content(batch.output_file_id as string), OpenAI.NotFoundError)
  await clientError(other.files.delete(file.id), OpenAI.NotFoundError)
  await clientError(other.batches.cancel(created.id), OpenAI.NotFoundError)
  t.same((await other.batches.list()).data, [])
})

t.test('mixed parameters in one batch: one transform job per group, n and stop honoured, chat completions', async t => {
  const { url, app } = await listeningApp(t, { API_KEYS: `a:${KEY_A}` })
  const client = openAiClient(url, KEY_A)
  const chat = (id: string, i: number, extra: Record<string, unknown>): string =>
    batchLine(id, { model: 'flan-t5-local', messages: [{ role: 'user', content: ARTICLE(i) }], ...extra }, '/v1/chat/completions')
  const lines = [
    chat('a', 0, { max_tokens: 4 }),
    chat('b', 1, { max_tokens: 8, stop: ' with' }),
    chat('c', 2, { max_tokens: 4 }),
    chat('d', 3, { max_tokens: 8, n: 2 }),
    chat('e', 4, { max_tokens: 8 })
  ]
  const file = await uploadBatchFile(client, lines)
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  const names = (created as unknown as { transform_jobs: string[] }).transform_jobs
  // max_tokens 4 | max_tokens 8 (stop is applied to the output, no model parameter) | n 2
  t.equal(names.length, 3, 'three groups of equal parameters, three jobs')
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed')

  const listed = await app.inject({ method: 'GET', url: '/v1/transform-jobs', headers: { authorization: `Bearer ${KEY_A}` } })
  const jobs = listed.json<{ jobs: Array<{ name: string, parameters: Record<string, unknown>, input: { recordCount: number } }> }>().jobs
  const byName = new Map(jobs.map(j => [j.name, j]))
  t.same(names.map(n => byName.get(n)?.parameters), [{ max_length: 4 }, { max_length: 8 }, { max_length: 8, num_return_sequences: 2, num_beams: 2 }], 'HYPER_PARAMS per job')
  t.same(names.map(n => byName.get(n)?.input.recordCount), [2, 2, 1])

  const out = await fileLines(client, batch.output_file_id as string)
  t.same(out.map(l => l.custom_id), ['a', 'b', 'c', 'd', 'e'], 'input order across jobs')
  const content = (i: number, choice = 0): string => out[i]?.response.body.choices[choice].message.content
  t.equal(out[0]?.response.body.object, 'chat.completion')
  t.equal(content(0), 'Report 0 opens with')
  t.equal(content(1), 'Report 1 opens', 'stop cuts before " with"')
  t.equal(out[1]?.response.body.choices[0].finish_reason, 'stop')
  t.equal(out[3]?.response.body.choices.length, 2, 'n = 2: two choices')
  t.equal(content(4), 'Report 4 opens with this lead sentence. A', 'max_tokens 8: eight words')
})

t.test('a request the model fails on lands in the error file; the others complete', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY_A}`, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const client = openAiClient(url, KEY_A)
  const lines = [
    batchLine('ok-1', { model: 'flan-t5-local', prompt: ARTICLE(1), max_tokens: 3 }),
    batchLine('bad', { model: 'flan-t5-local', prompt: 'POISON lead sentence.', max_tokens: 9 }),
    batchLine('ok-2', { model: 'flan-t5-local', prompt: ARTICLE(2), max_tokens: 3 })
  ]
  const file = await uploadBatchFile(client, lines)
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed', 'a batch with some failed requests still completes (as OpenAI\'s)')
  t.same(batch.request_counts, { total: 3, completed: 2, failed: 1 })
  t.same((await fileLines(client, batch.output_file_id as string)).map(l => l.custom_id), ['ok-1', 'ok-2'])
  const errors = await fileLines(client, batch.error_file_id as string)
  t.equal(errors.length, 1)
  t.match(errors[0], { custom_id: 'bad', response: null, error: { code: 'job_failed', message: /LOCAL_FAULT_MODEL_ERROR_PATTERN/ } })
})

t.test('cancel stops every job; cancelling -> cancelled; what completed is kept', async t => {
  const { url, app } = await listeningApp(t, { API_KEYS: `a:${KEY_A}`, LOCAL_LATENCY_BASE_MS: 150 })
  const client = openAiClient(url, KEY_A)
  const lines = [
    batchLine('fast', { model: 'flan-t5-local', prompt: ARTICLE(0), max_tokens: 2 }),
    ...Array.from({ length: 40 }, (_, i) => batchLine(`slow-${i}`, { model: 'flan-t5-local', prompt: ARTICLE(i), max_tokens: 6 }))
  ]
  const file = await uploadBatchFile(client, lines)
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const [fastJob, slowJob] = (created as unknown as { transform_jobs: string[] }).transform_jobs
  // the one-line job ends within a model call; the 40-line one needs 40
  const headers = { authorization: `Bearer ${KEY_A}` }
  for (let i = 0; ; i++) {
    const job = (await app.inject({ url: `/v1/transform-jobs/${String(fastJob)}`, headers })).json<{ status: string }>()
    if (job.status === 'Completed') break
    if (i > 200) throw new Error(`job ${String(fastJob)} still ${job.status}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  const cancelling = await client.batches.cancel(created.id)
  t.equal(cancelling.status, 'cancelling')
  t.type(cancelling.cancelling_at, 'number')
  const { batch, seen } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'cancelled', seen.join(' -> '))
  t.type(batch.cancelled_at, 'number')
  const slow = (await app.inject({ url: `/v1/transform-jobs/${String(slowJob)}`, headers })).json<{ status: string }>()
  t.equal(slow.status, 'Stopped', 'the running job was stopped')
  t.same(batch.request_counts, { total: 41, completed: 1, failed: 40 })
  t.same((await fileLines(client, batch.output_file_id as string)).map(l => l.custom_id), ['fast'], 'partial output kept')
  const errors = await fileLines(client, batch.error_file_id as string)
  t.equal(errors.length, 40)
  t.same(new Set(errors.map(e => e.error.code)), new Set(['batch_cancelled']))
  t.same(errors.map(e => e.custom_id), Array.from({ length: 40 }, (_, i) => `slow-${i}`))
  // cancelling again is harmless; a completed batch cannot be cancelled
  t.equal((await client.batches.cancel(created.id)).status, 'cancelled')
})
