/**
 * Lingering close: an answer sent before the request's body has all arrived (a 413 over the
 * route's limit or the memory budget, a 503 BODIES_BUSY or UPLOADS_BUSY, a 401 before the body)
 * closes the connection only once the caller has stopped sending, so a client that writes its
 * whole body before it reads (Python's urllib, many SDKs) reads that answer instead of a reset.
 *
 * Why Node alone resets it: with `connection: close` (Fastify sets it on every body-parser error)
 * Node's server calls `socket.destroySoon()` as soon as the response is written (`resOnFinish` in
 * lib/_http_server.js). Closing a TCP socket with unread bytes in its receive buffer makes the
 * kernel send RST, not FIN (RFC 9112 §9.6, "the TCP reset problem"): the caller's next write
 * fails with EPIPE/ECONNRESET, and urllib raises that instead of reading the answer that already
 * reached it. Without `connection: close` Node would read the rest itself (`req._dump()`), but
 * only when nothing else consumes the request (the body budget pipes every body), with no bound,
 * and a client would then reuse a connection the gateway may still have to cut.
 *
 * So the answer says `connection: close`, and on its socket the linger takes destroySoon's place:
 * the write side is shut once the answer is out (FIN; the caller may go on sending), the rest of
 * the body is read and dropped chunk by chunk (nothing is kept: memory stays at one socket read),
 * and the socket is destroyed when the body has ended, when the caller closes, or after the bound.
 * The bound is time only: dropped bytes cost no memory, and a time bound already caps the bytes
 * at the caller's rate; a byte bound would only bring the reset back for the large uploads this
 * is for. A caller still sending at the bound (a trickler) is cut there, reset and all.
 */
import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** ms at most that the rest of a body answered early is read (and dropped) before the socket is destroyed. */
export const LINGER_MAX_MS = 10_000

/** Requests whose connection closes as soon as the answer is written, unread bytes and all. */
const cutAtOnce = new WeakSet<IncomingMessage>()

/** This request's connection closes once its answer is written, without lingering (a body cut for being too slow is not waited for again). */
export function closeWithoutLinger (raw: IncomingMessage): void {
  cutAtOnce.add(raw)
}

/**
 * Adds the lingering close to every route (call before the routes). The bound is LINGER_MAX_MS,
 * or BODY_TIMEOUT_MS when shorter: the rest of a refused body gets no longer than a whole body.
 */
export function lingerAfterEarlyAnswers (app: FastifyInstance): void {
  const boundMs = Math.min(LINGER_MAX_MS, app.config.BODY_TIMEOUT_MS)
  const lingering = new Set<Socket>()
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw
    // a body that has all arrived leaves nothing unread (every usual request: checked first);
    // only a real TCP socket can be reset (app.inject's is a mock)
    if (!raw.complete && raw.socket instanceof Socket && hasBody(raw) && !cutAtOnce.has(raw)) {
      void reply.header('connection', 'close')
      lingerOnClose(request, boundMs, lingering)
    }
    done(null, payload)
  })
  // a shutdown does not wait for callers still sending bodies it has already refused
  app.addHook('preClose', (done) => {
    for (const socket of lingering) socket.destroy()
    done()
  })
}

function hasBody (raw: IncomingMessage): boolean {
  return raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length']) > 0
}

/** Replaces Node's close of this request's socket after the answer by the linger. */
function lingerOnClose (request: FastifyRequest, boundMs: number, lingering: Set<Socket>): void {
  const raw = request.raw
  const socket = raw.socket
  if (lingering.has(socket)) return
  // Node calls this once the answer is written (resOnFinish); destroying there is the reset
  socket.destroySoon = () => {
    if (socket.destroyed) return
    lingering.add(socket)
    const started = Date.now()
    let dropped = 0
    let cut = false
    // FIN: the answer is complete, and the caller may go on sending (the server allows half-open)
    if (socket.writable) socket.end()
    // whatever read the body before (the parser, the budget's counter) reads it no more
    raw.unpipe()
    raw.removeAllListeners('data')
    raw.on('data', (chunk: Buffer) => { dropped += chunk.length })
    raw.resume()
    const timer = setTimeout(() => { cut = true; socket.destroy() }, boundMs)
    // all of it read: nothing left to reset on, so close once the answer is flushed
    const ended = (): void => {
      if (socket.writableFinished) socket.destroy()
      else socket.once('finish', () => { socket.destroy() })
    }
    if (raw.readableEnded) ended()
    else raw.once('end', ended)
    socket.once('close', () => {
      clearTimeout(timer)
      raw.off('end', ended)
      lingering.delete(socket)
      const outcome = cut ? 'cut at the bound' : raw.complete ? 'body ended' : 'caller closed'
      const log = { droppedBytes: dropped, ms: Date.now() - started, outcome }
      if (cut) request.log.warn(log, 'rest of a body answered early: caller still sending at the bound, cut')
      else request.log.info(log, 'rest of a body answered early: read and dropped')
    })
  }
}
