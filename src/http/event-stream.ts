/**
 * A `text/event-stream` response from an async generator of already-framed events: sent as a
 * Node stream through Fastify's reply (so its hooks, headers and request log still apply), pulled
 * as the client reads (backpressure), and closed when the client goes away: Fastify destroys
 * the stream, which returns the generator, whose `finally` closes what it reads from.
 * Reference: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation.
 */
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'

/** Sends `events` (each a whole event: lines ending in a blank line) as the reply's body. */
export function sendEventStream (reply: FastifyReply, events: AsyncGenerator<string, void, undefined>): FastifyReply {
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    // proxies that buffer responses (nginx) would hold the tokens back
    .header('x-accel-buffering', 'no')
    .send(Readable.from(events, { objectMode: false, highWaterMark: 1 }))
}

/** One named event: `event: <name>` and the JSON of `data` on one `data:` line. */
export function namedEvent (name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

/** A stream of the given events, already known. */
export async function * once (...events: string[]): AsyncGenerator<string, void, undefined> {
  yield * events
}
