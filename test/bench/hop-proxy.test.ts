import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createHopProxy } from '../../bench/hop-proxy.js'

interface Seen { method?: string, url?: string, contentType?: string, accept?: string, bytes: number }

async function post (port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number, contentType?: string, body: Buffer }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers })
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: Buffer.from(await res.arrayBuffer()) }
}

// The hop is a fair reference only if it carries what a gateway would: every byte
// of a body past a socket's first chunk (16 KiB and well beyond), the endpoint's status (a
// throttle is not made a success), and the headers the endpoint reads.
t.test('the bare hop passes method, path, headers, a 1 MB body and the status through unchanged', async t => {
  const seen: Seen[] = []
  const target = createServer((req, res) => {
    const s: Seen = { method: req.method, url: req.url, contentType: req.headers['content-type'], accept: req.headers.accept, bytes: 0 }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => { s.bytes += c.length; chunks.push(c) })
    req.on('end', () => {
      seen.push(s)
      const status = req.url === '/throttled' ? 429 : 200
      res.writeHead(status, { 'content-type': 'application/x-echo' })
      res.end(Buffer.concat(chunks).reverse())
    })
  })
  await new Promise<void>(resolve => target.listen(0, '127.0.0.1', resolve))
  const proxy = createHopProxy(new URL(`http://127.0.0.1:${(target.address() as AddressInfo).port}`))
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { proxy.closeAllConnections(); proxy.close(); target.closeAllConnections(); target.close() })
  const port = (proxy.address() as AddressInfo).port

  const body = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < body.length; i++) body[i] = i % 251
  const ok = await post(port, '/endpoints/e/invocations', body, { 'content-type': 'application/json', accept: 'application/json' })
  t.equal(ok.status, 200)
  t.equal(ok.contentType, 'application/x-echo')
  t.ok(ok.body.equals(Buffer.from(body).reverse()), `the answer came back whole and in order (${ok.body.length} bytes)`)
  t.same(seen[0], { method: 'POST', url: '/endpoints/e/invocations', contentType: 'application/json', accept: 'application/json', bytes: body.length })

  const throttled = await post(port, '/throttled', Buffer.from('{}'), { 'content-type': 'application/json' })
  t.equal(throttled.status, 429)
  t.equal(throttled.body.toString(), '}{')
})

// An endpoint that is down or breaks off an answer must not take the hop with it: the bench's
// next level would read a dead process as a throughput of zero.
t.test('the bare hop answers 502 when the endpoint refuses or breaks off, and serves the next request', async t => {
  const target = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/break') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 })
        res.write('{"partial":')
        setTimeout(() => { res.socket?.destroy() }, 20)
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    })
  })
  await new Promise<void>(resolve => target.listen(0, '127.0.0.1', resolve))
  const targetPort = (target.address() as AddressInfo).port
  // a port nothing listens on: a server bound and closed
  const closed = createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const deadPort = (closed.address() as AddressInfo).port
  await new Promise<void>(resolve => closed.close(() => { resolve() }))

  const toDead = createHopProxy(new URL(`http://127.0.0.1:${deadPort}`))
  const toTarget = createHopProxy(new URL(`http://127.0.0.1:${targetPort}`))
  for (const p of [toDead, toTarget]) await new Promise<void>(resolve => p.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of [toDead, toTarget, target]) { s.closeAllConnections(); s.close() } })
  const port = (s: typeof toDead): number => (s.address() as AddressInfo).port

  const refused = await post(port(toDead), '/x', Buffer.from('{}'), { 'content-type': 'application/json' })
  t.equal(refused.status, 502)
  t.match(refused.body.toString(), /ECONNREFUSED/)
  const broken = await post(port(toTarget), '/break', Buffer.from('{}'), { 'content-type': 'application/json' })
  t.equal(broken.status, 502, `an answer broken off is a 502: ${broken.body.toString()}`)
  const next = await post(port(toTarget), '/fine', Buffer.from('{}'), { 'content-type': 'application/json' })
  t.equal(next.status, 200)
  t.equal(next.body.toString(), '{"ok":true}')
})
