import t from 'tap'
import { Writable } from 'node:stream'
import { Keyring } from '../../src/tenants.js'
import { localApp } from '../helpers/local-app.js'

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

t.test('Keyring: tenants from name:key and bare keys; admins; bad entries named', async t => {
  const keys = Keyring.parse('acme:a1, acme:a2, b-bare', 'ops:root')
  t.same(keys.identify('a1'), { id: 'acme', admin: false })
  t.same(keys.identify('a2'), { id: 'acme', admin: false }, 'two keys of one tenant (rotation)')
  t.match(keys.identify('b-bare'), { id: /^key-[0-9a-f]{12}$/, admin: false }, 'a bare key is its own tenant, named by a hash')
  t.notMatch(keys.identify('b-bare')?.id ?? '', /bare/, 'the id does not carry the key')
  t.same(keys.identify('root'), { id: 'ops', admin: true })
  t.equal(keys.identify('acme:a1'), undefined, 'the name is not part of the key')
  t.equal(keys.identify(''), undefined)
  t.ok(keys.enabled)
  t.notOk(Keyring.parse(undefined, undefined).enabled)
  t.throws(() => Keyring.parse('acme:x,acme:x', undefined), /API_KEYS entry 2 repeats a key/)
  t.throws(() => Keyring.parse('bad name:x', undefined), /API_KEYS entry 1: tenant name "bad name"/)
  t.throws(() => Keyring.parse('key-abc:x', undefined), /reserved/)
  t.throws(() => Keyring.parse('acme:', undefined), /empty key/)
  t.throws(() => Keyring.parse('acme:x', 'acme:y'), /ADMIN_API_KEYS entry 1: tenant "acme" is in both/)
  t.notMatch(String((() => { try { Keyring.parse('p:secret1,p:secret1', undefined) } catch (err) { return err } })()), /secret1/, 'messages never carry a key')
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

// at debug, so that every request's own lines (incoming request, request completed; at info only
// a 4xx/5xx writes one) are checked too
t.test('logs, even at debug, carry no keys, credentials or texts', async t => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const { app } = await localApp(t, { LOG_LEVEL: 'debug', API_KEYS: 'super-secret-key', LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' }, {}, stream)
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

t.test('failed authentications are limited per address, never per key', async t => {
  const { app } = await localApp(t, { API_KEYS: 'owner-key', AUTH_FAILURES_MAX: 3 })
  const post = async (key: string, remoteAddress: string) => await app.inject({ method: 'POST', url: '/v1/summarize', remoteAddress, headers: { authorization: `Bearer ${key}` }, payload: { text: TEXT } })
  for (let i = 0; i < 3; i++) t.equal((await post(`guess-${i}`, '203.0.113.7')).statusCode, 401, `guess ${i + 1}: 401`)
  const limited = await post('guess-4', '203.0.113.7')
  t.equal(limited.statusCode, 429, 'the fourth failure in a minute: 429')
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.match(limited.json().message, /failed authentications from this address/)
  t.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60, 'Retry-After within the window')
  t.equal((await post('owner-key', '203.0.113.7')).statusCode, 429, 'over the limit, not even the right key is compared from that address')
  t.equal((await post('owner-key', '198.51.100.9')).statusCode, 200, 'the key still works from another address')
  t.equal((await post('guess-5', '198.51.100.9')).statusCode, 401, 'another address has its own count')
  t.equal((await app.inject({ url: '/health', remoteAddress: '203.0.113.7' })).statusCode, 200, 'probes stay open')
})

t.test('load shedding refuses /v1 work with 503 and Retry-After; probes still answer', async t => {
  // any resident set is above 1 byte: the memory check fires on every sample (the shedder
  // samples on an interval, so wait for its first look)
  const { app } = await localApp(t, { SHED_RSS_BYTES: 1 })
  let res = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: TEXT } })
  for (let i = 0; i < 50 && res.statusCode === 200; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    res = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: TEXT } })
  }
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'ENDPOINT_UNAVAILABLE')
  t.match(res.json().message, /overloaded \(rssBytes\)/)
  t.ok(Number(res.headers['retry-after']) >= 1)
  t.equal((await app.inject({ method: 'POST', url: '/%761/summarize', payload: { text: TEXT } })).statusCode, 503, 'the encoded spelling is shed too')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'probes are never shed')
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
})
