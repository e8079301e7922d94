import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { HealthResponse, ReadyResponse } from '../schemas/ops.js'
import { NO_AUTH, RetryAfterHeader, jsonResponse, mediaResponse } from '../schemas/responses.js'

/** Probes and metrics: open to everyone (no API key), so orchestrators can reach them. */
const ops: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    schema: {
      tags: ['operations'],
      operationId: 'health',
      summary: 'Liveness: 200 while the process runs',
      description: 'For liveness probes: answers as long as the event loop does. Needs no API key and is never rate limited or shed.',
      security: NO_AUTH,
      response: { 200: jsonResponse('The process is running.', HealthResponse) }
    }
  }, async () => ({ status: 'ok' }))

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      operationId: 'ready',
      summary: 'Readiness: 200 when it can serve, 503 while starting or draining',
      description: 'For readiness probes and load balancers: 503 (with Retry-After) until startup completes and again once shutdown begins, so traffic moves away before in-flight work is drained. Needs no API key.',
      security: NO_AUTH,
      response: {
        200: jsonResponse('Ready to serve.', ReadyResponse),
        503: jsonResponse('Not ready: starting or draining, with Retry-After.', ReadyResponse, {
          headers: { 'Retry-After': RetryAfterHeader },
          examples: { draining: { summary: 'shutting down', value: { status: 'draining', mode: 'local' } } }
        })
      }
    }
  }, async (_request, reply) => {
    const state = app.lifecycle.state
    const body = { status: state, mode: app.lifecycle.mode }
    if (state !== 'ready') return await reply.code(503).header('retry-after', '5').send(body)
    return body
  })

  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description: 'Prometheus text exposition format (text/plain; version=0.0.4). Includes t2t_batch_size (histogram of items per endpoint invocation), t2t_queue_depth (gauge), ' +
        't2t_invocations_total{outcome} and t2t_items_total{outcome}, plus the Node.js process metrics (t2t_process_*). Needs no API key.',
      security: NO_AUTH,
      response: {
        200: mediaResponse('text/plain', 'Prometheus text exposition format, version 0.0.4.', Type.String({
          examples: ['# HELP t2t_queue_depth Items waiting for an endpoint invocation.\n# TYPE t2t_queue_depth gauge\nt2t_queue_depth 0\n']
        }))
      }
    }
  }, async (_request, reply) => {
    const text = await app.metrics.registry.metrics()
    return await reply.type(app.metrics.registry.contentType).send(text)
  })
}
export default ops
