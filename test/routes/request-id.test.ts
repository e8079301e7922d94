// x-request-id on every response, the id the logs carry as reqId. OpenAI's API reference,
// "Debugging requests" (https://platform.openai.com/docs/api-reference/debugging-requests): every
// response has an `x-request-id` header, and the official clients expose it as `_request_id`.
import { Writable } from 'node:stream'
import t from 'tap'
import { listeningApp } from '../helpers/local-app.js'
import { openAiClient } from '../helpers/openai.js'

const KEY = 'request-id-key'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('every answer carries x-request-id, the reqId of its log lines; the openai client exposes it', async t => {
  const raw: string[] = []
  const logs = new Writable({ write (chunk, _enc, cb) { raw.push(String(chunk)); cb() } })
  // at debug every request writes its own `request completed` line (at info only 4xx/5xx do)
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}`, LOG_LEVEL: 'debug' }, {}, logs)
  const client = openAiClient(url, KEY)

  const { data, request_id: requestId, response } = await client.completions.create({ model: 'flan-t5-local', prompt: 'The tide came in early. Boats waited.' }).withResponse()
  t.match(requestId, UUID, 'the client reads the id from the response')
  t.equal(response.headers.get('x-request-id'), requestId)
  t.equal((data as unknown as { _request_id?: string })._request_id, requestId, '…and exposes it as _request_id')

  const answers = await Promise.all([
    fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } }), // 200
    fetch(`${url}/v1/models`), // 401 from the auth hook
    fetch(`${url}/v1/summarize`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{"text": ' }), // 400 from the parser
    fetch(`${url}/no/such/route`), // 404
    fetch(`${url}/health`)
  ])
  const ids = answers.map(res => res.headers.get('x-request-id'))
  for (const [i, id] of ids.entries()) t.match(id, UUID, `answer ${i} (${answers[i]?.status ?? 0})`)
  t.same(answers.map(a => a.status), [200, 401, 400, 404, 200])
  t.equal(new Set([requestId, ...ids]).size, 6, 'one id per request')

  // the ids are the logs' own: each answer's id is the reqId of its request's log lines
  await new Promise(resolve => setTimeout(resolve, 50))
  const lines = raw.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { reqId?: string, msg: string, res?: { statusCode: number } })
  for (const id of [requestId, ...ids]) {
    t.ok(lines.some(l => l.reqId === id && l.msg === 'request completed'), `the log has request ${String(id)}`)
  }

  const sent = await fetch(`${url}/health`, { headers: { 'x-request-id': 'caller-chosen' } })
  t.not(sent.headers.get('x-request-id'), 'caller-chosen', 'an id a caller sends is not taken: ids are the gateway\'s')
})
