import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ModelList, ModelObject } from '../schemas/openai.js'
import { openAiErrorResponses, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import type { Endpoint } from '../schemas/endpoints.js'
import { servingEndpoint } from '../src/openai/models.js'
import { useOpenAiErrors } from '../src/http/errors.js'
import { tenantOf } from '../src/plugins/security.js'

const EXAMPLE = { id: 'flan-t5-local', object: 'model', created: 0, owned_by: 'local' }

/** OpenAI's model object for an endpoint. */
function modelObject (e: Endpoint): { id: string, object: 'model', created: number, owned_by: string } {
  let owner = 'sagemaker'
  if (e.managed) owner = 'text2text-gateway'
  else if (e.instanceType === 'local') owner = 'local'
  return { id: e.name, object: 'model', created: Math.floor(Date.parse(e.createdAt) / 1000), owned_by: owner }
}

/** GET /v1/models and /v1/models/{model}: the endpoints a caller can send as `model`. */
const openAiModels: FastifyPluginAsyncTypebox = async (app) => {
  useOpenAiErrors(app)
  // endpoints are shared by every tenant (routes/endpoints.ts); the usable ones are InService
  const usable = async (request: Parameters<typeof tenantOf>[0]): Promise<Endpoint[]> =>
    (await app.endpoints.list(tenantOf(request))).filter(e => e.status === 'InService')

  app.get('/v1/models', {
    schema: {
      tags: ['openai'],
      operationId: 'openAiListModels',
      summary: 'List the endpoints as OpenAI models',
      description: 'OpenAI\'s model list: every InService endpoint (configured, built-in or deployed through POST /v1/endpoints), its name as `id`.',
      security: BEARER_AUTH,
      response: { 200: jsonResponse('OpenAI\'s list object.', ModelList, { examples: { local: { summary: 'local mode', value: { object: 'list', data: [EXAMPLE] } } } }), ...openAiErrorResponses(...V1_ERRORS) }
    }
  }, async (request) => ({ object: 'list' as const, data: (await usable(request)).map(modelObject) }))

  app.get('/v1/models/:model', {
    schema: {
      tags: ['openai'],
      operationId: 'openAiRetrieveModel',
      summary: 'One endpoint as an OpenAI model',
      description: 'OpenAI\'s model object of one InService endpoint; any other name is a 404 model_not_found.',
      security: BEARER_AUTH,
      params: Type.Object({ model: Type.String({ minLength: 1, maxLength: 63, description: 'The endpoint name.' }) }),
      response: { 200: jsonResponse('OpenAI\'s model object.', ModelObject, { examples: { local: { summary: 'local mode', value: EXAMPLE } } }), ...openAiErrorResponses('INVALID_REQUEST', 'ENDPOINT_NOT_FOUND', ...V1_ERRORS) }
    }
  }, async (request) => {
    return modelObject(await servingEndpoint(app.endpoints, request.params.model))
  })
}
export default openAiModels
