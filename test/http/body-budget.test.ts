// Request-body budgets over real sockets: memory (BODY_BYTES_IN_FLIGHT_MAX) and time
// (BODY_TIMEOUT_MS, DATASET_MIN_BYTES_PER_SECOND), with budgets small enough to run in seconds.
import { request, type ClientRequest } from 'node:http'
import t from 'tap'
import { listeningApp } from '../helpers/local-app.js'

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** Opens a POST and returns it unsent; `answer` resolves with the response, or status -1 when the connection closes without one. */
function open (url: string, headers: Record<string, string | number>): { req: ClientRequest, answer: Promise<Answer> } {
  const req = request(url, { method: 'POST', headers, agent: false })
  const answer = new Promise<Answer>(resolve => {
    req.on('response', res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      res.on('error', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', () => { resolve({ status: -1, headers: {}, body: '' }) })
  })
  req.flushHeaders()
  return { req, answer }
}

/** Resolves with `promise`, or rejects after `ms` naming `what` (a budget that never acts must fail, not hang). */
async function within<T> (ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: nothing after ${ms} ms`)) }, ms) })
  try { return await Promise.race([promise, timeout]) } finally { clearTimeout(timer) }
}

/** A JSON body of exactly `bytes` bytes that /v1/evaluate refuses quickly (an unknown key). */
const jsonOf = (bytes: number): string => {
  const head = '{"predictions": [], "references": [], "padding": "'
  return head + 'x'.repeat(bytes - head.length - 2) + '"}'
}

t.test('memory: a body that does not fit the budget is refused with 503 BODIES_BUSY before it is read; the budget frees after', async t => {
  const { url } = await listeningApp(t, { BODY_BYTES_IN_FLIGHT_MAX: 400_000 })
  const evaluate = `${url}/v1/evaluate`
  const big = jsonOf(300_000)

  const first = open(evaluate, { 'content-type': 'application/json', 'content-length': big.length })
  first.req.write(big.slice(0, 1000)) // 300 KB reserved, 1 KB sent, the rest held back

  const second = open(evaluate, { 'content-type': 'application/json', 'content-length': big.length })
  // not a byte of its body is sent: the answer comes from the headers alone
  const refused = await within(10_000, 'second body', second.answer)
  t.equal(refused.status, 503)
  t.equal(JSON.parse(refused.body).code, 'BODIES_BUSY')
  t.match(JSON.parse(refused.body).message, /BODY_BYTES_IN_FLIGHT_MAX 400000 bytes; this one \(300000 bytes\) does not fit/)
  t.equal(refused.headers['retry-after'], '2')
  t.equal(refused.headers.connection, 'close')
  second.req.destroy()

  // a chunked body is counted as its bytes arrive: admitted while it fits, refused once it does not
  const chunked = open(evaluate, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
  for (let i = 0; i < 6; i++) chunked.req.write('x'.repeat(50_000))
  const chunkedAnswer = await within(10_000, 'chunked body', chunked.answer)
  t.equal(chunkedAnswer.status, 503)
  t.equal(JSON.parse(chunkedAnswer.body).code, 'BODIES_BUSY')
  chunked.req.destroy()

  first.req.end(big.slice(1000))
  const firstAnswer = await within(10_000, 'first body', first.answer)
  t.equal(firstAnswer.status, 400, 'the first body was read and validated')
  t.match(JSON.parse(firstAnswer.body).message, /unknown key "padding"/)

  const third = open(evaluate, { 'content-type': 'application/json', 'content-length': big.length })
  third.req.end(big)
  t.equal((await within(10_000, 'third body', third.answer)).status, 400, 'the budget is free again')

  const never = open(evaluate, { 'content-type': 'application/json', 'content-length': 500_000 })
  const tooLarge = await within(10_000, 'oversized body', never.answer)
  t.equal(tooLarge.status, 413, 'a body larger than the whole budget can never fit: 413, not a retry forever')
  t.equal(JSON.parse(tooLarge.body).code, 'BODY_TOO_LARGE')
  never.req.destroy()
})

t.test('time: a JSON body trickling past BODY_TIMEOUT_MS gets 408 REQUEST_TIMEOUT and its connection closed', async t => {
  const { url } = await listeningApp(t, { BODY_TIMEOUT_MS: 500 })
  const slow = open(`${url}/v1/summarize`, { 'content-type': 'application/json', 'content-length': 1000 })
  const trickle = setInterval(() => { slow.req.write(' ') }, 100)
  t.teardown(() => { clearInterval(trickle) })
  const answer = await within(15_000, 'trickling JSON body', slow.answer)
  clearInterval(trickle)
  t.equal(answer.status, 408)
  t.equal(JSON.parse(answer.body).code, 'REQUEST_TIMEOUT')
  t.match(JSON.parse(answer.body).message, /did not arrive within BODY_TIMEOUT_MS \(500 ms\)/)
  t.equal(answer.headers.connection, 'close')
  slow.req.destroy()
  const fast = await fetch(`${url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'A normal body arrives at once.' }) })
  t.equal(fast.status, 200)
})

t.test('time: four trickling uploads hold every slot only until they fall below DATASET_MIN_BYTES_PER_SECOND', async t => {
  const windowMs = 500
  const { url } = await listeningApp(t, { DATASET_UPLOADS_MAX: 4, DATASET_MIN_BYTES_PER_SECOND: 200, DATASET_RATE_WINDOW_MS: windowMs })
  const datasets = `${url}/v1/datasets`
  const ndjson = { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' }
  const started = Date.now()
  const tricklers = Array.from({ length: 4 }, () => open(datasets, ndjson))
  const timers = tricklers.map(({ req }) => setInterval(() => { req.write('{') }, 100)) // 10 B/s
  t.teardown(() => { timers.forEach(clearInterval) })
  await new Promise(resolve => setTimeout(resolve, 150))

  const busy = await fetch(datasets, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"id": 1, "text": "Turned away."}\n' })
  t.equal(busy.status, 503, 'the four tricklers hold every slot')
  t.equal((await busy.json() as { code: string }).code, 'UPLOADS_BUSY')

  const answers = await within(20_000, 'trickling uploads', Promise.all(tricklers.map(async u => await u.answer)))
  const cutAfter = Date.now() - started
  timers.forEach(clearInterval)
  for (const answer of answers) {
    t.ok(answer.status === 408 || answer.status === -1, `a trickler is cut (${answer.status})`)
    if (answer.status === 408) t.match(JSON.parse(answer.body).message, /below DATASET_MIN_BYTES_PER_SECOND \(200\)/)
  }
  t.ok(cutAfter >= windowMs, `not before the grace window (${cutAfter} ms)`)

  const normal = await fetch(datasets, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"id": 1, "text": "Now there is room."}\n' })
  t.equal(normal.status, 201, 'the slots are free again')
})

t.test('time: four trickling file uploads (multipart) are cut like trickling datasets, freeing their slots', async t => {
  const windowMs = 500
  const key = 'trickle-key'
  const { url } = await listeningApp(t, { API_KEYS: `a:${key}`, DATASET_UPLOADS_MAX: 4, DATASET_MIN_BYTES_PER_SECOND: 200, DATASET_RATE_WINDOW_MS: windowMs })
  const files = `${url}/v1/files`
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'multipart/form-data; boundary=b', 'transfer-encoding': 'chunked' }
  const line = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: 'x' } })
  const started = Date.now()
  const tricklers = Array.from({ length: 4 }, () => open(files, headers))
  // the form's head and a first line arrive at once (more than a socket buffer, as the hang
  // needed), then the file trickles at 10 B/s
  for (const { req } of tricklers) req.write('--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n' + `${line}\n`.repeat(300))
  const timers = tricklers.map(({ req }) => setInterval(() => { req.write(' ') }, 100))
  t.teardown(() => { timers.forEach(clearInterval) })
  await new Promise(resolve => setTimeout(resolve, 150))

  const form = new FormData()
  form.append('purpose', 'batch')
  form.append('file', new Blob([JSON.stringify({ custom_id: '1', method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: 'Turned away.' } }) + '\n']), 'in.jsonl')
  const busy = await fetch(files, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form })
  t.equal(busy.status, 503, 'the four tricklers hold every slot')
  t.equal((await busy.json() as { error: { code: string } }).error.code, 'uploads_busy')

  const answers = await within(20_000, 'trickling file uploads', Promise.all(tricklers.map(async u => await u.answer)))
  const cutAfter = Date.now() - started
  timers.forEach(clearInterval)
  for (const answer of answers) {
    t.ok(answer.status === 408 || answer.status === -1, `a trickler is cut (${answer.status})`)
    if (answer.status === 408) t.match(JSON.parse(answer.body).error.message, /below DATASET_MIN_BYTES_PER_SECOND \(200\)/)
  }
  t.ok(cutAfter >= windowMs, `not before the grace window (${cutAfter} ms)`)
  const normal = await fetch(files, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form })
  t.equal(normal.status, 200, 'the slots are free again')
})

t.test('a fast upload spanning many windows and S3 part uploads is never cut', async t => {
  // 24 MB: three 8 MiB multipart parts, so the gateway pauses reading while parts upload;
  // windows in which it held unread bytes are not held against the caller
  const { url } = await listeningApp(t, { DATASET_MIN_BYTES_PER_SECOND: 1000, DATASET_RATE_WINDOW_MS: 100 })
  const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: i, text: `Line ${i} ` + 'words '.repeat(16_000) })).join('\n') + '\n'
  const res = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines })
  const text = await res.text()
  t.equal(res.status, 201, text.slice(0, 200))
})
