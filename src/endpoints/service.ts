/**
 * The endpoints service behind /v1/endpoints, real-time resolution and idle tear-down, composed
 * of one part per concern (index.ts says what each owns); this facade builds them and gives the
 * routes one object.
 *
 * Stateless like the job service: SageMaker owns an endpoint's status; its tags (tags.ts) own
 * what the gateway added (managed-by, the request hash, idle policy, last invocation, capacity
 * ledger). So every replica sees the same endpoints, and a restart loses nothing.
 */
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import type { FastifyBaseLogger } from 'fastify'
import type { DeployBody, Endpoint } from '../../schemas/endpoints.js'
import type { InstanceLimits } from '../instance-limits.js'
import type { Tenant } from '../tenants.js'
import type { ExplicitContractName } from '../sagemaker/contracts/explicit.js'
import { Activity } from './activity.js'
import { Descriptions } from './descriptions.js'
import type { InvocationLedger } from './invocations.js'
import { Lifecycle, type Deployed, type JumpStartResolver } from './lifecycle.js'
import type { PriceTable } from './prices.js'
import { Resolver, type ResolvedEndpoint } from './resolver.js'
import { IdleSweeper } from './sweeper.js'
import { Views } from './views.js'

/** What the service needs; built once by the plugin. */
export interface EndpointsOptions {
  control: SageMakerClient
  prices: PriceTable
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): always valid models, never managed. */
  staticNames: readonly string[]
  /** SAGEMAKER_MODEL_NAME: the SageMaker model behind the static names, when set. */
  staticModel?: string
  /** ENDPOINT_CONTRACTS: the contract of endpoints the gateway did not deploy, by name. */
  endpointContracts?: ReadonlyMap<string, ExplicitContractName>
  invocations: InvocationLedger
  log: FastifyBaseLogger
  /** ms a description is reused for routing; a few seconds. */
  cacheMs: number
  now?: () => number
  /** Called once per idle tear-down (metrics). */
  onIdleDelete?: (name: string) => void
  /** Called with every listing (metrics). */
  onList?: (endpoints: readonly Endpoint[]) => void
  /** Keeps the final usage of a deleted endpoint (S3), when a bucket is configured. */
  archive?: { put: (endpoint: Endpoint, deletedAt: string) => Promise<void> }
  /** The instances an admin may deploy or scale to (ADMIN_MAX_INSTANCE_COUNT); none = SageMaker's own limits only. */
  instances?: InstanceLimits
  /** Resolves deploys by JumpStart model id (src/jumpstart). */
  jumpstart?: JumpStartResolver
}

/** The endpoints service: its parts, and the calls the routes make on them. */
export class Endpoints {
  private readonly resolver: Resolver
  private readonly views: Views
  private readonly lifecycle: Lifecycle
  readonly activity: Activity
  readonly sweeper: IdleSweeper

  constructor (opts: EndpointsOptions) {
    const { control, log, staticNames, invocations } = opts
    const now = opts.now ?? Date.now
    const descriptions = new Descriptions({ control, log, cacheMs: opts.cacheMs, now })
    this.resolver = new Resolver({
      descriptions,
      control,
      staticNames,
      ...(opts.staticModel !== undefined ? { staticModel: opts.staticModel } : {}),
      ...(opts.endpointContracts !== undefined ? { endpointContracts: opts.endpointContracts } : {}),
      now
    })
    this.activity = new Activity({ descriptions, invocations, staticNames, log, now })
    this.views = new Views({ descriptions, activity: this.activity, invocations, prices: opts.prices, staticNames, now, ...(opts.onList !== undefined ? { onList: opts.onList } : {}) })
    this.lifecycle = new Lifecycle({
      control,
      descriptions,
      views: this.views,
      activity: this.activity,
      staticNames,
      log,
      now,
      ...(opts.archive !== undefined ? { archive: opts.archive } : {}),
      ...(opts.instances !== undefined ? { instances: opts.instances } : {}),
      ...(opts.jumpstart !== undefined ? { jumpstart: opts.jumpstart } : {})
    })
    this.sweeper = new IdleSweeper({ descriptions, lifecycle: this.lifecycle, invocations, log, now, ...(opts.onIdleDelete !== undefined ? { onIdleDelete: opts.onIdleDelete } : {}) })
  }

  /** The endpoint a real-time request's `model` field names, and its contract (Resolver.resolve). */
  async resolveEndpoint (model: string | undefined): Promise<ResolvedEndpoint> {
    return await this.resolver.resolve(model)
  }

  /** The SageMaker model endpoint `name` serves (Resolver.modelOf). */
  async modelOf (name: string): Promise<string | undefined> {
    return await this.resolver.modelOf(name)
  }

  async deploy (tenant: Tenant, body: DeployBody): Promise<Deployed> {
    return await this.lifecycle.deploy(tenant, body)
  }

  async get (name: string): Promise<Endpoint> {
    return await this.views.get(name)
  }

  async list (tenant: Tenant): Promise<Endpoint[]> {
    return await this.views.list(tenant)
  }

  async scale (tenant: Tenant, name: string, instanceCount: number): Promise<Endpoint> {
    return await this.lifecycle.scale(tenant, name, instanceCount)
  }

  async delete (tenant: Tenant, name: string): Promise<Endpoint> {
    return await this.lifecycle.delete(tenant, name)
  }
}
