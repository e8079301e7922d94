// What the logs say about refusals and failures: 4xx at info and expected 503s at warn, both
// without stacks; real 5xx at error with a stack; never an AWS account id, ARN or console URL.
import { PassThrough, Writable } from 'node:stream'
import t from 'tap'
import { localApp } from '../helpers/local-app.js'
import { redactAws, serializeError } from '../../src/util/redact-aws.js'

interface LogLine { level: number, msg: string, code?: string, err?: { stack?: string }, [key: string]: unknown }

const AWS_DETAILS = [/\b\d{12}\b/, /arn:aws/, /console\.aws\.amazon\.com/, /cloudwatch/i]

t.test('4xx at info, expected 503s at warn without stacks, 5xx at error with a stack and no AWS account details', async t => {
  const raw: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { raw.push(String(chunk)); cb() } })
  const { app } = await localApp(t, { LOG_LEVEL: 'info', DATASET_UPLOADS_MAX: 1, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' }, {}, stream)

  // 400
  t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: '{"text": ' })).statusCode, 400)
  // 503 UPLOADS_BUSY: one upload holds the only slot
  const held = new PassThrough()
  held.write('{"id": 1, "text": "Held open."}\n')
  const first = app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: held })
  await new Promise(resolve => setTimeout(resolve, 100))
  const busy = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"id": 1, "text": "x"}\n' })
  t.equal(busy.json().code, 'UPLOADS_BUSY')
  held.end()
  t.equal((await first).statusCode, 201)
  // 502 MODEL_ERROR: SageMaker's ModelError names the account and links CloudWatch
  const model = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'POISON record.' } })
  t.equal(model.statusCode, 502)
  for (const detail of AWS_DETAILS) t.notMatch(model.body, detail, `the 502 body carries no ${String(detail)}`)
  // 503 SHUTTING_DOWN
  app.lifecycle.state = 'draining'
  t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Late.' } })).json().code, 'SHUTTING_DOWN')
  app.lifecycle.state = 'ready'

  const lines = raw.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as LogLine)
  const about = (code: string): LogLine[] => lines.filter(l => l.code === code)
  t.match(about('INVALID_JSON'), [{ level: 30, msg: 'request rejected' }])
  for (const code of ['UPLOADS_BUSY', 'SHUTTING_DOWN']) {
    t.match(about(code), [{ level: 40, msg: 'request refused', statusCode: 503 }], `${code} at warn`)
  }
  const failed = about('MODEL_ERROR')
  t.match(failed, [{ level: 50, msg: 'request failed' }], 'a 502 at error')
  t.match(failed[0]?.err?.stack, /\n\s+at /, 'with a stack')
  for (const line of lines) {
    if (line.level < 50) t.notOk(JSON.stringify(line).includes('"stack"'), `no stack at level ${line.level}: ${line.msg}`)
  }
  const log = raw.join('')
  t.match(log, /<aws-console-url>|<account>|<arn>/, 'the ModelError was logged, redacted')
  for (const detail of AWS_DETAILS) t.notMatch(log, detail, `logs carry no ${String(detail)}`)
})

t.test('redactAws and the err serialiser', async t => {
  const message = 'Received client error (424) from primary with message "boom". See https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#logEventViewer:group=/aws/sagemaker/Endpoints/e in account 123456789012 for more information. arn:aws:logs:us-west-2:123456789012:log-group:/aws/sagemaker/Endpoints/e'
  t.equal(redactAws(message), 'Received client error (424) from primary with message "boom". See <aws-console-url> in account <account> for more information. <arn>')
  t.equal(redactAws('1234567890123 bytes, 12345678901 ms'), '1234567890123 bytes, 12345678901 ms', 'longer and shorter numbers stay')
  const sdk = Object.assign(new Error(message), { name: 'ModelError', LogStreamArn: 'arn:aws:logs:us-west-2:123456789012:x', $metadata: { httpStatusCode: 424 } })
  const wrapped = new Error('the model failed on this input', { cause: sdk })
  const logged = serializeError(wrapped)
  t.equal(logged.cause?.type, 'ModelError')
  t.notMatch(JSON.stringify(logged), /123456789012|console\.aws|LogStreamArn|\$metadata/)
  let chain: Error = new Error('root')
  for (let i = 0; i < 100; i++) chain = new Error(`level ${i}`, { cause: chain })
  let depth = 0
  for (let e: { cause?: unknown } | undefined = serializeError(chain); e !== undefined; e = e.cause as { cause?: unknown } | undefined) depth++
  t.equal(depth, 8, 'a long cause chain is cut')
})

// House style: one line per flush, never one per request; Fastify's own two lines per request
// (`incoming request`, `request completed`) cost a third of the gateway's CPU per request
t.test('at the default level an answered request writes no line of its own; a 4xx or 5xx still does', async t => {
  const capture = (): { stream: Writable, lines: () => LogLine[] } => {
    const raw: string[] = []
    const stream = new Writable({ write (chunk, _enc, cb) { raw.push(String(chunk)); cb() } })
    return { stream, lines: () => raw.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as LogLine) }
  }
  const info = capture()
  const { app } = await localApp(t, { LOG_LEVEL: 'info' }, {}, info.stream)
  const before = info.lines().length
  const ok = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'The council approved the budget. Libraries open on Sundays.' } })
  t.equal(ok.statusCode, 200)
  const perRequest = info.lines().slice(before).filter(l => l.reqId !== undefined)
  t.same(perRequest.map(l => l.msg), [], 'no line carries the request id of a successful request')
  t.same(info.lines().slice(before).map(l => l.msg), ['flush'], 'the flush line, and only it')

  const rejected = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: '' } })
  t.equal(rejected.statusCode, 400)
  const missing = await app.inject({ method: 'GET', url: '/v1/no-such-route' })
  t.equal(missing.statusCode, 404)
  const completed = info.lines().filter(l => l.msg === 'request completed').map(l => ({ level: l.level, status: (l.res as { statusCode?: number } | undefined)?.statusCode }))
  t.same(completed, [{ level: 30, status: 400 }, { level: 30, status: 404 }], 'a 400 and a 404 each get their line at info, with the status')
  t.ok(info.lines().some(l => l.msg === 'request rejected' && l.code === 'INVALID_REQUEST'), 'and the error handler says why the 400')

  const debug = capture()
  const { app: verbose } = await localApp(t, { LOG_LEVEL: 'debug' }, {}, debug.stream)
  t.equal((await verbose.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Rain is expected all week.' } })).statusCode, 200)
  t.match(debug.lines().filter(l => l.reqId !== undefined).map(l => ({ level: l.level, msg: l.msg })),
    [{ level: 20, msg: 'incoming request' }, { level: 20, msg: 'request completed' }], 'at debug the per-request lines are back')
})
