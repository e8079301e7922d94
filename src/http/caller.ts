import type { FastifyReply } from 'fastify'
import type { CancelSignal } from '../batching/batcher.js'

/**
 * Fires once when the caller goes away before we answered, so its queued items are dropped
 * instead of being sent to the endpoint for nobody. The response's 'close' fires both after a
 * normal finish and on a broken socket; only the latter aborts. One per request on the hot
 * path, so a plain listener list rather than an AbortController (an EventTarget each).
 */
class CallerGone implements CancelSignal {
  aborted = false
  reason: unknown = undefined
  #listeners: Array<() => void> = []

  constructor (reply: FastifyReply) {
    // the caller may have left already, while the route awaited something before asking for
    // this signal (an endpoint's first-use description): 'close' will not fire again
    if ((reply.raw.closed || reply.raw.destroyed) && !reply.raw.writableFinished) {
      this.#abort(new Error('client disconnected'))
      return
    }
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) this.#abort(new Error('client disconnected'))
    })
  }

  addEventListener (_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.#listeners.push(listener)
  }

  removeEventListener (_type: 'abort', listener: () => void): void {
    const i = this.#listeners.indexOf(listener)
    if (i !== -1) this.#listeners.splice(i, 1)
  }

  #abort (reason: Error): void {
    this.aborted = true
    this.reason = reason
    const listeners = this.#listeners
    this.#listeners = []
    for (const listener of listeners) listener()
  }
}

/** The caller's cancellation signal for `app.realtime.run`. */
export function callerGone (reply: FastifyReply): CancelSignal {
  return new CallerGone(reply)
}
