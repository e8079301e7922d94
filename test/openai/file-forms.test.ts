// POST /v1/files as a multipart form over real sockets: files larger than a socket buffer
// (16 KiB; every earlier test sent a few lines), and forms that are broken in the ways clients
// and proxies break them. OpenAI's upload: https://platform.openai.com/docs/api-reference/files/create
// (multipart/form-data, fields `file` and `purpose`). A broken form is the caller's error: a
// 4xx naming the problem, never a 500 (clients retry 5xx).
import { request } from 'node:http'
import t from 'tap'
import { toFile } from 'openai'
import { listeningApp } from '../helpers/local-app.js'
import { batchLine, openAiClient } from '../helpers/openai.js'
import { listKeys } from '../helpers/jobs.js'
import { S3Layout } from '../../src/jobs/layout.js'

const KEY = 'forms-key'
const line = (i: number, words = 8): string => batchLine(`r-${i}`, { model: 'flan-t5-local', prompt: `Request ${i}: ` + 'the river rose overnight '.repeat(words) })

/** The JSONL text of `count` requests. */
const jsonl = (count: number, words = 8): string => Array.from({ length: count }, (_, i) => line(i, words)).join('\n') + '\n'

/** A multipart body built by hand (the parts given as raw text between delimiters). */
function form (boundary: string, parts: string[], closing = true): string {
  return parts.map(p => `--${boundary}\r\n${p}\r\n`).join('') + (closing ? `--${boundary}--\r\n` : '')
}
const filePart = (content: string, filename: string | null = 'in.jsonl', name = 'file'): string =>
  `Content-Disposition: form-data; name="${name}"${filename !== null ? `; filename="${filename}"` : ''}\r\nContent-Type: application/jsonl\r\n\r\n${content}`
const fieldPart = (name: string, value: string): string => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`

interface Answer { status: number, body: { error?: { message: string, code: string, param?: string | null } } }

/** POSTs `body` whole with `contentType` to /v1/files; resolves with the answer (rejects if none within 20 s). */
async function post (url: string, contentType: string, body: string): Promise<Answer> {
  return await new Promise<Answer>((resolve, reject) => {
    const req = request(`${url}/v1/files`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': contentType, 'content-length': Buffer.byteLength(body) } })
    const timer = setTimeout(() => { req.destroy(); reject(new Error('no answer within 20 s')) }, 20_000)
    req.on('response', res => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }) })
    })
    req.on('error', err => { clearTimeout(timer); reject(err) })
    req.end(body)
  })
}

t.test('a file larger than a socket buffer is stored whole (it used to hang past ~16 KiB)', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const client = openAiClient(url, KEY)
  for (const count of [100, 400]) {
    const text = jsonl(count)
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose: 'batch' })
    t.equal(file.bytes, Buffer.byteLength(text), `${Buffer.byteLength(text)} bytes stored`)
    t.equal(await (await client.files.content(file.id)).text(), text, 'content as uploaded')
  }
  // the same form built by hand over a plain socket, 64 KiB and more
  const text = jsonl(600)
  t.ok(text.length > 64 * 1024)
  const answer = await post(url, 'multipart/form-data; boundary=b0und', form('b0und', [fieldPart('purpose', 'batch'), filePart(text)]))
  t.equal(answer.status, 200, JSON.stringify(answer.body))
})

t.test('a broken form is a 400 naming what is wrong, never a 500', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const good = jsonl(3)
  const big = jsonl(400) // past the socket buffers: the break comes while the file streams
  const cases: Array<[string, string, string, RegExp, string | undefined]> = [
    ['no boundary', 'multipart/form-data', form('x', [fieldPart('purpose', 'batch'), filePart(good)]), /content-type "multipart\/form-data" has no boundary parameter/, undefined],
    ['a wrong boundary', 'multipart/form-data; boundary=other', form('x', [fieldPart('purpose', 'batch'), filePart(good)]), /no part delimited by boundary "other".*the boundary is wrong/, undefined],
    ['an empty form', 'multipart/form-data; boundary=x', '', /no part delimited by boundary "x"/, undefined],
    ['cut short in the file', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), filePart(big)]).slice(0, 40_000), /cut short/, undefined],
    ['cut short before the closing delimiter', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), filePart(good)], false), /cut short/, undefined],
    ['a file part without a filename', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), filePart(big, null)]), /form field "file" has no filename: send it as a file part/, 'file'],
    ['a field named __proto__', 'multipart/form-data; boundary=x', form('x', [fieldPart('__proto__', 'batch'), filePart(good)]), /form field "__proto__" is not supported; send file and purpose/, '__proto__'],
    ['a field named constructor', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), fieldPart('constructor', 'x'), filePart(good)]), /form field "constructor" is not supported; send file and purpose/, 'constructor'],
    ['a file under __proto__', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), filePart(good, 'a.jsonl', '__proto__')]), /form file field "__proto__" is not supported; send the file as field "file"/, '__proto__'],
    ['two files', 'multipart/form-data; boundary=x', form('x', [fieldPart('purpose', 'batch'), filePart(good), filePart(good, 'b.jsonl')]), /too many parts/, undefined]
  ]
  for (const [what, contentType, body, message, param] of cases) {
    const answer = await post(url, contentType, body)
    t.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`)
    t.match(answer.body.error?.message, message, what)
    t.equal(answer.body.error?.code, 'invalid_request', what)
    if (param !== undefined) t.equal(answer.body.error?.param, param, `${what}: param`)
  }
  const listed = await openAiClient(url, KEY).files.list()
  t.same(listed.data, [], 'nothing was stored')
})

t.test('a caller that goes away mid-file frees its upload slot; nothing is stored', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}`, DATASET_UPLOADS_MAX: 1 })
  const head = '--x\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--x\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n'
  const req = request(`${url}/v1/files`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': 10_000_000 } })
  req.on('error', () => {})
  req.write(head + jsonl(400))
  await new Promise(resolve => setTimeout(resolve, 300))
  req.destroy()
  // the slot is free again within a few seconds (it used to wait on a body that would never end)
  const body = form('x', [fieldPart('purpose', 'batch'), filePart(jsonl(3))])
  let answer: Answer | undefined
  for (const until = Date.now() + 10_000; Date.now() < until;) {
    answer = await post(url, 'multipart/form-data; boundary=x', body)
    if (answer.status !== 503) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(answer?.status, 200, JSON.stringify(answer?.body))
  const listed = await openAiClient(url, KEY).files.list()
  t.equal(listed.data.length, 1, 'only the complete upload was stored')
})

t.test('a form refused after its file was stored keeps nothing: not listed, no S3 objects', async t => {
  const { url, stack, config } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const layout = new S3Layout(stack.s3.bucket, config.S3_PREFIX)
  const cases: Array<[string, string, RegExp]> = [
    ['a field after the file', form('x', [fieldPart('purpose', 'batch'), filePart(jsonl(3), 'd.jsonl'), fieldPart('foo', 'x')]), /form field "foo" is not supported/],
    ['cut short after the file', form('x', [fieldPart('purpose', 'batch'), filePart(jsonl(3), 'd.jsonl')], false) + '--x\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbat', /cut short/]
  ]
  for (const [what, body, message] of cases) {
    const answer = await post(url, 'multipart/form-data; boundary=x', body)
    t.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`)
    t.match(answer.body.error?.message, message, what)
  }
  const listed = await openAiClient(url, KEY).files.list()
  t.same(listed.data.map(f => f.filename), [], 'no file is listed')
  t.same(await listKeys(stack, layout.tenantFilesRoot('a')), [], 'no file content object')
  t.same(await listKeys(stack, layout.fileInfoRoot), [], 'no file info object')
})

t.test('a body that is not a multipart form is refused on its headers with a 415, unread', async t => {
  const { url, app } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  for (const contentType of ['application/json', 'text/plain; charset=utf-8']) {
    // headers promising 1 MB and not a byte of it: only an answer decided before the body can arrive
    const answer = await new Promise<{ status: number, body: Answer['body'] }>((resolve, reject) => {
      const req = request(`${url}/v1/files`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': contentType, 'content-length': 1_000_000 } })
      const timer = setTimeout(() => { req.destroy(); reject(new Error('no answer within 20 s')) }, 20_000)
      req.on('response', res => {
        let text = ''
        res.on('data', (c: Buffer) => { text += c.toString() })
        res.on('end', () => { clearTimeout(timer); req.destroy(); resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }) })
      })
      req.on('error', err => { clearTimeout(timer); reject(err) })
      req.flushHeaders()
    })
    t.equal(answer.status, 415, `${contentType}: ${JSON.stringify(answer.body)}`)
    t.equal(answer.body.error?.message, `content-type ${JSON.stringify(contentType)} is not accepted here; send multipart/form-data with fields file and purpose`)
  }
  t.equal(app.bodyBudget.used, 0, 'no body bytes held')
})
