// No path reaches a protected handler without a key. Generated from the served OpenAPI
// document, so a new /v1 route is covered by construction. Requests go over a raw socket, byte
// for byte as written (fetch and inject would normalise the target first), as an attacker
// would send them: percent-encoded segments, %2F, doubled slashes, dot segments, absolute-form
// targets (RFC 9112 section 3.2.2), HEAD/OPTIONS, case.
import t from 'tap'
import { connect } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../../src/config.js'
import { startLocalStack } from '../../src/local/stack.js'

const KEY = 'access-test-key'

/** Sends `raw` and resolves with the status code of the first response line. */
async function rawStatus (port: number, raw: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (m !== null) { socket.destroy(); resolve(Number(m[1])) }
    })
    socket.on('error', reject)
    socket.on('end', () => { resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? -1)) })
    socket.write(raw)
  })
}

/** Every spelling of `path` that a lenient router or proxy might take for it. */
function variants (path: string, port: number): string[] {
  const segments = path.split('/').slice(1)
  const encodeFirst = (s: string): string => s === '' ? s : '%' + (s.codePointAt(0) as number).toString(16).padStart(2, '0') + s.slice(1)
  const upperHex = (s: string): string => s === '' ? s : '%' + (s.codePointAt(0) as number).toString(16).toUpperCase().padStart(2, '0') + s.slice(1)
  const out = new Set<string>([
    path,
    '/' + segments.map(encodeFirst).join('/'),
    '/' + segments.map(upperHex).join('/'),
    '/' + [encodeFirst(segments[0] ?? ''), ...segments.slice(1)].join('/'),
    '/v%31/' + segments.slice(1).join('/'),
    '/' + segments.join('%2F'),
    '/' + segments.join('%2f'),
    '/' + path,
    path.replace('/v1/', '/v1//'),
    path + '/',
    path + '?x=1',
    path + '#frag',
    path.replace('/v1/', '/v1/./'),
    '/x/..' + path,
    '/v1/../' + path.slice(1),
    '/%2e%2e' + path,
    path.replace('/v1/', '/V1/'),
    path.toUpperCase(),
    `http://127.0.0.1:${port}${path}`,
    `http://example.com${path}`,
    `HTTP://EXAMPLE.COM${path}`,
    `//example.com${path}`
  ])
  return [...out]
}

t.test('no spelling of a /v1 path reaches its handler without a key', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-access-'))
  const config = testConfig({ LOCAL_DATA_DIR: dataDir, API_KEYS: `tenant-a:${KEY}`, AUTH_FAILURES_MAX: 0 })
  const stack = await startLocalStack(config)
  const app = await buildApp(config, { aws: stack.awsTarget })
  // which handlers ran: preHandler runs only once authentication has let a request through
  const reached: string[] = []
  // (the not-found handler runs hooks too, with no route: those are not handlers of ours)
  app.addHook('preHandler', (request, _reply, done) => {
    const route = request.routeOptions.url
    if (route?.startsWith('/v1/') === true) reached.push(`${request.method} ${route}`)
    done()
  })
  t.teardown(async () => { await app.close(); await stack.close(); await rm(dataDir, { recursive: true, force: true }) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> }
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map(method => ({ path, method: method.toUpperCase(), security: ops[method]?.security })))
  const protectedOps = operations.filter(op => op.path.startsWith('/v1/'))
  t.ok(protectedOps.length >= 10, `${protectedOps.length} /v1 operations in the served document`)

  let sent = 0
  for (const op of protectedOps) {
    t.same(op.security, [{ bearer: [] }], `${op.method} ${op.path} declares bearer auth`)
    const concrete = op.path.replace(/\{[^}]+\}/g, 'job-1')
    // the canonical spelling and the one the router decodes to the same route: 401
    for (const target of [concrete, '/%76' + concrete.slice(2), `http://example.com${concrete}`]) {
      const status = await rawStatus(port, `${op.method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`)
      t.equal(status, 401, `${op.method} ${target}: 401`)
    }
    for (const method of [op.method, 'HEAD', 'OPTIONS', op.method === 'GET' ? 'POST' : 'GET']) {
      for (const target of variants(concrete, port)) {
        const body = method === 'GET' || method === 'HEAD' ? '' : '{}'
        const status = await rawStatus(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
        sent++
        if (![400, 401, 404].includes(status)) t.fail(`${method} ${target} answered ${status} without a key`)
      }
    }
  }
  t.same(reached, [], `none of ${sent} keyless requests reached a handler`)

  // with the key, the decoded spelling reaches the route: the router did match it above
  const status = await rawStatus(port, `GET /%761/transform-jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n\r\n`)
  t.equal(status, 200)
  t.same(reached, ['GET /v1/transform-jobs'])
})

t.test('rate limits, shedding and draining key on the matched route too', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-access-'))
  const config = testConfig({ LOCAL_DATA_DIR: dataDir, API_KEYS: KEY, RATE_LIMIT_MAX: 2 })
  const stack = await startLocalStack(config)
  const app = await buildApp(config, { aws: stack.awsTarget })
  t.teardown(async () => { await app.close(); await stack.close(); await rm(dataDir, { recursive: true, force: true }) })
  await app.ready()
  const headers = { authorization: `Bearer ${KEY}` }
  const payload = { text: 'The ferry left at dawn.' }
  const codes: number[] = []
  for (const url of ['/v1/summarize', '/%761/summarize', '/v%31/summarize']) {
    codes.push((await app.inject({ method: 'POST', url, headers, payload })).statusCode)
  }
  t.same(codes, [200, 200, 429], 'an encoded spelling counts against the same budget')
  app.lifecycle.state = 'draining'
  const res = await app.inject({ method: 'POST', url: '/%761/summarize', headers, payload })
  t.equal(res.json().code, 'SHUTTING_DOWN', 'draining refuses the encoded spelling too')
  app.lifecycle.state = 'ready'
})
