// OpenAI's Files API and the error mappings of files and batches, through the official `openai`
// client. Input format: https://platform.openai.com/docs/api-reference/batch/request-input
// (custom_id unique, method POST, url, body; one model per file); file object and routes:
// https://platform.openai.com/docs/api-reference/files; errors: the client's exception classes
// (https://platform.openai.com/docs/guides/error-codes).
import t from 'tap'
import OpenAI, { toFile } from 'openai'
import { buildApp } from '../../src/app.js'
import { listeningApp, localApp } from '../helpers/local-app.js'
import { listKeys } from '../helpers/jobs.js'
import { batchLine, clientError, fileLines, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'

const KEY_A = 'files-key-a'
const KEY_B = 'files-key-b'
const ADMIN = 'files-key-admin'
const body = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'flan-t5-local', prompt: 'The tide came in early. Boats waited.', ...extra })

t.test('invalid upload lines are a BadRequestError naming the line and field; nothing is stored', async t => {
  const { url, stack } = await listeningApp(t, { API_KEYS: `a:${KEY_A}` })
  const client = openAiClient(url, KEY_A)
  const cases: Array<[string[], RegExp]> = [
    [[batchLine('1', body()), 'not json'], /line 2: line is not valid JSON/],
    [[batchLine('1', body()), batchLine('1', body())], /line 2: line\.custom_id "1" is duplicated \(first on line 1\)/],
    [[JSON.stringify({ custom_id: 'x', method: 'GET', url: '/v1/completions', body: body() })], /line 1: line\.method must be "POST" \(got "GET"\)/],
    [[JSON.stringify({ custom_id: 'x', method: 'POST', url: '/v1/embeddings', body: body() })], /line 1: line\.url must be one of "\/v1\/completions", "\/v1\/chat\/completions" \(got "\/v1\/embeddings"\)/],
    [[JSON.stringify({ method: 'POST', url: '/v1/completions', body: body() })], /line 1: line\.custom_id is required/],
    [[batchLine('1', body({ max_tokens: 0 }))], /line 1: line\.body\.max_tokens must be >= 1 \(got 0\)/],
    [[batchLine('1', body({ logprobs: 2 }))], /line 1: line\.body\.logprobs is not supported by FLAN-T5 endpoints/],
    [[batchLine('1', body({ colour: 2 }))], /line 1: line\.body has unknown key "colour"/],
    [[batchLine('1', body({ prompt: ['one', 'two'] }))], /line 1: line\.body\.prompt has 2 prompts; a batch request carries one/],
    [[batchLine('1', { model: 'flan-t5-local', prompt: 'x' }, '/v1/chat/completions')], /line 1: line\.body\.messages is required/],
    [[batchLine('1', body()), batchLine('2', body({ model: 'other-model' }))], /line 2: line\.body\.model "other-model" differs from line 1's "flan-t5-local"/],
    [[batchLine('1', body()), batchLine('2', { model: 'flan-t5-local', messages: [{ role: 'user', content: 'x' }] }, '/v1/chat/completions')], /line 2: line\.url "\/v1\/chat\/completions" differs from line 1's "\/v1\/completions"/],
    [[batchLine('1', body({ stream: true }))], /line 1: line\.body\.stream true is not supported in a batch/],
    [['', '  '], /the file has no requests/]
  ]
  for (const [lines, message] of cases) {
    const err = await clientError(uploadBatchFile(client, lines), OpenAI.BadRequestError)
    t.equal(err.status, 400)
    t.match(err.message, message)
    t.match(err.error, { type: 'invalid_request_error', code: 'dataset_invalid', param: 'file' })
  }
  const purpose = await clientError(client.files.create({ file: await toFile(Buffer.from(batchLine('1', body()) + '\n'), 'in.jsonl'), purpose: 'fine-tune' }), OpenAI.BadRequestError)
  t.match(purpose.message, /purpose "fine-tune" is not supported/)
  t.equal((purpose.error as { param: string }).param, 'purpose')
  t.same((await client.files.list()).data, [], 'no file was stored')
  t.same(await listKeys(stack, 'text2text-gateway/files/'), [], 'no object left in S3')
})

t.test('files: retrieve, list with cursor pagination, content as uploaded, delete; owners only', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY_A},b:${KEY_B}`, ADMIN_API_KEYS: `ops:${ADMIN}` })
  const a = openAiClient(url, KEY_A)
  const b = openAiClient(url, KEY_B)
  const text = [batchLine('x', body()), batchLine('y', body({ max_tokens: 3 }))]
  const first = await uploadBatchFile(a, text, 'first.jsonl')
  const second = await uploadBatchFile(a, text, 'second.jsonl')
  const theirs = await uploadBatchFile(b, text, 'theirs.jsonl')
  t.not(first.id, second.id, 'the same content is two files')
  t.same(await a.files.retrieve(first.id), first)
  t.equal(await (await a.files.content(first.id)).text(), text.join('\n') + '\n', 'content is the bytes uploaded')

  const all = await a.files.list()
  t.same(all.data.map(f => f.id), [second.id, first.id], 'own files only, newest first')
  const page = await a.files.list({ limit: 1 })
  t.same(page.data.map(f => f.id), [second.id])
  t.equal(page.has_more, true)
  const next = await a.files.list({ limit: 1, after: second.id })
  t.same(next.data.map(f => f.id), [first.id])
  t.equal(next.has_more, false)
  t.same((await a.files.list({ purpose: 'batch_output' })).data, [])

  const admin = openAiClient(url, ADMIN)
  t.same((await admin.files.list()).data.map(f => f.id), [theirs.id, second.id, first.id], 'an admin sees every tenant\'s files, as with jobs')
  t.equal((await admin.files.retrieve(theirs.id)).id, theirs.id)
  await clientError(a.files.retrieve(theirs.id), OpenAI.NotFoundError)
  await clientError(a.files.retrieve('file-nope'), OpenAI.NotFoundError)

  t.same(await a.files.delete(first.id), { id: first.id, object: 'file', deleted: true })
  await clientError(a.files.retrieve(first.id), OpenAI.NotFoundError)
  await clientError(a.files.content(first.id), OpenAI.NotFoundError)
  t.same((await a.files.list()).data.map(f => f.id), [second.id])
})

t.test('batch errors map to the client\'s exception classes', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY_A}` })
  const client = openAiClient(url, KEY_A)
  const file = await uploadBatchFile(client, [batchLine('1', body())])

  const auth = await clientError(openAiClient(url, 'wrong-key').batches.list(), OpenAI.AuthenticationError)
  t.equal(auth.status, 401)
  t.match(auth.error, { code: 'invalid_api_key' })
  await clientError(openAiClient(url, 'wrong-key').files.create({ file: await toFile(Buffer.from('x'), 'x.jsonl'), purpose: 'batch' }), OpenAI.AuthenticationError)

  const endpoint = await clientError(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), OpenAI.BadRequestError)
  t.match(endpoint.message, /body\.endpoint "\/v1\/chat\/completions" differs from the url of the requests/)
  t.equal((endpoint.error as { param: string }).param, 'endpoint')
  const embeddings = await clientError(client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }), OpenAI.BadRequestError)
  t.match(embeddings.message, /body\.endpoint must be one of/)
  const windowErr = await clientError(client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '48h' as '24h' }), OpenAI.BadRequestError)
  t.match(windowErr.message, /completion_window/)
  const missing = await clientError(client.batches.create({ input_file_id: 'file-00000000000000000000000000000000', endpoint: '/v1/completions', completion_window: '24h' }), OpenAI.NotFoundError)
  t.match(missing.error, { code: 'file_not_found', param: 'input_file_id' })
  await clientError(client.batches.retrieve('batch_nope'), OpenAI.NotFoundError)

  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed')
  const conflict = await clientError(client.batches.cancel(batch.id), OpenAI.ConflictError)
  t.match(conflict.message, /has already ended \(completed\)/)
  // an output file cannot start a batch
  const output = await clientError(client.batches.create({ input_file_id: batch.output_file_id as string, endpoint: '/v1/completions', completion_window: '24h' }), OpenAI.BadRequestError)
  t.match(output.message, /purpose "batch_output"/)
})

t.test('a second gateway over the same state answers for the same batch, and a restart loses nothing', async t => {
  const { app, stack, config } = await localApp(t, { API_KEYS: `a:${KEY_A}` })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = openAiClient(url, KEY_A)
  const file = await uploadBatchFile(client, ['1', '2', '3'].map(id => batchLine(id, body({ max_tokens: 2 }))))
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })

  const twin = await buildApp(config, { aws: stack.awsTarget })
  t.teardown(async () => { await twin.close() })
  const twinClient = openAiClient(await twin.listen({ port: 0, host: '127.0.0.1' }), KEY_A)
  const { batch } = await waitForBatch(twinClient, created.id)
  t.equal(batch.status, 'completed', 'the replica that did not create it finalizes it')
  t.same((await fileLines(twinClient, batch.output_file_id as string)).map(l => l.custom_id), ['1', '2', '3'])
  await app.close()
  const again = await client.batches.retrieve(created.id).catch(() => undefined)
  t.equal(again, undefined, 'the first gateway is gone')
  t.same(await twinClient.batches.retrieve(created.id), batch, 'the same batch, unchanged')
  t.same((await twinClient.batches.list()).data.map(b => b.id), [created.id])
})
