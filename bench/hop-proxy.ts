// The realtime grid's floor for any gateway: one bare HTTP hop. A node:http server that passes
// each request on to the endpoint as it came (method, path, content-type, accept, body) over
// keep-alive sockets and passes the answer back (status, content-type, body): no parsing, no
// batching, no signing. What the endpoint gives a client through it is the most a gateway in a
// process of its own could give on this machine.
import { Agent, createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http'

const PASSED = ['content-type', 'accept'] as const

function passed (headers: IncomingHttpHeaders, length: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { 'content-length': length }
  for (const name of PASSED) if (headers[name] !== undefined) out[name] = headers[name]
  return out
}

async function readAll (stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A proxy to `target` (`http://host:port`); GET /ready answers itself. Not listening yet. */
export function createHopProxy (target: URL, maxSockets = 256): Server {
  const agent = new Agent({ keepAlive: true, maxSockets })
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ready') { res.end('{"status":"ready"}'); return }
    void readAll(req).then(body => {
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, agent, headers: passed(req.headers, body.length) }, upRes => {
        void readAll(upRes).then(answer => {
          res.writeHead(upRes.statusCode ?? 502, passed(upRes.headers, answer.length))
          res.end(answer)
        })
      })
      up.on('error', err => { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(err.message) })
      up.end(body)
    })
  })
  server.on('close', () => { agent.destroy() })
  return server
}
