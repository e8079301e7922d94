/**
 * Bodies declared larger than the route accepts are read to their end (and thrown away) before
 * the 413 is sent, up to a bound. Many clients (Python's urllib, most SDKs) write the whole body
 * before they read the answer; answering first and closing the socket under the unread bytes
 * makes the kernel reset the connection, and such a client sees a broken pipe instead of the
 * 413. Past the bound (bytes or time) the refusal goes out at once, as before.
 */
import type { FastifyInstance } from 'fastify'

/** Bytes of an oversized body read and discarded at most before it is refused. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024
/** ms an oversized body may take to arrive before it is refused anyway. */
export const DRAIN_MAX_MS = 10_000

/** Adds the drain to every route (call before the routes). */
export function drainOversizedBodies (app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    // a streamed body (dataset uploads) has no body limit: it is the route's to read
    if (request.routeOptions.config.streamedBody === true) return payload
    const declared = Number(request.headers['content-length'])
    if (!Number.isFinite(declared) || declared <= request.routeOptions.bodyLimit || declared > DRAIN_MAX_BYTES) return payload
    const raw = request.raw
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, DRAIN_MAX_MS)
      function done (): void {
        clearTimeout(timer)
        raw.off('end', done)
        raw.off('close', done)
        resolve()
      }
      raw.on('end', done)
      raw.on('close', done)
      // discard: nothing of it is kept
      raw.on('data', () => {})
      raw.resume()
    })
    request.log.info({ declared }, 'oversized body drained before refusing it')
    // Fastify's parser refuses it from its content-length, without reading
    return payload
  })
}
