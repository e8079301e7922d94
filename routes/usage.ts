import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { UsageQuery, UsageReport } from '../schemas/endpoints.js'
import { tenantOf } from '../src/plugins/security.js'

/** GET /v1/usage: instance time and estimated cost of jobs and endpoints. */
const usageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/usage', {
    schema: {
      tags: ['usage'],
      operationId: 'getUsage',
      summary: 'Instance time and ESTIMATED cost of jobs and endpoints',
      description: 'Jobs: TransformStartTime to TransformEndTime × instances, for jobs created in the window. Endpoints: time InService × instances so far (or until deleted), for endpoints alive in the window, with the invocations the gateway made and the inputs they carried (invocationsSaved = items − invocations: what micro-batching saved). ' +
        'Costs are ESTIMATES: on-demand hourly list prices of the price table named in `prices` (PRICES_FILE overrides the built-in, unverified one) × instance-seconds; not a bill (no savings plans, storage, data transfer or taxes). ' +
        'A tenant sees its own jobs and its own real-time calls (`calls`: requests and inputs answered per endpoint, counted per UTC hour); admins see every tenant\'s jobs and calls, and the endpoints (shared: their invocations carry every tenant\'s inputs).',
      security: BEARER_AUTH,
      querystring: UsageQuery,
      response: {
        200: jsonResponse('The window, its jobs and endpoints, totals and the price table used.', UsageReport),
        ...errorResponses('INVALID_REQUEST', 'UPSTREAM_ERROR', 'SAGEMAKER_UNAVAILABLE', ...V1_ERRORS)
      }
    }
  }, async (request) => {
    return await app.usage(tenantOf(request), request.query)
  })
}
export default usageRoutes
