import type { FastifyReply } from 'fastify'

/**
 * An AbortSignal that fires when the caller goes away before we answered, so its queued
 * items are dropped instead of being sent to the endpoint for nobody. The response's
 * 'close' fires both after a normal finish and on a broken socket; only the latter aborts.
 */
export function callerGone (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
  })
  return controller.signal
}
