import t from 'tap'
import { Writable } from 'node:stream'
import { keyMatches } from '../../src/security.js'
import { localApp } from '../helpers/local-app.js'
import { createHash } from 'node:crypto'

const TEXT = 'The ferry left at dawn. It reached the island by noon.'

t.test('API keys guard /v1 routes; probes, metrics and docs stay open', async t => {
  const { app } = await localApp(t, { API_KEYS: 'alpha-key, beta-key' })
  const post = async (headers: Record<string, string>) => await app.inject({ method: 'POST', url: '/v1/summarize', headers, payload: { text: TEXT } })
  let res = await post({})
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'UNAUTHORIZED')
  t.equal(res.headers['www-authenticate'], 'Bearer')
  t.match(res.json().message, /missing API key/)
  res = await post({ authorization: 'Bearer gamma-key' })
  t.equal(res.statusCode, 401)
  t.match(res.json().message, /not recognised/)
  t.notMatch(res.body, /alpha|beta|gamma/, 'no key is echoed')
  res = await post({ authorization: 'Basic YWxwaGEta2V5' })
  t.equal(res.statusCode, 401)
  t.equal((await post({ authorization: 'Bearer beta-key' })).statusCode, 200)
  t.equal((await post({ authorization: 'bearer alpha-key' })).statusCode, 200)
  for (const url of ['/health', '/ready', '/metrics', '/docs/json']) {
    t.equal((await app.inject({ url })).statusCode, 200, `${url} needs no key`)
  }
})

t.test('keyMatches compares against every key', async t => {
  const d = (s: string): Buffer => createHash('sha256').update(s).digest()
  t.ok(keyMatches('b', [d('a'), d('b')]))
  t.notOk(keyMatches('c', [d('a'), d('b')]))
  t.notOk(keyMatches('', [d('a')]))
})

t.test('rate limits per key with Retry-After; probes are never limited', async t => {
  const { app } = await localApp(t, { API_KEYS: 'k1,k2', RATE_LIMIT_MAX: 2 })
  const post = async (key: string) => await app.inject({ method: 'POST', url: '/v1/summarize', headers: { authorization: `Bearer ${key}` }, payload: { text: TEXT } })
  t.equal((await post('k1')).statusCode, 200)
  t.equal((await post('k1')).statusCode, 200)
  const limited = await post('k1')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After in seconds')
  t.equal((await post('k2')).statusCode, 200, 'another key has its own budget')
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/health' })).statusCode, 200)
})

t.test('security headers are set', async t => {
  const { app } = await localApp(t)
  const res = await app.inject({ url: '/health' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.ok(res.headers['strict-transport-security'])
})

t.test('logs at info carry no keys, credentials or texts', async t => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const { app } = await localApp(t, { LOG_LEVEL: 'info', API_KEYS: 'super-secret-key', LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' }, {}, stream)
  const headers = { authorization: 'Bearer super-secret-key' }
  t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', headers, payload: { text: 'Confidential merger text about Zanzibar Holdings.', prompt: 'Private prompt words: ' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/v1/generate', headers, payload: { text_inputs: ['Fine text.', 'POISON Zanzibar secret.'] } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', headers: { authorization: 'Bearer wrong-secret-key' }, payload: { text: 'Zanzibar' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/v1/evaluate?prompt=Zanzibar', headers, payload: { predictions: [{ id: 1, text: 'Zanzibar' }], references: [{ id: 1, text: 'Zanzibar' }] } })).statusCode, 200)
  const log = lines.join('')
  t.ok(lines.length >= 6, `captured ${lines.length} log lines`)
  t.match(log, /"msg":"flush"/, 'one line per flush is there')
  for (const secret of ['super-secret-key', 'wrong-secret-key', 'Zanzibar', 'Confidential', 'Private prompt', 'local", "secretAccessKey']) {
    t.notOk(log.includes(secret), `logs do not contain ${secret}`)
  }
})
