// Nothing a caller sent is silently changed: integers JSON.parse cannot keep exactly (beyond
// 2^53 - 1) are refused naming the field, in JSON bodies and in uploaded lines alike (ids
// compare as strings, so a big id is sent as a string and kept exactly); bytes that are not
// UTF-8 are refused naming their offset instead of becoming U+FFFD; an OpenAI batch's
// metadata keeps OpenAI's bounds (https://platform.openai.com/docs/api-reference/batch/create:
// "Set of 16 key-value pairs ... Keys are strings with a maximum length of 64 characters.
// Values are strings with a maximum length of 512 characters.").
import t from 'tap'
import OpenAI from 'openai'
import { listeningApp, localApp } from '../helpers/local-app.js'
import { batchLine, clientError, openAiClient, uploadBatchFile } from '../helpers/openai.js'

const BIG = '9007199254740993' // 2^53 + 1: JSON.parse reads it as 9007199254740992

t.test('an integer id beyond 2^53 - 1 is a 400 naming the field, in a body and in a dataset line; as a string it is kept exactly', async t => {
  const { app } = await localApp(t)
  const records = `[{"id": ${BIG}, "text": "First."}, {"id": 9007199254740992, "text": "Second."}]`
  const job = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { 'content-type': 'application/json' }, payload: `{"input": {"records": ${records}}}` })
  t.equal(job.statusCode, 400, job.body)
  t.equal(job.json().code, 'INVALID_REQUEST')
  t.equal(job.json().message, 'body.input.records[0].id is an integer beyond ±9007199254740991 (2^53 - 1); JSON numbers that large are not kept exactly (it reads as 9007199254740992): send it as a string')

  const negative = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: `{"text": "x", "parameters": {"seed": -${BIG}}}` })
  t.equal(negative.statusCode, 400)
  t.match(negative.json().message, /^body\.parameters\.seed is an integer beyond ±9007199254740991/)

  const safe = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: '{"text": "The number 12345678901234567890 sits in a string, which is kept as sent.", "parameters": {"seed": 9007199254740991}}' })
  t.equal(safe.statusCode, 200, 'digits inside strings and integers up to 2^53 - 1 pass')

  const lines = [`{"id": ${BIG}, "text": "One."}`, '{"id": 9007199254740992, "text": "Two."}', `{"id": "${BIG}", "text": "Three."}`].join('\n')
  const dataset = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: lines })
  t.equal(dataset.statusCode, 400)
  t.same(dataset.json().errors, [
    { line: 1, message: 'line.id is an integer beyond ±9007199254740991 (2^53 - 1); JSON numbers that large are not kept exactly (it reads as 9007199254740992): send it as a string' },
    { line: 2, message: 'line.id is an integer beyond ±9007199254740991 (2^53 - 1); JSON numbers that large are not kept exactly (it reads as 9007199254740992): send it as a string' }
  ], 'two distinct big ids are no longer "duplicated": each is refused for what it is')

  const asStrings = [`{"id": "${BIG}", "text": "One."}`, '{"id": "9007199254740992", "text": "Two."}'].join('\n')
  const stored = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: asStrings })
  t.equal(stored.statusCode, 201, stored.body)
  t.equal(stored.json().records, 2, 'string ids differing in the last digit are two records')
})

t.test('bytes that are not UTF-8 in a JSON body are a 400 naming the offset, never U+FFFD', async t => {
  const { app } = await localApp(t)
  const head = Buffer.from('{"text": "caf')
  const payload = Buffer.concat([head, Buffer.from([0xe9]), Buffer.from(' au lait"}')])
  const res = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'INVALID_JSON')
  t.equal(res.json().message, `body is not valid UTF-8 at byte offset ${head.length}; JSON bodies must be UTF-8`)
  const openai = await app.inject({ method: 'POST', url: '/v1/completions', headers: { 'content-type': 'application/json' }, payload: Buffer.concat([Buffer.from('{"model": "flan-t5-local", "prompt": "'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]) })
  t.equal(openai.statusCode, 400, 'an encoded surrogate is not UTF-8 either')
  t.match(openai.json().error.message, /^body is not valid UTF-8 at byte offset 38;/)
  const good = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: Buffer.from('{"text": "café au lait, 🥐"}') })
  t.equal(good.statusCode, 200, 'multi-byte UTF-8 passes')

  const dataset = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: Buffer.concat([Buffer.from('{"id": 1, "text": "ok"}\n{"id": 2, "text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]) })
  t.equal(dataset.statusCode, 400)
  t.same(dataset.json().errors, [{ line: 2, message: 'line is not valid UTF-8 at byte offset 22 of the line' }])
})

t.test('a batch\'s metadata keeps OpenAI\'s bounds: 16 pairs, keys of 64 characters, values of 512', async t => {
  const key = 'meta-key'
  const { url } = await listeningApp(t, { API_KEYS: `a:${key}` })
  const client = openAiClient(url, key)
  const file = await uploadBatchFile(client, [batchLine('1', { model: 'flan-t5-local', prompt: 'The tide came in early.' })])
  const create = async (metadata: Record<string, string>): Promise<unknown> => await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h', metadata })
  const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
  const cases: Array<[Record<string, string>, RegExp]> = [
    [seventeen, /^400 body\.metadata must have at most 16 keys \(got 17\)$/],
    [{ ['k'.repeat(65)]: 'v' }, /^400 body\.metadata has a key of 65 characters \("k{60}.*\); keys have at most 64$/],
    [{ run: 'x'.repeat(60_000) }, /^400 body\.metadata\.run must have at most 512 characters \(got 60000\)$/],
    [{ 'two\nlines': 'x'.repeat(60_000) }, /^400 body\.metadata\.two\nlines must have at most 512 characters \(got 60000\)$/]
  ]
  for (const [metadata, message] of cases) {
    const err = await clientError(create(metadata), OpenAI.BadRequestError)
    t.match(err.message, message)
    t.match((err.error as { param?: string }).param, /^metadata/)
  }
  const atTheBounds = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]))
  const batch = await create(atTheBounds) as OpenAI.Batch
  t.same(batch.metadata, atTheBounds, 'at the bounds, kept exactly')
})

t.test('an integer beyond 2^53 - 1 written with an exponent is refused as the digits are; ordinary floats pass', async t => {
  const { app } = await localApp(t)
  for (const [written, reads] of [['9.007199254740993e15', '9007199254740992'], ['1e21', '1e+21'], ['-2E+16', '-20000000000000000']]) {
    const body = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: `{"text": "x", "parameters": {"seed": ${written}}}` })
    t.equal(body.statusCode, 400, `${written} in a body: ${body.body}`)
    t.equal(body.json().message, `body.parameters.seed is an integer beyond ±9007199254740991 (2^53 - 1); JSON numbers that large are not kept exactly (it reads as ${reads}): send a number within ±9007199254740991`, 'a seed must stay a number: the advice is the range, not a string')
    const dataset = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: `{"id": ${written}, "text": "One."}\n{"id": 2, "text": "Two."}\n` })
    t.equal(dataset.statusCode, 400, `${written} in a dataset line: ${dataset.body}`)
    t.same(dataset.json().errors, [{ line: 1, message: `line.id is an integer beyond ±9007199254740991 (2^53 - 1); JSON numbers that large are not kept exactly (it reads as ${reads}): send it as a string` }])
  }
  const floats = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: '{"text": "x", "parameters": {"temperature": 0.5, "top_p": 1e-3, "seed": 1.5e2}}' })
  t.equal(floats.statusCode, 200, `0.5, 1e-3 and 1.5e2 pass: ${floats.body}`)
  const lines = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"id": 1.5e2, "text": "One.", "parameters": {"top_p": 1e-3}}\n{"id": 2, "text": "Two.", "parameters": {"temperature": 0.5}}\n' })
  t.equal(lines.statusCode, 201, `floats in lines pass: ${lines.body}`)
})
