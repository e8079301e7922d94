// A reference for the realtime grid: one bare HTTP hop. A node:http server that passes each
// request on to the endpoint as it came (method, path, content-type, accept, body) over
// keep-alive sockets and passes the answer back (status, content-type, body): no parsing, no
// batching, no signing. It carries the direct run's payloads (min(C, S) clients sending the even
// share), not the gateway's C single-text requests, so it prices the hop alone.
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import { buffer } from 'node:stream/consumers'

const PASSED = ['content-type', 'accept'] as const

function passed (headers: IncomingHttpHeaders, length: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { 'content-length': length }
  for (const name of PASSED) if (headers[name] !== undefined) out[name] = headers[name]
  return out
}

/** A proxy to `target` (`http://host:port`); GET /ready answers itself. Not listening yet. */
export function createHopProxy (target: URL, maxSockets = 256): Server {
  const agent = new Agent({ keepAlive: true, maxSockets })
  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await buffer(req)
    const answer = await new Promise<{ status: number, headers: IncomingHttpHeaders, body: Buffer }>((resolve, reject) => {
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, agent, headers: passed(req.headers, body.length) }, upRes => {
        buffer(upRes).then(b => { resolve({ status: upRes.statusCode ?? 502, headers: upRes.headers, body: b }) }, reject)
      })
      up.on('error', reject)
      // the caller gone: the endpoint's answer is for nobody
      res.once('close', () => { if (!res.writableFinished) up.destroy() })
      up.end(body)
    })
    res.writeHead(answer.status, passed(answer.headers, answer.body.length))
    res.end(answer.body)
  }
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ready') { res.end('{"status":"ready"}'); return }
    forward(req, res).catch((err: Error) => {
      if (res.headersSent || res.destroyed) { res.destroy(); return }
      const text = `hop: ${err.message}`
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    })
  })
  server.on('close', () => { agent.destroy() })
  return server
}
