import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, JSON_BODY_ERRORS, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { DeployBody, DeployHeaders, ENDPOINT_EXAMPLE, EndpointList, EndpointLocationHeader, EndpointNameParams, EndpointRef, ScaleBody } from '../schemas/endpoints.js'
import { IdempotentReplayedHeader } from '../schemas/jobs.js'
import { tenantOf } from '../src/plugins/security.js'

const TAG = 'endpoints'
/** What every endpoint route backed by the SageMaker control plane can answer with. */
const BACKEND_ERRORS = [...V1_ERRORS, 'UPSTREAM_ERROR', 'SAGEMAKER_UNAVAILABLE'] as const
const ADMIN_ONLY = 'Admin tenants only (ADMIN_API_KEYS, or no keys at all); other tenants get 403 FORBIDDEN: endpoints are shared by every tenant and billed by the hour.'

/** /v1/endpoints: deploy, list, describe, scale and tear down real-time endpoints. */
const endpointsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/endpoints', {
    schema: {
      tags: [TAG],
      operationId: 'deployEndpoint',
      summary: 'Deploy a real-time endpoint',
      description: 'CreateModel (for a container, or a JumpStart model id and version resolved in the gateway\'s region as the SageMaker Python SDK resolves them; an existing model is used as is), CreateEndpointConfig and CreateEndpoint, each tagged managed-by=text2text-gateway. ' +
        'A container whose contract the gateway cannot detect from its image needs `contract` (else 400 naming body.model.image); an unknown JumpStart model id or version is a 400 naming body.model.jumpstart.modelId or .version with what exists, and JumpStart\'s bucket unreadable a 502. ' +
        'The endpoint is Creating; poll GET /v1/endpoints/{name} (the Location header) until InService: from then on it is a `model` for /v1/summarize and /v1/generate on every replica, without a restart. ' +
        'A repeat of the same request returns the existing endpoint (Idempotent-Replayed: true); a different request for an existing name is a 409. ' +
        'With `idleDeleteAfterMinutes`, it is deleted after that long without an invocation. SageMaker bills its instances from creation to deletion: see `usage` (an estimate). ' + ADMIN_ONLY,
      security: BEARER_AUTH,
      headers: DeployHeaders,
      body: DeployBody,
      response: {
        202: jsonResponse('Accepted: the endpoint (Creating), or the existing one for a repeated request.', EndpointRef, {
          headers: { Location: EndpointLocationHeader, 'Idempotent-Replayed': IdempotentReplayedHeader },
          examples: { endpoint: { summary: 'an endpoint just deployed', value: { ...ENDPOINT_EXAMPLE, status: 'Creating', usage: { ...ENDPOINT_EXAMPLE.usage, instanceSeconds: 0, estimatedCostUsd: 0, invocations: 0, items: 0, invocationsSaved: 0 } } } }
        }),
        ...errorResponses(...JSON_BODY_ERRORS, 'FORBIDDEN', 'CONFLICT', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const { endpoint, replayed } = await app.endpoints.deploy(tenantOf(request), request.body)
    void reply.header('location', `/v1/endpoints/${encodeURIComponent(endpoint.name)}`)
    if (replayed) void reply.header('idempotent-replayed', 'true')
    return await reply.code(202).send(endpoint)
  })

  app.get('/v1/endpoints', {
    schema: {
      tags: [TAG],
      operationId: 'listEndpoints',
      summary: 'List the endpoints the gateway serves',
      description: 'Endpoints the gateway deployed (read from SageMaker by their tag, so every replica lists the same), plus those in SAGEMAKER_ENDPOINT_NAME (managed: false). Admins see every status; other tenants see the InService ones they can use.',
      security: BEARER_AUTH,
      response: {
        200: jsonResponse('The endpoints, newest deployed first, then the configured ones.', EndpointList),
        ...errorResponses(...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return { endpoints: await app.endpoints.list(tenantOf(request)) }
  })

  app.get('/v1/endpoints/:name', {
    schema: {
      tags: [TAG],
      operationId: 'getEndpoint',
      summary: 'One endpoint',
      description: 'SageMaker\'s status (Creating, InService, Updating, Deleting, Failed, ...), instances, model, and `usage` so far (instance-seconds and an ESTIMATED cost from the price table).',
      security: BEARER_AUTH,
      params: EndpointNameParams,
      response: {
        200: jsonResponse('The endpoint.', EndpointRef, { examples: { endpoint: { summary: 'an endpoint in service', value: ENDPOINT_EXAMPLE } } }),
        ...errorResponses('INVALID_REQUEST', 'ENDPOINT_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.endpoints.get(request.params.name)
  })

  app.post('/v1/endpoints/:name/scale', {
    schema: {
      tags: [TAG],
      operationId: 'scaleEndpoint',
      summary: 'Change an endpoint\'s instance count',
      description: 'UpdateEndpointWeightsAndCapacities on the endpoint\'s one variant; it is Updating, then InService again. Only InService endpoints the gateway deployed (409 NOT_MANAGED otherwise; 409 CONFLICT while it is not InService). `instanceCount` is at least 1: a real-time endpoint needs an instance (delete it instead). ' + ADMIN_ONLY,
      security: BEARER_AUTH,
      params: EndpointNameParams,
      body: ScaleBody,
      response: {
        202: jsonResponse('Scaling: the endpoint, usually Updating.', EndpointRef, { examples: { endpoint: { summary: 'an endpoint scaling to 2', value: { ...ENDPOINT_EXAMPLE, status: 'Updating' } } } }),
        ...errorResponses(...JSON_BODY_ERRORS, 'FORBIDDEN', 'ENDPOINT_NOT_FOUND', 'CONFLICT', 'NOT_MANAGED', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const endpoint = await app.endpoints.scale(tenantOf(request), request.params.name, request.body.instanceCount)
    return await reply.code(202).send(endpoint)
  })

  app.delete('/v1/endpoints/:name', {
    schema: {
      tags: [TAG],
      operationId: 'deleteEndpoint',
      summary: 'Tear down an endpoint',
      description: 'DeleteEndpoint, then DeleteEndpointConfig and DeleteModel for what the gateway created (never a model it did not create). Only endpoints the gateway deployed (409 NOT_MANAGED otherwise). ' +
        'Requests still queued for it fail with 503 ENDPOINT_UNAVAILABLE; none hangs. Its final usage stays in GET /v1/usage. ' + ADMIN_ONLY,
      security: BEARER_AUTH,
      params: EndpointNameParams,
      response: {
        202: jsonResponse('Deleting: the endpoint as it was, status Deleting.', EndpointRef, { examples: { endpoint: { summary: 'an endpoint being deleted', value: { ...ENDPOINT_EXAMPLE, status: 'Deleting' } } } }),
        ...errorResponses('INVALID_REQUEST', 'FORBIDDEN', 'ENDPOINT_NOT_FOUND', 'NOT_MANAGED', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const endpoint = await app.endpoints.delete(tenantOf(request), request.params.name)
    return await reply.code(202).send(endpoint)
  })
}
export default endpointsRoutes
