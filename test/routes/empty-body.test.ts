// An empty body sent with `content-type: application/json` is no body at all on a route that
// takes none: the Python `openai` client sends exactly that on `batches.cancel()` and
// `files.delete()` (its default headers carry the content type on every request), and so does
// any client that sets the header always. A route that takes a body still refuses an empty one,
// with a 400 that says so. Both sides are walked over every operation of the served OpenAPI
// document, so a new route is covered without a line here.
import t from 'tap'
import { localApp } from '../helpers/local-app.js'

const ADMIN = 'empty-body-admin'

interface Operation { requestBody?: { content?: Record<string, unknown> } }

/** The error code and message of an answer in either error shape (the gateway's, OpenAI's). */
function errorOf (body: string): { code?: string, message?: string } {
  try {
    const parsed = JSON.parse(body) as { code?: string, message?: string, error?: string | { code: string, message: string } }
    return typeof parsed.error === 'object' ? { code: parsed.error.code.toUpperCase(), message: parsed.error.message } : { code: parsed.code, message: parsed.message }
  } catch {
    return {}
  }
}

t.test('every route without a body schema accepts an empty JSON body; every route with a JSON body refuses it with a 400', async t => {
  const { app } = await localApp(t, { ADMIN_API_KEYS: `ops:${ADMIN}` })
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, Operation>> }>()
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({
    method: method.toUpperCase() as 'GET' | 'POST' | 'DELETE',
    // well-formed ids of resources that do not exist: the answer is the route's own (404), never the parser's
    url: path.replace('{file_id}', 'file-00000000000000000000000000000000').replace('{batch_id}', 'batch_00000000000000000000000000000000').replace(/\{[^}]+\}/g, 'no-such-thing'),
    takesJson: op.requestBody?.content?.['application/json'] !== undefined,
    takesBody: op.requestBody !== undefined
  })))
  const bodiless = operations.filter(o => !o.takesBody)
  t.ok(bodiless.some(o => o.method === 'DELETE') && bodiless.some(o => o.method === 'POST'), `routes without a body: ${bodiless.map(o => `${o.method} ${o.url}`).join(', ')}`)
  for (const op of bodiless) {
    // as the Python client sends it (content-length: 0), and chunked with no bytes
    for (const framing of [{ 'content-length': '0' }, { 'transfer-encoding': 'chunked' }]) {
      const res = await app.inject({ method: op.method, url: op.url, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...framing }, payload: '' })
      const label = `${op.method} ${op.url} (${Object.keys(framing)[0] ?? ''})`
      const error = errorOf(res.body)
      // the route's own answer (200, or 404 for the made-up id), never the parser's refusal
      t.ok(error.code !== 'INVALID_JSON' && res.statusCode !== 415 && res.statusCode < 500, `${label}: ${res.statusCode} ${error.message ?? ''}`)
    }
  }
  const withJson = operations.filter(o => o.takesJson)
  t.ok(withJson.length >= 5)
  for (const op of withJson) {
    const res = await app.inject({ method: op.method, url: op.url, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-length': '0' }, payload: '' })
    const label = `${op.method} ${op.url}`
    t.match({ status: res.statusCode, ...errorOf(res.body) }, { status: 400, code: 'INVALID_JSON', message: /^body is empty; POST \/v1\/\S+ takes a JSON object$/ }, label)
  }
})

t.test('cancelling a batch and deleting a file with the Python client\'s headers work', async t => {
  const { app } = await localApp(t, { ADMIN_API_KEYS: `ops:${ADMIN}` })
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-length': '0' }
  const boundary = 'pyform'
  const line = JSON.stringify({ custom_id: '1', method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: 'The tide came in early.' } })
  const form = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n${line}\n\r\n--${boundary}--\r\n`
  const upload = await app.inject({ method: 'POST', url: '/v1/files', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: form })
  t.equal(upload.statusCode, 200, upload.body)
  const file = upload.json<{ id: string }>()
  const created = await app.inject({ method: 'POST', url: '/v1/batches', headers: { authorization: `Bearer ${ADMIN}` }, payload: { input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' } })
  t.equal(created.statusCode, 200, created.body)
  const cancel = await app.inject({ method: 'POST', url: `/v1/batches/${created.json<{ id: string }>().id}/cancel`, headers, payload: '' })
  t.equal(cancel.statusCode, 200, cancel.body)
  t.match(cancel.json(), { object: 'batch', status: /^(cancelling|cancelled|completed)$/ })
  const deleted = await app.inject({ method: 'DELETE', url: `/v1/files/${file.id}`, headers, payload: '' })
  t.equal(deleted.statusCode, 200, deleted.body)
  t.same(deleted.json(), { id: file.id, object: 'file', deleted: true })
})
