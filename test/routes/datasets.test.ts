import { request } from 'node:http'
import { Readable } from 'node:stream'
import t from 'tap'
import { localApp, listeningApp } from '../helpers/local-app.js'
import { heldUpload } from '../helpers/http.js'
import { listKeys, readObject } from '../helpers/jobs.js'

const NDJSON = { 'content-type': 'application/x-ndjson' }

t.test('a dataset is stored as JumpStart JSON Lines with the prompt prepended to text', async t => {
  const { app, stack } = await localApp(t)
  const body = [
    '{"id": 1, "text": "The river rose.", "parameters": {"max_length": 20}}',
    '',
    '{"id": "two", "text_inputs": "Translate: hello", "num_beams": 2}\r',
    '{"id": 3, "text": "Third."}'
  ].join('\n')
  const res = await app.inject({ method: 'POST', url: '/v1/datasets?prompt=Summarize%3A%20', headers: NDJSON, payload: body })
  t.equal(res.statusCode, 201, res.body)
  const created = res.json()
  t.match(created.s3Uri, /^s3:\/\/text2text-local\/text2text-gateway\/datasets\/default\/[0-9a-f]{64}\.jsonl$/)
  t.equal(created.records, 3, 'the blank line is skipped')
  const stored = await readObject(stack, created.s3Uri)
  t.equal(stored, [
    '{"id":1,"text_inputs":"Summarize: The river rose.","max_length":20}',
    '{"id":"two","text_inputs":"Translate: hello","num_beams":2}',
    '{"id":3,"text_inputs":"Summarize: Third."}',
    ''
  ].join('\n'))
  t.equal(created.bytes, Buffer.byteLength(stored))
})

t.test('datasets are named by their content: the same bytes twice give one object and one s3Uri', async t => {
  const { app, stack } = await localApp(t)
  const body = '{"id": 1, "text": "Same words."}\n{"id": 2, "text": "Again the same."}\n'
  const upload = async (payload: string, url = '/v1/datasets'): Promise<{ s3Uri: string }> => {
    const res = await app.inject({ method: 'POST', url, headers: NDJSON, payload })
    t.equal(res.statusCode, 201, res.body)
    return res.json()
  }
  const first = await upload(body)
  const second = await upload(body)
  t.equal(second.s3Uri, first.s3Uri, 'same content, same URI')
  const other = await upload(body, '/v1/datasets?prompt=P%3A%20')
  t.not(other.s3Uri, first.s3Uri, 'a different prompt stores different bytes')
  const keys = await listKeys(stack, 'text2text-gateway/datasets/')
  t.equal(keys.length, 2, 'no staged upload is left behind')
})

t.test('bad lines: 400 listing each with its 1-based line number, and nothing kept', async t => {
  const { app, stack } = await localApp(t)
  const body = [
    '{"id": "a", "text": "ok"}',
    '{"id": "a", "text": "again"}',
    'not json',
    '{"id": "b", "text": ""}',
    '{"id": "c", "text": "x", "parameters": {"num_beams": 40}}',
    '{"id": "d", "text": "x", "parameters": {"beams": 2}}',
    '[1]',
    '{"text": "no id"}',
    '{"id": 7, "text": "fine"}'
  ].join('\n') + '\n'
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: NDJSON, payload: body })
  t.equal(res.statusCode, 400, res.body)
  const err = res.json()
  t.equal(err.code, 'DATASET_INVALID')
  t.equal(err.error, 'Bad Request')
  t.equal(err.invalidLines, 7)
  t.match(err.message, /7 lines are invalid; nothing was stored\. line 2: line\.id "a" is duplicated \(first on line 1\)/)
  t.same(err.errors.map((e: { line: number }) => e.line), [2, 3, 4, 5, 6, 7, 8])
  t.match(err.errors[1].message, /line is not valid JSON/)
  t.match(err.errors[2].message, /line\.text must not be empty/)
  t.match(err.errors[3].message, /line\.parameters\.num_beams must be <= 16 \(got 40\)/)
  t.match(err.errors[4].message, /line\.parameters has unknown key "beams"; allowed keys: max_length/)
  t.match(err.errors[5].message, /line must be a JSON object \(got \[1\]\)/)
  t.match(err.errors[6].message, /line\.id is required/)
  t.same(await listKeys(stack, ''), [], 'the bucket is empty')
})

t.test('at most 100 bad lines are listed; invalidLines counts them all', async t => {
  const { app } = await localApp(t)
  const body = Array.from({ length: 250 }, (_, i) => `{"id": ${i}}`).join('\n')
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: NDJSON, payload: body })
  t.equal(res.statusCode, 400)
  t.equal(res.json().errors.length, 100)
  t.equal(res.json().invalidLines, 250)
  t.equal(res.json().errors[99].line, 100)
})

t.test('an empty dataset is a 400; so is one with only blank lines', async t => {
  const { app, stack } = await localApp(t)
  for (const payload of ['', '\n\n  \n']) {
    const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: NDJSON, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().code, 'DATASET_INVALID')
    t.match(res.json().message, /no records/)
  }
  t.same(await listKeys(stack, ''), [])
})

t.test('only NDJSON is accepted', async t => {
  const { app } = await localApp(t)
  let res = await app.inject({ method: 'POST', url: '/v1/datasets', payload: { id: 1, text: 'x' } })
  t.equal(res.statusCode, 415)
  t.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  t.match(res.json().message, /"application\/json" is not accepted here; send application\/x-ndjson/)
  res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/jsonlines' }, payload: '{"id":1,"text":"x"}\n' })
  t.equal(res.statusCode, 201, 'the JSON Lines alias')
  res = await app.inject({ method: 'POST', url: '/v1/datasets?promt=x', headers: NDJSON, payload: '{"id":1,"text":"x"}\n' })
  t.equal(res.statusCode, 400)
  t.match(res.json().message, /unknown key "promt"/)
})

/** An NDJSON stream of `records` lines of about 1 KiB each, generated as it is read. */
function bigDataset (records: number, badAt?: number): Readable {
  const filler = 'lorem ipsum dolor sit amet '.repeat(38)
  let i = 0
  return new Readable({
    read () {
      for (let n = 0; n < 256 && i < records; n++, i++) {
        const line = i === badAt ? '{"id": "oops"' : JSON.stringify({ id: i, text: `Record ${i}. ${filler}` })
        this.push(line + '\n')
      }
      if (i >= records) this.push(null)
    }
  })
}

/** POSTs a stream over node:http (which honours backpressure) and parses the JSON reply. */
async function upload (url: string, body: Readable): Promise<{ status: number, json: Record<string, unknown> }> {
  return await new Promise((resolve, reject) => {
    const req = request(`${url}/v1/datasets`, { method: 'POST', headers: NDJSON }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }) })
    })
    req.on('error', reject)
    body.pipe(req)
  })
}

t.test('a large upload goes up in multipart parts and every record arrives', async t => {
  // memory flatness is measured without S3 in the way: test/sagemaker/datasets.test.ts
  const { url, stack } = await listeningApp(t)
  const records = 20_000 // ~21 MB: three 8 MiB parts
  const res = await upload(url, bigDataset(records))
  t.equal(res.status, 201, JSON.stringify(res.json))
  t.equal(res.json.records, records)
  const stored = await readObject(stack, res.json.s3Uri as string)
  t.equal(Buffer.byteLength(stored), res.json.bytes)
  const lines = stored.split('\n')
  t.equal(lines.length, records + 1)
  t.match(JSON.parse(lines[records - 1] as string), { id: records - 1, text_inputs: /^Record 19999\. lorem/ })
})

t.test('a bad line after several multipart parts aborts the upload: nothing is kept', async t => {
  const { url, stack } = await listeningApp(t)
  const res = await upload(url, bigDataset(30_000, 29_990))
  t.equal(res.status, 400)
  t.equal(res.json.code, 'DATASET_INVALID')
  t.same(res.json.errors, [{ line: 29_991, message: (res.json.errors as Array<{ message: string }>)[0]?.message }])
  t.match((res.json.errors as Array<{ message: string }>)[0]?.message, /not valid JSON/)
  t.same(await listKeys(stack, ''), [], 'no dataset object, no info object')
})

t.test('a line longer than 16 MiB is reported, not buffered', async t => {
  const { app, stack } = await localApp(t)
  const payload = '{"id": 1, "text": "ok"}\n{"id": 2, "text": "' + 'x'.repeat(17 * 1024 * 1024) + '"}\n{"id": 3, "text": "ok"}\n'
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: NDJSON, payload })
  t.equal(res.statusCode, 400)
  t.same(res.json().errors, [{ line: 2, message: `line is ${17 * 1024 * 1024 + 21} bytes; the limit is 16777216` }])
  t.same(await listKeys(stack, ''), [])
})

t.test('a client that goes away mid-upload leaves nothing behind', async t => {
  const { url, stack } = await listeningApp(t)
  await new Promise<void>(resolve => {
    const req = request(`${url}/v1/datasets`, { method: 'POST', headers: NDJSON })
    req.on('error', () => { resolve() })
    req.on('close', () => { resolve() })
    const filler = 'y'.repeat(1000)
    for (let i = 0; i < 10_000; i++) req.write(JSON.stringify({ id: i, text: filler }) + '\n')
    setTimeout(() => { req.destroy() }, 200)
  })
  // give the server a moment to notice and abort the multipart upload
  await new Promise(resolve => setTimeout(resolve, 500))
  t.same(await listKeys(stack, ''), [])
  const after = await fetch(`${url}/health`)
  t.equal(after.status, 200, 'the gateway carries on')
})

t.test('uploads beyond DATASET_UPLOADS_MAX are turned away at once with 503 and Retry-After', async t => {
  const { url, stack } = await listeningApp(t, { DATASET_UPLOADS_MAX: 1 })
  // the first upload streams one line and stays open
  const first = heldUpload(url, '{"id": 1, "text": "The first upload is still streaming."}')
  // ask until the gateway has taken the first upload in; one that wins the race is stored
  // under the same content name as the third below, so it adds no object
  const busy = async (): Promise<Response> => await fetch(`${url}/v1/datasets`, { method: 'POST', headers: NDJSON, body: '{"id": 9, "text": "Second."}\n' })
  let second = await busy()
  for (let i = 0; i < 50 && second.status !== 503; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    second = await busy()
  }
  t.equal(second.status, 503)
  t.equal(second.headers.get('retry-after'), '5')
  const error = await second.json() as { code: string, message: string }
  t.equal(error.code, 'UPLOADS_BUSY')
  t.match(error.message, /1 dataset uploads are in progress \(limit 1, DATASET_UPLOADS_MAX\)/)

  const done = await first.finish('{"id": 2, "text": "Now it ends."}')
  t.equal(done.status, 201, done.body)
  t.equal(JSON.parse(done.body).records, 2, 'the open upload was not disturbed')
  const third = await busy()
  t.equal(third.status, 201, 'a slot is free again once the upload ended')
  t.equal((await listKeys(stack, 'text2text-gateway/datasets/')).length, 2)
})
