import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * An AbortSignal that fires when the caller goes away before we answered, so its queued
 * items are dropped instead of being sent to the endpoint for nobody.
 */
export function callerGone (request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
  }
  request.raw.socket?.once('close', onClose)
  reply.raw.once('close', onClose)
  reply.raw.once('finish', () => { request.raw.socket?.off('close', onClose) })
  return controller.signal
}
