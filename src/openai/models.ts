import type { Endpoint } from '../../schemas/endpoints.js'
import type { Endpoints } from '../endpoints/service.js'
import { catalogError, isCatalogError } from '../errors.js'

/**
 * The InService endpoint OpenAI's `model` names, by one describe (not a listing of every
 * endpoint); any other name is 404 ENDPOINT_NOT_FOUND with `param: model`, OpenAI's
 * model_not_found. Endpoints are shared by every tenant, as on /v1/endpoints.
 */
export async function servingEndpoint (endpoints: Endpoints, model: string): Promise<Endpoint> {
  let found: Endpoint | undefined
  try {
    found = await endpoints.get(model)
  } catch (err) {
    if (!isCatalogError(err) || err.code !== 'ENDPOINT_NOT_FOUND') throw err
  }
  if (found === undefined || found.status !== 'InService') {
    throw catalogError('ENDPOINT_NOT_FOUND', `model ${JSON.stringify(model)} is not an InService endpoint of this gateway; GET /v1/models lists them`, { param: 'model' })
  }
  return found
}
