import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createHopProxy } from '../../bench/hop-proxy.js'

interface Seen { method?: string, url?: string, contentType?: string, accept?: string, bytes: number }

async function post (port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number, contentType?: string, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': body.length } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

// The realtime grid's floor is only a floor if the hop carries what a gateway would: every byte
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
