/**
 * Which endpoint a real-time `model` names, and which SageMaker model an endpoint serves: the
 * only part of the endpoints service on the real-time path. A configured (static) name resolves
 * without a call to SageMaker; any other name is a managed endpoint, read through the
 * descriptions' cache (on any replica: the state is SageMaker's).
 */
import { catalogError, Errors, type CatalogError } from '../errors.js'
import { SERVING, show, type Descriptions } from './descriptions.js'

/** Retry-After (s) for a request to an endpoint that is Creating or Updating. */
const NOT_READY_RETRY_S = 5
/** Statuses that pass by themselves: ask again shortly. */
const TRANSIENT: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'])

/**
 * The resolver's refusal of a real-time `model` that no endpoint here serves: unknown, not
 * deployed by the gateway, or in a status that never serves. As thrown it is the gateway's own
 * answer, 400 INVALID_REQUEST naming body.model; `model` and `reason` let a contract that answers
 * otherwise render it its own way (OpenAI's 404 model_not_found, src/openai/models.ts).
 */
export class ModelNotServed extends Errors.INVALID_REQUEST implements CatalogError {
  readonly param = 'model'

  constructor (readonly model: string, readonly reason: string) {
    super(`body.model ${show(model)} ${reason}`)
  }
}

export interface ResolverOptions {
  descriptions: Descriptions
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): always valid; the first is the default. */
  staticNames: readonly string[]
  /** SAGEMAKER_MODEL_NAME: the SageMaker model behind the static names, when set. */
  staticModel?: string
}

/** Resolves real-time names to endpoints, and endpoints to the models they serve. */
export class Resolver {
  private readonly descriptions: Descriptions
  private readonly staticNames: readonly string[]
  private readonly staticModel: string | undefined

  constructor (opts: ResolverOptions) {
    this.descriptions = opts.descriptions
    this.staticNames = opts.staticNames
    this.staticModel = opts.staticModel
  }

  /**
   * Resolves a real-time `model` to the endpoint to invoke: a static name (none: the first), or
   * a managed endpoint that is InService. Creating or Updating: 503 ENDPOINT_UNAVAILABLE with
   * Retry-After; anything else: ModelNotServed (a 400 naming the choices).
   */
  async resolve (model: string | undefined): Promise<string> {
    if (model === undefined) return this.staticNames[0] as string
    if (this.staticNames.includes(model)) return model
    const found = await this.descriptions.cached(model)
    if (found === undefined || !found.meta.managed) {
      throw new ModelNotServed(model, `is not served here; available: ${this.staticNames.join(', ')} and the InService endpoints of GET /v1/endpoints`)
    }
    const status = found.description.EndpointStatus ?? 'Creating'
    if (SERVING.has(status)) return found.description.EndpointName ?? model
    if (TRANSIENT.has(status)) {
      throw catalogError('ENDPOINT_UNAVAILABLE', `endpoint ${show(model)} is ${status}; it serves once InService`, { retryAfterSeconds: NOT_READY_RETRY_S })
    }
    throw new ModelNotServed(model, `is ${status}; it cannot serve requests`)
  }

  /**
   * The SageMaker model endpoint `name` serves, as a Batch Transform job on it needs it: the one
   * the gateway deployed it with (its tags); a static name serves SAGEMAKER_MODEL_NAME when that
   * is set; else the one its endpoint config's first production variant names
   * (DescribeEndpointConfig, ProductionVariants[0].ModelName), as for an endpoint deployed
   * elsewhere. Undefined when there is no such endpoint or SageMaker names no model for it.
   */
  async modelOf (name: string): Promise<string | undefined> {
    const found = await this.descriptions.describe(name)
    if (found === undefined) return undefined
    if (!found.meta.managed && this.staticModel !== undefined && this.staticNames.includes(name)) return this.staticModel
    return (await this.descriptions.servedVariant(found)).model
  }
}
