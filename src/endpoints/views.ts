/**
 * The API's endpoints (schemas/endpoints.ts Endpoint) as SageMaker and the tags describe them:
 * one by name, the list a tenant may see, with usage so far (this replica's unwritten calls
 * included). Managed endpoints, and the configured (static) ones SageMaker describes.
 */
import type { Endpoint, EndpointStatus } from '../../schemas/endpoints.js'
import { isExplicitContractName } from '../sagemaker/contracts/explicit.js'
import { catalogError, type CatalogError } from '../errors.js'
import type { Tenant } from '../tenants.js'
import type { Activity } from './activity.js'
import { SERVING, show, type Described, type Descriptions, type Variant } from './descriptions.js'
import type { InvocationLedger } from './invocations.js'
import type { PriceTable } from './prices.js'
import { endpointUsage } from './usage.js'

export interface ViewsOptions {
  descriptions: Descriptions
  activity: Activity
  invocations: InvocationLedger
  prices: PriceTable
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): shown with the managed ones. */
  staticNames: readonly string[]
  now: () => number
  /** Called with every listing (metrics). */
  onList?: (endpoints: readonly Endpoint[]) => void
}

/** 404 ENDPOINT_NOT_FOUND for `name`. */
export function notFound (name: string): CatalogError {
  return catalogError('ENDPOINT_NOT_FOUND', `no endpoint named ${show(name)} (deployed by this gateway or in SAGEMAKER_ENDPOINT_NAME)`)
}

/** The view's `contract`: the explicit choice first, else the one detected at deploy; tags naming no known contract show none. */
function contractView (explicit: string | undefined, detected: string | undefined): Pick<Endpoint, 'contract'> {
  if (explicit !== undefined && isExplicitContractName(explicit)) return { contract: { name: explicit, source: 'explicit' } }
  if (detected !== undefined && isExplicitContractName(detected)) return { contract: { name: detected, source: 'detected' } }
  return {}
}

/** Endpoint objects: one, the list, and the view of a description. */
export class Views {
  private readonly descriptions: Descriptions
  private readonly activity: Activity
  private readonly invocations: InvocationLedger
  private readonly prices: PriceTable
  private readonly staticNames: readonly string[]
  private readonly now: () => number
  private readonly onList: ((endpoints: readonly Endpoint[]) => void) | undefined

  constructor (opts: ViewsOptions) {
    this.descriptions = opts.descriptions
    this.activity = opts.activity
    this.invocations = opts.invocations
    this.prices = opts.prices
    this.staticNames = opts.staticNames
    this.now = opts.now
    this.onList = opts.onList
  }

  /** One endpoint: a managed one or a static one (404 ENDPOINT_NOT_FOUND otherwise). */
  async get (name: string): Promise<Endpoint> {
    // a write of this replica's counts in progress lands first, so none is missing from the view
    await this.activity.settled(name)
    const found = await this.descriptions.describe(name, true)
    if (found !== undefined && (found.meta.managed || this.staticNames.includes(name))) return this.view(found, await this.descriptions.servedVariant(found))
    throw notFound(name)
  }

  /** Managed endpoints (admins: every status; others: InService), then the static ones SageMaker describes. */
  async list (tenant: Tenant): Promise<Endpoint[]> {
    await this.activity.settled()
    const managed = (await this.descriptions.listManaged()).filter(d => tenant.admin || SERVING.has(d.description.EndpointStatus ?? ''))
    const out = managed.map(d => this.view(d))
    for (const name of this.staticNames) {
      if (out.some(e => e.name === name)) continue
      const found = await this.descriptions.describe(name, true)
      if (found !== undefined) out.push(this.view(found, await this.descriptions.servedVariant(found)))
    }
    this.onList?.(out)
    return out
  }

  /**
   * The API's endpoint: SageMaker's status and times, the tags' facts, usage so far. `served` is
   * the model and instance type behind it (servedVariant), needed for an endpoint the gateway
   * did not deploy (it has no tags of ours).
   */
  view (found: Described, served: Variant = {}): Endpoint {
    const d = found.description
    const m = found.meta
    const name = d.EndpointName ?? ''
    const count = d.ProductionVariants?.[0]?.CurrentInstanceCount ?? m.ledger.count
    const instanceType = m.instanceType ?? served.instanceType ?? 'unknown'
    const pending = this.invocations.peek(name)
    // without a ledger in its tags (an endpoint the gateway did not deploy), its InService start
    // is unknown: its last modification is a lower bound of its instance time
    const ledger = m.managed || m.ledgerKept ? m.ledger : { accruedSeconds: 0, count, ...(d.EndpointStatus === 'InService' && d.LastModifiedTime !== undefined ? { sinceMs: d.LastModifiedTime.getTime() } : {}) }
    const until = d.EndpointStatus === 'Deleting' ? (d.LastModifiedTime?.getTime() ?? this.now()) : this.now()
    const lastInvoked = Math.max(m.lastInvokedMs ?? 0, pending?.lastMs ?? 0)
    return {
      name,
      status: (d.EndpointStatus ?? 'Creating') as EndpointStatus,
      // SageMaker may name no model (a config of inference components, or one deleted since)
      model: served.model ?? m.model ?? d.EndpointConfigName ?? name,
      instanceType,
      instanceCount: count,
      createdAt: (d.CreationTime ?? new Date(0)).toISOString(),
      managed: m.managed,
      ...(m.idleMinutes !== undefined ? { idleDeleteAfterMinutes: m.idleMinutes } : {}),
      ...(lastInvoked > 0 ? { lastInvokedAt: new Date(lastInvoked).toISOString() } : {}),
      ...(d.FailureReason !== undefined && d.FailureReason !== '' ? { failureReason: d.FailureReason } : {}),
      ...(m.jumpstart !== undefined ? { jumpstart: m.jumpstart } : {}),
      ...contractView(m.contract, m.detectedContract),
      usage: endpointUsage(this.prices, instanceType, ledger, until, { invocations: m.invocations + (pending?.invocations ?? 0), items: m.items + (pending?.items ?? 0) })
    }
  }
}
