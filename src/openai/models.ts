import type { Endpoint } from '../../schemas/endpoints.js'
import { ModelNotServed } from '../endpoints/resolver.js'
import type { Endpoints } from '../endpoints/service.js'
import { catalogError, isCatalogError, type CatalogError } from '../errors.js'

/**
 * OpenAI's answer to a `model` that names no endpoint serving here: 404 ENDPOINT_NOT_FOUND with
 * `param: model`, which OpenAI's shape renders as model_not_found (the client's NotFoundError).
 */
function modelNotFound (model: string, reason: string, cause?: unknown): CatalogError {
  return catalogError('ENDPOINT_NOT_FOUND', `model ${JSON.stringify(model)} ${reason}`, { param: 'model', cause })
}

/**
 * The InService endpoint OpenAI's `model` names, by one describe (not a listing of every
 * endpoint); any other name is OpenAI's model_not_found. Endpoints are shared by every tenant,
 * as on /v1/endpoints.
 */
export async function servingEndpoint (endpoints: Endpoints, model: string): Promise<Endpoint> {
  let found: Endpoint | undefined
  try {
    found = await endpoints.get(model)
  } catch (err) {
    if (!isCatalogError(err) || err.code !== 'ENDPOINT_NOT_FOUND') throw err
  }
  if (found === undefined || found.status !== 'InService') throw modelNotFound(model, 'is not an InService endpoint of this gateway; GET /v1/models lists them')
  return found
}

/**
 * The endpoint OpenAI's `model` names for real time, by the endpoints' own resolver (what
 * /v1/summarize uses); the resolver's ModelNotServed is OpenAI's model_not_found.
 */
export async function realtimeEndpoint<T> (endpoints: { resolveEndpoint: (model: string | undefined) => Promise<T> }, model: string | undefined): Promise<T> {
  try {
    return await endpoints.resolveEndpoint(model)
  } catch (err) {
    throw err instanceof ModelNotServed ? modelNotFound(err.model, err.reason, err) : err
  }
}
