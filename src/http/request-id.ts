/**
 * `x-request-id` on every response: the id Fastify gave the request, which every log line of
 * that request carries as `reqId`. OpenAI's API reference ("Debugging requests") puts the
 * header on every response and its clients expose it (`_request_id`), so a caller can quote the
 * id and an operator can find the request's log lines. The gateway makes the id; one sent by
 * a caller is not taken (it would let callers write into the logs and collide ids).
 */
import type { FastifyInstance } from 'fastify'
import type { HeaderDoc } from '../../schemas/responses.js'

/** The response header carrying the request's id. */
export const REQUEST_ID_HEADER = 'x-request-id'

/** How the OpenAPI document describes it, on every response. */
export const RequestIdHeaderDoc: HeaderDoc = {
  description: 'The id of this request, as the gateway\'s logs carry it (`reqId`); quote it when reporting a problem.',
  type: 'string',
  examples: ['0b8f3c2e-4a51-4c7e-9d0a-6f1e2b3c4d5e']
}

/** Sets x-request-id on every response of `app`, errors and 404s included (call first, before any other hook). */
export function sendRequestIds (app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id)
    done()
  })
}
