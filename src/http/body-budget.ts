/**
 * Budgets for request bodies, so a few callers cannot hold the gateway's memory or its
 * upload slots:
 *
 * - memory: bodies parsed into memory (every JSON route) share BODY_BYTES_IN_FLIGHT_MAX
 *   bytes, reserved from `content-length` before a byte is read (for a chunked body, as its
 *   bytes arrive) and released when the response is done. A body that does not fit is
 *   refused with 503 BODIES_BUSY and Retry-After, unread; one that could never fit is a 413.
 *   The rest of a refused body is read and dropped after the answer, never held
 *   (lingering-close.ts), so a caller that writes it all before reading still reads the 503.
 * - time: a JSON body must arrive whole within BODY_TIMEOUT_MS; a streamed body (a dataset
 *   or a multipart file upload) must keep up DATASET_MIN_BYTES_PER_SECOND over each
 *   DATASET_RATE_WINDOW_MS (the first window is its grace period; a window in which the
 *   gateway's own buffers were full is not judged). Past either it is cut with 408
 *   REQUEST_TIMEOUT and the connection is closed at once (no lingering for a caller already
 *   too slow), which frees its slot. A body still arriving at the shutdown's drain deadline
 *   (drain.ts) is cut the same way, with 503 SHUTTING_DOWN.
 *
 * One mechanism for every parser: the hook hands each route a counted stream of the body, and
 * every content-type parser reads that stream and nothing else (multipart forms too:
 * src/http/multipart.ts), so what is counted and timed is exactly what is read.
 *
 * Node's own server-wide `requestTimeout` cannot do this: it would also cut long, healthy
 * dataset uploads, and Node only checks it every 30 s.
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { catalogError, type CatalogError } from '../errors.js'
import { SHUTTING_DOWN_RETRY_AFTER_S } from './drain.js'
import { closeWithoutLinger } from './lingering-close.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Bytes of JSON bodies reserved now and their bound, BODY_BYTES_IN_FLIGHT_MAX (load shedding reads it). */
    bodyBudget: { readonly used: number, readonly max: number }
  }
  interface FastifyContextConfig {
    /** The handler reads the body as a stream (never whole in memory): rate-checked, not budgeted. */
    streamedBody?: boolean
  }
}

/** Seconds a caller turned away by BODIES_BUSY is told to wait: about one large body's upload. */
const BODIES_BUSY_RETRY_AFTER_S = 2

/** Bytes of JSON bodies currently reserved; shared by every route of one app. */
class MemoryBudget {
  used = 0
  constructor (readonly max: number) {}

  tryReserve (bytes: number): boolean {
    if (this.used + bytes > this.max) return false
    this.used += bytes
    return true
  }

  release (bytes: number): void {
    this.used -= bytes
  }
}

/**
 * The body as every parser sees it (JSON, a streamed NDJSON dataset, a multipart form): the
 * request's bytes, counted. It is the request's only reader, so what it counts is what arrived.
 * Errors it with `cut` when a budget runs out; the request itself is left open so the error
 * handler can still answer. A caller that goes away errors it too, so no reader waits forever.
 */
class CountedBody extends Transform {
  bytes = 0
  /**
   * Set when, during the current rate window, the gateway stopped taking bytes: its buffers
   * (this stream's, and the request's below it) were full, so the socket was paused by us and
   * the caller could not send. Bytes merely waiting to be read do not count: a caller that
   * sends a few bytes into an idle reader's buffer is still slow.
   */
  heldBack = false
  onChunk: (bytes: number) => CatalogError | undefined = () => undefined

  constructor (private readonly raw: IncomingMessage) {
    super()
    // a body nobody reads yet (a route that answered before reading) must not crash the process
    // when it errors; every reader hears of the error through its own listener
    this.on('error', () => {})
    raw.pipe(this)
    raw.once('error', (err) => { this.destroy(err) })
    raw.once('close', () => { if (!raw.complete) this.destroy(new Error('the client went away before the body ended')) })
  }

  /** True while the gateway's buffers of this body are full (the socket is paused by us). */
  full (): boolean {
    return this.readableLength >= this.readableHighWaterMark || this.writableLength >= this.writableHighWaterMark ||
      this.raw.readableLength >= this.raw.readableHighWaterMark
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    const refused = this.onChunk(chunk.length)
    if (refused !== undefined) { callback(refused); return }
    callback(null, chunk)
    if (this.full()) this.heldBack = true
  }

  /** Stops reading and errors the body; the reply (with `connection: close`) ends the socket. */
  cut (err: CatalogError): void {
    if (this.destroyed || this.writableFinished) return
    this.raw.unpipe(this)
    this.destroy(err)
  }
}

/** True when a route's body is the counted stream (a streamed route's content-type parser passes it through). */
export function isBodyStream (value: unknown): value is Readable {
  return value !== null && typeof value === 'object' && typeof (value as Readable).pipe === 'function' &&
    typeof (value as Readable)[Symbol.asyncIterator] === 'function'
}

/** Registers the body budgets on every route (JSON routes and streamed uploads alike). */
export const bodyBudgetPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const memory = new MemoryBudget(config.BODY_BYTES_IN_FLIGHT_MAX)
  app.decorate('bodyBudget', memory)

  app.addHook('preParsing', async (request, reply, payload) => {
    const lengthHeader = request.headers['content-length']
    const chunked = request.headers['transfer-encoding'] !== undefined
    if (lengthHeader === undefined && !chunked) return payload
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader)
    const streamed = request.routeOptions.config.streamedBody === true
    // a body over the route's own limit is refused by Fastify before it is read: nothing to hold
    const overRouteLimit = declared !== undefined && declared > request.routeOptions.bodyLimit

    let reserved = 0
    const release = (): void => { memory.release(reserved); reserved = 0 }
    reply.raw.once('finish', release)
    reply.raw.once('close', release)
    if (!streamed && declared !== undefined && !overRouteLimit && Number.isFinite(declared)) {
      if (declared > memory.max) {
        throw refuse(reply, catalogError('BODY_TOO_LARGE', `request body of ${declared} bytes is larger than BODY_BYTES_IN_FLIGHT_MAX (${memory.max} bytes), the memory all bodies in flight may use`))
      }
      if (!memory.tryReserve(declared)) throw refuse(reply, bodiesBusy(memory, declared))
      reserved = declared
    }

    const body = new CountedBody(request.raw)
    if (!streamed && declared === undefined) {
      body.onChunk = (bytes) => {
        if (memory.tryReserve(bytes)) { reserved += bytes; return undefined }
        return refuse(reply, bodiesBusy(memory, body.bytes))
      }
    }
    const started = Date.now()
    const cut = (err: CatalogError): void => {
      if (body.destroyed || body.writableFinished) return
      request.log.warn({ code: err.code, bytes: body.bytes, ms: Date.now() - started }, 'request body cut')
      closeWithoutLinger(request.raw)
      body.cut(refuse(reply, err))
    }
    let timer: NodeJS.Timeout | undefined
    if (!streamed) {
      timer = setTimeout(() => {
        cut(catalogError('REQUEST_TIMEOUT', `the request body did not arrive within BODY_TIMEOUT_MS (${config.BODY_TIMEOUT_MS} ms); ${body.bytes} bytes were received`))
      }, config.BODY_TIMEOUT_MS)
    } else if (config.DATASET_MIN_BYTES_PER_SECOND > 0) {
      const windowMs = config.DATASET_RATE_WINDOW_MS
      // bytes the caller must send per window (at least 1)
      const perWindow = Math.max(1, Math.ceil(config.DATASET_MIN_BYTES_PER_SECOND * windowMs / 1000))
      let atWindowStart = 0
      timer = setInterval(() => {
        const sent = body.bytes - atWindowStart
        // a window in which the gateway paused the socket is not held against the caller
        const judged = !body.heldBack && !body.full()
        atWindowStart = body.bytes
        body.heldBack = false
        if (judged && sent < perWindow) {
          cut(catalogError('REQUEST_TIMEOUT', `the upload sent ${sent} bytes in ${windowMs} ms, below DATASET_MIN_BYTES_PER_SECOND (${config.DATASET_MIN_BYTES_PER_SECOND}); ${body.bytes} bytes were received in all`))
        }
      }, windowMs)
    }
    const shuttingDown = (): void => {
      cut(catalogError('SHUTTING_DOWN', `the gateway is shutting down and could not wait for the rest of this body (${body.bytes} bytes were received; nothing was kept); retry against another instance`, { retryAfterSeconds: SHUTTING_DOWN_RETRY_AFTER_S }))
    }
    app.shutdown.deadline.addEventListener('abort', shuttingDown, { once: true })
    const stop = (): void => {
      clearTimeout(timer)
      app.shutdown.deadline.removeEventListener('abort', shuttingDown)
    }
    body.once('end', stop)
    body.once('close', stop)
    reply.raw.once('close', stop)
    return body
  })
}, { name: 'body-budget', dependencies: ['drain'] })

function bodiesBusy (memory: MemoryBudget, bytes: number): CatalogError {
  return catalogError('BODIES_BUSY', `request bodies in flight hold ${memory.used} of BODY_BYTES_IN_FLIGHT_MAX ${memory.max} bytes; this one (${bytes} bytes) does not fit, retry shortly`,
    { retryAfterSeconds: BODIES_BUSY_RETRY_AFTER_S })
}

/** The connection closes after the reply: the rest of a refused body is dropped, never parsed. */
function refuse (reply: FastifyReply, err: CatalogError): CatalogError {
  void reply.header('connection', 'close')
  return err
}
