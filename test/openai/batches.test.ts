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
    t.equal(line.response.body.choices[0].finish_reason, 'length')
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
