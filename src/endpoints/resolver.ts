/**
 * Which endpoint a real-time `model` names and which container contract it speaks, and which
 * SageMaker model an endpoint serves: the only part of the endpoints service on the real-time
 * path. A configured (static) name is described once, on first use, and kept for the life of
 * the process; any other name is a managed endpoint, read through the descriptions' cache (on
 * any replica: the state is SageMaker's), its contract detected once per endpoint config.
 */
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import { catalogError, Errors, type CatalogError } from '../errors.js'
import { EXPLICIT_CONTRACT_NAMES, explicitContract, isExplicitContractName, type ExplicitContractName } from '../sagemaker/contracts/explicit.js'
import { modelContract } from '../sagemaker/contracts/model-contract.js'
import { parameterLimits, type ParameterLimits } from '../sagemaker/contracts/parameters.js'
import type { TgiLimits } from '../sagemaker/contracts/tgi.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'
import { SERVING, show, type Described, type Descriptions } from './descriptions.js'

/** Retry-After (s) for a request to an endpoint that is Creating or Updating. */
const NOT_READY_RETRY_S = 5
/** Statuses that pass by themselves: ask again shortly. */
const TRANSIENT: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'])

/**
 * The resolver's refusal of a real-time `model` that no endpoint here serves: unknown, not
 * deployed by the gateway, in a status that never serves, or of a contract the gateway cannot
 * tell. As thrown it is the gateway's own answer, 400 INVALID_REQUEST naming body.model; `model`
 * and `reason` let a contract that answers otherwise render it its own way (OpenAI's 404
 * model_not_found, src/openai/models.ts).
 */
export class ModelNotServed extends Errors.INVALID_REQUEST implements CatalogError {
  readonly param = 'model'

  constructor (readonly model: string, readonly reason: string) {
    super(`body.model ${show(model)} ${reason}`)
  }
}

/** The endpoint a real-time request goes to, and how to talk to it. */
export interface ResolvedEndpoint {
  /** The SageMaker endpoint name (EndpointName). */
  name: string
  /** What its container speaks: explicit (tag, ENDPOINT_CONTRACTS) or detected from its model. */
  contract: ContainerContract
  /** The container's parameter limits (TGI's MAX_STOP_SEQUENCES, MAX_BEST_OF); empty for the others. */
  limits: ParameterLimits
  /** Instances serving it (the first variant's CurrentInstanceCount when it was resolved; at least 1). */
  instances: number
}

export interface ResolverOptions {
  descriptions: Descriptions
  /** DescribeModel, for the contract of an endpoint's model. */
  control: SageMakerClient
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): always valid; the first is the default. */
  staticNames: readonly string[]
  /** SAGEMAKER_MODEL_NAME: the SageMaker model behind the static names, when set. */
  staticModel?: string
  /** ENDPOINT_CONTRACTS: the contract of endpoints the gateway did not deploy, by name. */
  endpointContracts?: ReadonlyMap<string, ExplicitContractName>
  now?: () => number
}

/**
 * ms a static name's resolution is used before SageMaker is asked again whether its endpoint
 * changed (UpdateEndpoint to another model, a scale): one DescribeEndpoint and ListTags per
 * minute per name, off the hot path of every other request.
 */
export const STATIC_RECHECK_MS = 60_000

/** A contract as the resolver found it, or why it could not. */
type Found = { ok: true, contract: ContainerContract, tgi?: TgiLimits } | { ok: false, reason: string }

const HOW_TO_CHOOSE = `choose it with ENDPOINT_CONTRACTS (endpoint=contract, one of ${EXPLICIT_CONTRACT_NAMES.join(', ')}) or deploy it through POST /v1/endpoints with the contract option`

/** Resolves real-time names to endpoints and their contracts, and endpoints to the models they serve. */
export class Resolver {
  private readonly descriptions: Descriptions
  private readonly control: SageMakerClient
  private readonly staticNames: readonly string[]
  private readonly staticModel: string | undefined
  private readonly endpointContracts: ReadonlyMap<string, ExplicitContractName>
  /** static name → its resolution and when it was last checked against SageMaker (first use describes it). */
  private readonly statics = new Map<string, { checkedAt: number, value: Promise<ResolvedEndpoint> }>()
  private readonly now: () => number
  /**
   * endpoint name (lower case; managed or static) → its resolution for one state of the endpoint: its endpoint
   * config and last modification (an endpoint's model changes only by UpdateEndpoint, which
   * changes both; a scale changes the second, so the instance count follows).
   */
  private readonly byState = new Map<string, { state: string, value: Promise<ResolvedEndpoint> }>()

  constructor (opts: ResolverOptions) {
    this.descriptions = opts.descriptions
    this.control = opts.control
    this.staticNames = opts.staticNames
    this.staticModel = opts.staticModel
    this.now = opts.now ?? Date.now
    this.endpointContracts = opts.endpointContracts ?? new Map()
  }

  /**
   * Resolves a real-time `model` to the endpoint to invoke and its contract: a static name
   * (none: the first), or a managed endpoint that is InService. Creating or Updating: 503
   * ENDPOINT_UNAVAILABLE with Retry-After; anything else, or a contract that cannot be told:
   * ModelNotServed (a 400 naming the choices, or how to choose the contract).
   */
  async resolve (model: string | undefined): Promise<ResolvedEndpoint> {
    const name = model ?? this.staticNames[0] as string
    if (this.staticNames.includes(name)) return await this.resolveStatic(name)
    const found = await this.descriptions.cached(name)
    if (found === undefined || !found.meta.managed) {
      throw new ModelNotServed(name, `is not served here; available: ${this.staticNames.join(', ')} and the InService endpoints of GET /v1/endpoints`)
    }
    const status = found.description.EndpointStatus ?? 'Creating'
    if (TRANSIENT.has(status)) {
      throw catalogError('ENDPOINT_UNAVAILABLE', `endpoint ${show(name)} is ${status}; it serves once InService`, { retryAfterSeconds: NOT_READY_RETRY_S })
    }
    if (!SERVING.has(status)) throw new ModelNotServed(name, `is ${status}; it cannot serve requests`)
    return await this.forState(name, found)
  }

  /**
   * The resolution of `found` for its state (endpoint config and last modification): detected
   * once per state. A contract that cannot be told is kept for that state too (asking DescribeModel
   * again cannot change it); any other failure is not kept, so the next request asks again.
   */
  private async forState (name: string, found: Described): Promise<ResolvedEndpoint> {
    const key = name.toLowerCase()
    const state = `${found.description.EndpointConfigName ?? ''}\n${found.description.LastModifiedTime?.getTime() ?? ''}`
    const known = this.byState.get(key)
    if (known !== undefined && known.state === state) return await known.value
    const value = this.withContract(found.description.EndpointName ?? name, name, found)
    this.byState.set(key, { state, value })
    value.catch((err: unknown) => { if (!(err instanceof ModelNotServed) && this.byState.get(key)?.value === value) this.byState.delete(key) })
    return await value
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

  /**
   * A static name: described and its contract found on first use, then kept, and checked against
   * SageMaker again every STATIC_RECHECK_MS: an endpoint moved to another model (FLAN-T5 1.x to
   * 2.x by UpdateEndpoint) or scaled is seen within a minute, re-detected only when its state
   * changed. Concurrent requests share one check; a failure is not kept.
   */
  private async resolveStatic (name: string): Promise<ResolvedEndpoint> {
    const entry = this.statics.get(name)
    if (entry !== undefined && this.now() - entry.checkedAt < STATIC_RECHECK_MS) return await entry.value
    const value = (async () => {
      const found = await this.descriptions.describe(name, true)
      if (found === undefined) throw new ModelNotServed(name, 'is configured (SAGEMAKER_ENDPOINT_NAME) but SageMaker has no such endpoint')
      return await this.forState(name, found)
    })()
    this.statics.set(name, { checkedAt: this.now(), value })
    value.catch(() => { if (this.statics.get(name)?.value === value) this.statics.delete(name) })
    return await value
  }

  /** The resolution of a described endpoint, or ModelNotServed saying why its contract is unknown. */
  private async withContract (name: string, asked: string, found: Described): Promise<ResolvedEndpoint> {
    const contract = await this.contractOf(name, found)
    if (!contract.ok) throw new ModelNotServed(asked, `is an endpoint whose container contract the gateway cannot tell: ${contract.reason}; ${HOW_TO_CHOOSE}`)
    const instances = Math.max(1, found.description.ProductionVariants?.[0]?.CurrentInstanceCount ?? 1)
    return { name, contract: contract.contract, limits: parameterLimits(contract.tgi), instances }
  }

  /** In this order: the endpoint's tag (chosen at deploy), ENDPOINT_CONTRACTS, its model's image (DescribeModel). */
  private async contractOf (name: string, found: Described): Promise<Found> {
    const tagged = found.meta.contract
    if (tagged !== undefined) {
      if (!isExplicitContractName(tagged)) return { ok: false, reason: `its tag t2t:contract says ${show(tagged)}, not one of ${EXPLICIT_CONTRACT_NAMES.join(', ')}` }
    }
    const explicit = tagged ?? this.endpointContracts.get(name)
    let model = (await this.descriptions.servedVariant(found)).model
    if (model === undefined && this.staticNames.includes(name)) model = this.staticModel
    // a chosen contract needs no model, but reads the container's limits from it when there is one
    if (model === undefined) return explicit !== undefined ? { ok: true, ...explicitContract(explicit) } : { ok: false, reason: 'SageMaker names no model for it (its endpoint config is gone)' }
    const detection = await modelContract(this.control, model, explicit)
    if (detection === undefined && explicit !== undefined) return { ok: true, ...explicitContract(explicit) }
    if (detection === undefined) return { ok: false, reason: `its model ${show(model)} no longer exists` }
    if (!detection.known) return { ok: false, reason: detection.reason }
    return { ok: true, contract: detection.contract, ...(detection.tgi !== undefined ? { tgi: detection.tgi } : {}) }
  }
}
