import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthResponse, ReadyResponse } from '../schemas/ops.js'

/** Probes and metrics: open to everyone (no API key), so orchestrators can reach them. */
const ops: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    schema: { tags: ['operations'], operationId: 'health', summary: 'Liveness: 200 while the process runs', response: { 200: HealthResponse } }
  }, async () => ({ status: 'ok' }))

  app.get('/ready', {
    schema: {
      tags: ['operations'], operationId: 'ready', summary: 'Readiness: 200 when it can serve, 503 while starting or draining',
      response: { 200: ReadyResponse, 503: ReadyResponse }
    }
  }, async (_request, reply) => {
    const state = app.lifecycle.state
    const body = { status: state, mode: app.lifecycle.mode }
    if (state !== 'ready') return await reply.code(503).header('retry-after', '5').send(body)
    return body
  })

  app.get('/metrics', {
    schema: {
      tags: ['operations'], operationId: 'metrics', summary: 'Prometheus metrics',
      description: 'Includes t2t_batch_size, t2t_queue_depth, t2t_invocations_total{outcome} and t2t_items_total{outcome}.',
      produces: ['text/plain'],
      response: { 200: { type: 'string', description: 'Prometheus text exposition format.' } }
    }
  }, async (_request, reply) => {
    const text = await app.metrics.registry.metrics()
    return await reply.type(app.metrics.registry.contentType).send(text)
  })
}
export default ops
