/**
 * Real-time endpoints as a resource, gateway side (no HTTP): deploy (CreateModel,
 * CreateEndpointConfig, CreateEndpoint), describe, list, scale
 * (UpdateEndpointWeightsAndCapacities), tear down, idle tear-down, and which endpoint names are
 * a valid `model` for real time right now.
 *
 * Stateless like the job service: SageMaker owns an endpoint's status; its tags (tags.ts) own
 * what the gateway added (managed-by, the request hash, idle policy, last invocation, capacity
 * ledger). So every replica sees the same endpoints, and a restart loses nothing. Reads are
 * cached for `cacheMs` per replica (a few seconds) to keep the control plane's API budget.
 *
 * Idempotency: the endpoint name is the key. A repeat of the same request returns the existing
 * endpoint; a different request for an existing name is a 409. Each creation step accepts an
 * "already existing" answer when the resource carries this request's hash, so two replicas
 * racing on one deploy end with one endpoint.
 */
import { createHash } from 'node:crypto'
import {
  AddTagsCommand, CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand,
  DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand,
  ListEndpointsCommand, ListTagsCommand, UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointOutput, type ProductionVariantInstanceType, type SageMakerClient, type Tag
} from '@aws-sdk/client-sagemaker'
import type { FastifyBaseLogger } from 'fastify'
import type { DeployBody, Endpoint, EndpointStatus } from '../../schemas/endpoints.js'
import { catalogError, Errors, isCatalogError, type CatalogError } from '../errors.js'
import { awsMessage, awsName, controlPlaneError, isResourceNotFound as isNotFound, type AwsLikeError } from '../sagemaker/aws-errors.js'
import { SAGEMAKER_NAME_PATTERN } from '../sagemaker/rules.js'
import { instanceRefusal, type InstanceChoice, type InstanceLimits } from '../instance-limits.js'
import type { Tenant } from '../tenants.js'
import type { InvocationLedger, PendingCalls } from './invocations.js'
import type { PriceTable } from './prices.js'
import { decodeMeta, ledgerTags, MANAGED_BY, TAG, tagMap, type EndpointMeta } from './tags.js'
import { endpointUsage, rescale } from './usage.js'

/** The one production variant a gateway deployment has. */
export const VARIANT_NAME = 'AllTraffic'
/** ms between two writes of one endpoint's last-invoked time and counts by one replica, at least. */
export const LAST_INVOKED_REFRESH_MS = 60_000
/** Retry-After (s) for a request to an endpoint that is Creating or Updating. */
const NOT_READY_RETRY_S = 5
/** ListTags calls in flight while listing. */
const LIST_CONCURRENCY = 8
/** ListEndpoints pages read at most per listing (100 endpoints each). */
const MAX_LIST_PAGES = 20
/** Statuses in which an endpoint answers InvokeEndpoint. */
const SERVING: ReadonlySet<string> = new Set(['InService'])
/** Statuses that pass by themselves: ask again shortly. */
const TRANSIENT: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'])

const isAlreadyExisting = (err: unknown): boolean => awsName(err) === 'ValidationException' && /already existing|already exists/i.test(awsMessage(err))
/** ARNs carry the account id: keep them out of what the client sees. */
const safe = (message: string): string => message.replace(/arn:aws[\w-]*:[^\s"',]*/g, '<arn>').slice(0, 300)
const show = (s: string): string => JSON.stringify(s)

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

/** An endpoint as SageMaker describes it, with its decoded tags. */
interface Described {
  description: DescribeEndpointOutput
  meta: EndpointMeta
  arn: string
  /** Its endpoint config's first production variant, once looked up (servedVariant). */
  variant?: Variant
}

/** What an endpoint config's first production variant says (DescribeEndpointConfig, ProductionVariants[0]); either may be absent. */
interface Variant {
  model?: string
  instanceType?: string
}

/** What the service needs; built once by the plugin. */
export interface EndpointsOptions {
  control: SageMakerClient
  prices: PriceTable
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): always valid models, never managed. */
  staticNames: readonly string[]
  /** Static names SageMaker does not describe (the local stack's built-in endpoint). */
  builtIn?: readonly string[]
  /** SAGEMAKER_MODEL_NAME: the SageMaker model behind the static names (not the built-in ones), when set. */
  staticModel?: string
  invocations: InvocationLedger
  log: FastifyBaseLogger
  /** ms a description is reused for routing; a few seconds. */
  cacheMs: number
  now?: () => number
  /** Called once per idle tear-down (metrics). */
  onIdleDelete?: (name: string) => void
  /** Keeps the final usage of a deleted endpoint (S3), when a bucket is configured. */
  archive?: { put: (endpoint: Endpoint, deletedAt: string) => Promise<void> }
  /** The instances an admin may deploy or scale to (ADMIN_MAX_INSTANCE_COUNT); none = SageMaker's own limits only. */
  instances?: InstanceLimits
}

/** The result of a deploy: the endpoint and whether it already existed (a repeat). */
export interface Deployed {
  endpoint: Endpoint
  replayed: boolean
}

/** Fingerprint of a deploy request (defaults applied, keys sorted), kept in a tag. */
export function deployHash (body: DeployBody): string {
  const normalised = { ...body, instanceCount: body.instanceCount ?? 1 }
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical)
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : 1).map(([k, x]) => [k, canonical(x)]))
    return v
  }
  return createHash('sha256').update(JSON.stringify(canonical(normalised))).digest('hex').slice(0, 32)
}

/** The endpoint service behind /v1/endpoints, real-time model resolution and idle tear-down. */
export class Endpoints {
  private readonly control: SageMakerClient
  private readonly prices: PriceTable
  private readonly staticNames: readonly string[]
  private readonly builtIn: ReadonlySet<string>
  private readonly staticModel: string | undefined
  private readonly invocations: InvocationLedger
  private readonly log: FastifyBaseLogger
  private readonly cacheMs: number
  private readonly now: () => number
  private readonly opts: EndpointsOptions
  /** name (lower case) → a recent description (undefined: SageMaker has none) and when it was read. */
  private readonly cache = new Map<string, { at: number, value: Described | undefined }>()
  /** name → epoch ms this replica last wrote the endpoint's invocation tags. */
  private readonly flushedAt = new Map<string, number>()
  private readonly flushing = new Map<string, Promise<void>>()

  constructor (opts: EndpointsOptions) {
    this.opts = opts
    this.control = opts.control
    this.prices = opts.prices
    this.staticNames = opts.staticNames
    this.builtIn = new Set(opts.builtIn ?? [])
    this.staticModel = opts.staticModel
    this.invocations = opts.invocations
    this.log = opts.log
    this.cacheMs = opts.cacheMs
    this.now = opts.now ?? Date.now
    opts.invocations.onInvocation((name) => { this.maybeFlush(name) })
  }

  // ---- routing -----------------------------------------------------------------------------

  /**
   * Resolves a real-time `model`: a static name, or a managed endpoint that is InService (on
   * any replica: the state is SageMaker's). Creating or Updating: 503 ENDPOINT_UNAVAILABLE with
   * Retry-After; anything else: ModelNotServed (a 400 naming the choices). Configured names
   * resolve synchronously: their requests reach the batcher exactly as before endpoints were a
   * resource.
   */
  resolveModel (model: string | undefined): string | Promise<string> {
    if (model === undefined) return this.staticNames[0] as string
    if (this.staticNames.includes(model)) return model
    return this.resolveDeployed(model)
  }

  private async resolveDeployed (model: string): Promise<string> {
    const found = await this.cached(model)
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

  // ---- the resource ------------------------------------------------------------------------

  /** Deploys `body` for `tenant` (an admin), or returns the existing endpoint for a repeat. */
  async deploy (tenant: Tenant, body: DeployBody): Promise<Deployed> {
    requireAdmin(tenant, 'deploy endpoints')
    this.requireInstances(tenant, { type: { field: 'body.instanceType', value: body.instanceType }, count: { field: 'body.instanceCount', value: body.instanceCount ?? 1 } })
    const name = body.name
    const hash = deployHash(body)
    if (this.staticNames.includes(name)) throw catalogError('CONFLICT', `endpoint ${show(name)} is configured in SAGEMAKER_ENDPOINT_NAME and was not deployed by this gateway; choose another name`)
    const existing = await this.describe(name)
    if (existing !== undefined) return { endpoint: this.replay(existing, hash), replayed: true }

    const count = body.instanceCount ?? 1
    const fromContainer = 'image' in body.model
    const modelName = 'image' in body.model ? name : body.model.name
    const common: Tag[] = [MANAGED_BY, { Key: TAG.requestHash, Value: hash }]
    const created: Array<() => Promise<void>> = []
    try {
      if ('image' in body.model) {
        const m = body.model
        await this.createOrAdopt('CreateModel', hash, async () => {
          await this.control.send(new CreateModelCommand({
            ModelName: modelName,
            PrimaryContainer: { Image: m.image, ModelDataUrl: m.modelDataUrl, ...(m.environment !== undefined ? { Environment: m.environment } : {}) },
            ExecutionRoleArn: m.role,
            Tags: common
          }))
        }, async () => (await this.control.send(new DescribeModelCommand({ ModelName: modelName }))).ModelArn, 'model')
        created.push(async () => { await this.control.send(new DeleteModelCommand({ ModelName: modelName })) })
      } else {
        await this.requireModel(modelName)
      }
      await this.createOrAdopt('CreateEndpointConfig', hash, async () => {
        await this.control.send(new CreateEndpointConfigCommand({
          EndpointConfigName: name,
          ProductionVariants: [{ VariantName: VARIANT_NAME, ModelName: modelName, InstanceType: body.instanceType as ProductionVariantInstanceType, InitialInstanceCount: count }],
          Tags: common
        }))
      }, async () => (await this.control.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))).EndpointConfigArn, 'endpoint configuration')
      created.push(async () => { await this.control.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })) })
      await this.control.send(new CreateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: name,
        Tags: [
          ...common,
          { Key: TAG.owner, Value: tenant.id },
          { Key: TAG.model, Value: modelName },
          { Key: TAG.modelCreated, Value: String(fromContainer) },
          { Key: TAG.instanceType, Value: body.instanceType },
          { Key: TAG.billedCount, Value: String(count) },
          ...(body.idleDeleteAfterMinutes !== undefined ? [{ Key: TAG.idleMinutes, Value: String(body.idleDeleteAfterMinutes) }] : [])
        ]
      }))
    } catch (err) {
      if (isAlreadyExisting(err)) {
        // a twin request won the race for the endpoint itself
        const twin = await this.describe(name, true)
        if (twin !== undefined) return { endpoint: this.replay(twin, hash), replayed: true }
      }
      const status = (err as AwsLikeError).$metadata?.httpStatusCode
      // a definite refusal leaves nothing half-made; an unclear answer keeps what exists
      if (status !== undefined && status >= 400 && status < 500) {
        for (const undo of created.reverse()) await undo().catch((e: unknown) => { this.log.warn({ err: e, endpoint: name }, 'could not roll back a partial deployment') })
      }
      throw this.deployError(err, body)
    }
    this.cache.delete(name.toLowerCase())
    this.log.info({ endpoint: name, model: modelName, instanceType: body.instanceType, instanceCount: count, owner: tenant.id }, 'endpoint deployment started')
    const endpoint = await this.describe(name, true)
    if (endpoint === undefined) throw catalogError('UPSTREAM_ERROR', `SageMaker does not describe endpoint ${show(name)} it has just created`)
    return { endpoint: this.view(endpoint), replayed: false }
  }

  /** One endpoint: a managed one or a static one (404 ENDPOINT_NOT_FOUND otherwise). */
  async get (name: string): Promise<Endpoint> {
    // a write of this replica's counts in progress lands first, so none is missing from the view
    await this.flushing.get(name)?.catch(() => undefined)
    const found = await this.describe(name, true)
    if (found !== undefined && (found.meta.managed || this.staticNames.includes(name))) return this.view(found, await this.servedVariant(found))
    if (this.builtIn.has(name)) return this.builtInView(name)
    throw this.notFound(name)
  }

  /**
   * The SageMaker model endpoint `name` serves, as a Batch Transform job on it needs it: the one
   * the gateway deployed it with (its tags); the local stack's built-in endpoint serves the
   * model of its name; a static name serves SAGEMAKER_MODEL_NAME when that is set; else the one
   * its endpoint config's first production variant names (DescribeEndpointConfig,
   * ProductionVariants[0].ModelName), as for an endpoint deployed elsewhere. Undefined when
   * there is no such endpoint or SageMaker names no model for it.
   */
  async modelOf (name: string): Promise<string | undefined> {
    if (this.builtIn.has(name)) return name
    const found = await this.describe(name)
    if (found === undefined) return undefined
    if (!found.meta.managed && this.staticModel !== undefined && this.staticNames.includes(name)) return this.staticModel
    return (await this.servedVariant(found)).model
  }

  /** Managed endpoints (admins: every status; others: InService), then the static ones. */
  async list (tenant: Tenant): Promise<Endpoint[]> {
    await Promise.allSettled(this.flushing.values())
    const managed = (await this.listManaged()).filter(d => tenant.admin || SERVING.has(d.description.EndpointStatus ?? ''))
    const out = managed.map(d => this.view(d))
    for (const name of this.staticNames) {
      if (out.some(e => e.name === name)) continue
      const found = this.builtIn.has(name) ? undefined : await this.describe(name, true)
      if (found !== undefined) out.push(this.view(found, await this.servedVariant(found)))
      else if (this.builtIn.has(name)) out.push(this.builtInView(name))
    }
    return out
  }

  /** Sets the instance count of a managed, InService endpoint. */
  async scale (tenant: Tenant, name: string, instanceCount: number): Promise<Endpoint> {
    requireAdmin(tenant, 'scale endpoints')
    if (!Number.isInteger(instanceCount) || instanceCount < 1) {
      throw catalogError('INVALID_REQUEST', `body.instanceCount must be an integer >= 1 (got ${instanceCount}): a real-time endpoint needs an instance; DELETE it instead`)
    }
    this.requireInstances(tenant, { count: { field: 'body.instanceCount', value: instanceCount } })
    const found = await this.requireManaged(name, 'scaled')
    const status = found.description.EndpointStatus ?? ''
    if (status !== 'InService') throw catalogError('CONFLICT', `endpoint ${show(name)} is ${status}; it can be scaled once InService`)
    const variant = found.description.ProductionVariants?.[0]?.VariantName ?? VARIANT_NAME
    const at = this.now()
    const ledger = rescale(found.meta.ledger, instanceCount, at)
    try {
      await this.control.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: name, DesiredWeightsAndCapacities: [{ VariantName: variant, DesiredInstanceCount: instanceCount }] }))
    } catch (err) {
      if (awsName(err) === 'ValidationException' && /in-progress|cannot update/i.test(awsMessage(err))) {
        throw catalogError('CONFLICT', `endpoint ${show(name)} is being updated; scale it once InService`, { cause: err })
      }
      throw controlPlaneError('UpdateEndpointWeightsAndCapacities', err)
    }
    await this.addTags(found.arn, ledgerTags(ledger))
    this.cache.delete(name.toLowerCase())
    this.log.info({ endpoint: name, from: found.meta.ledger.count, to: instanceCount }, 'endpoint scaling')
    return this.view(await this.describe(name, true) ?? found)
  }

  /**
   * Tears down a managed endpoint: the endpoint, then the config and the model when the gateway
   * created them (by their own managed-by tag). Requests still queued for it fail with 503.
   */
  async delete (tenant: Tenant, name: string, reason: 'request' | 'idle' = 'request'): Promise<Endpoint> {
    if (reason === 'request') requireAdmin(tenant, 'delete endpoints')
    let found = await this.requireManaged(name, 'deleted')
    if (found.description.EndpointStatus === 'Deleting') return this.view(found)
    // this replica's unflushed calls go into the tags first, so the final usage has them
    await this.flush(name).catch(() => undefined)
    found = await this.describe(name, true) ?? found
    const final = this.view(found)
    const deletedAt = new Date(this.now()).toISOString()
    try {
      await this.control.send(new DeleteEndpointCommand({ EndpointName: name }))
    } catch (err) {
      if (isNotFound(err)) throw this.notFound(name)
      throw controlPlaneError('DeleteEndpoint', err)
    }
    this.cache.delete(name.toLowerCase())
    await this.opts.archive?.put(final, deletedAt).catch((err: unknown) => { this.log.warn({ err, endpoint: name }, 'could not archive the usage of a deleted endpoint') })
    const configName = found.description.EndpointConfigName ?? name
    await this.deleteIfManaged('endpoint configuration', async () => (await this.control.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).EndpointConfigArn,
      async () => { await this.control.send(new DeleteEndpointConfigCommand({ EndpointConfigName: configName })) })
    if (found.meta.modelCreated && found.meta.model !== undefined) {
      const modelName = found.meta.model
      await this.deleteIfManaged('model', async () => (await this.control.send(new DescribeModelCommand({ ModelName: modelName }))).ModelArn,
        async () => { await this.control.send(new DeleteModelCommand({ ModelName: modelName })) })
    }
    this.log.info({ endpoint: name, reason, instanceSeconds: final.usage.instanceSeconds, estimatedCostUsd: final.usage.estimatedCostUsd }, 'endpoint deleted')
    const after = await this.describe(name, true)
    return after !== undefined ? this.view(after) : { ...final, status: 'Deleting' }
  }

  /**
   * One idle sweep: every managed InService endpoint with idleDeleteAfterMinutes whose last
   * invocation (through any replica; this one's unflushed calls count too), or InService start,
   * is older than that is deleted. Replicas may sweep at once: a second DeleteEndpoint finds it
   * Deleting or gone, and that is agreement, not an error. Returns the names deleted here.
   */
  async sweep (): Promise<string[]> {
    const deleted: string[] = []
    for (const found of await this.listManaged()) {
      const name = found.description.EndpointName ?? ''
      const idle = found.meta.idleMinutes
      if (idle === undefined || found.description.EndpointStatus !== 'InService') continue
      const last = this.lastActivity(found)
      if (this.now() - last < idle * 60_000) continue
      // re-read right before deleting: another replica may have written a newer invocation
      const fresh = await this.describe(name, true)
      if (fresh === undefined || fresh.description.EndpointStatus !== 'InService' || this.now() - this.lastActivity(fresh) < idle * 60_000) continue
      try {
        await this.delete({ id: 'idle-sweeper', admin: true }, name, 'idle')
        this.log.info({ endpoint: name, idleDeleteAfterMinutes: idle, lastActivity: new Date(last).toISOString() }, 'idle endpoint torn down')
        this.opts.onIdleDelete?.(name)
        deleted.push(name)
      } catch (err) {
        this.log.warn({ err, endpoint: name }, 'idle tear-down did not complete; next sweep retries')
      }
    }
    return deleted
  }

  /** Writes this replica's unflushed calls to `name`'s tags (counts added, last-invoked raised). */
  async flush (name: string): Promise<void> {
    const running = this.flushing.get(name)
    if (running !== undefined) { await running; return }
    const calls = this.invocations.take(name)
    if (calls === undefined) return
    const p = this.writeCalls(name, calls).finally(() => { this.flushing.delete(name) })
    this.flushing.set(name, p)
    await p
  }

  /** Flushes every endpoint with unflushed calls (on close). */
  async flushAll (names: Iterable<string>): Promise<void> {
    for (const name of names) {
      if (!this.staticNames.includes(name)) await this.flush(name).catch(() => undefined)
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Flushes at most once per LAST_INVOKED_REFRESH_MS per endpoint, in the background. */
  private maybeFlush (name: string): void {
    const last = this.flushedAt.get(name) ?? 0
    if (this.now() - last < LAST_INVOKED_REFRESH_MS || this.staticNames.includes(name)) return
    this.flushedAt.set(name, this.now())
    void this.flush(name).catch((err: unknown) => { this.log.warn({ err, endpoint: name }, 'could not record endpoint invocations') })
  }

  private async writeCalls (name: string, calls: PendingCalls): Promise<void> {
    try {
      // read-modify-write: two replicas writing in the same instant can lose one's counts (the
      // usage is an estimate); last-invoked only ever moves forward
      const found = await this.describe(name, true)
      if (found === undefined || !found.meta.managed) return
      const last = Math.max(found.meta.lastInvokedMs ?? 0, calls.lastMs)
      await this.addTags(found.arn, [
        { Key: TAG.lastInvokedAt, Value: new Date(last).toISOString() },
        { Key: TAG.invocations, Value: String(found.meta.invocations + calls.invocations) },
        { Key: TAG.items, Value: String(found.meta.items + calls.items) }
      ])
      this.flushedAt.set(name, this.now())
      this.cache.delete(name.toLowerCase())
    } catch (err) {
      this.invocations.restore(name, calls)
      throw err
    }
  }

  /** Latest of: last invocation (tags or this replica), InService start, last modification (ms). */
  private lastActivity (found: Described): number {
    const name = found.description.EndpointName ?? ''
    return Math.max(
      found.meta.lastInvokedMs ?? 0,
      this.invocations.peek(name)?.lastMs ?? 0,
      found.meta.ledger.sinceMs ?? 0,
      found.description.LastModifiedTime?.getTime() ?? 0
    )
  }

  /** The model and instance type behind a described endpoint (its tags when managed); the endpoint config is read once per description. */
  private async servedVariant (found: Described): Promise<Variant> {
    if (found.meta.managed) return { ...(found.meta.model !== undefined ? { model: found.meta.model } : {}), ...(found.meta.instanceType !== undefined ? { instanceType: found.meta.instanceType } : {}) }
    found.variant ??= await this.variant(found.description.EndpointConfigName)
    return found.variant
  }

  /** The model and instance type an endpoint config's first production variant names. */
  private async variant (configName: string | undefined): Promise<Variant> {
    if (configName === undefined) return {}
    try {
      const first = (await this.control.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).ProductionVariants?.[0]
      return { ...(first?.ModelName !== undefined ? { model: first.ModelName } : {}), ...(first?.InstanceType !== undefined ? { instanceType: first.InstanceType } : {}) }
    } catch (err) {
      // an endpoint keeps serving after its config is deleted; SageMaker then no longer says which model
      if (isNotFound(err)) return {}
      throw controlPlaneError('DescribeEndpointConfig', err)
    }
  }

  /** A description for routing, at most cacheMs old. */
  private async cached (name: string): Promise<Described | undefined> {
    const hit = this.cache.get(name.toLowerCase())
    if (hit !== undefined && this.now() - hit.at < this.cacheMs) return hit.value
    return await this.describe(name, true)
  }

  /** DescribeEndpoint and ListTags; undefined when there is no such endpoint. Records the InService start once. */
  private async describe (name: string, fresh = false): Promise<Described | undefined> {
    if (!fresh) {
      const hit = this.cache.get(name.toLowerCase())
      if (hit !== undefined && this.now() - hit.at < this.cacheMs) return hit.value
    }
    if (!SAGEMAKER_NAME_PATTERN.test(name)) return undefined
    let description: DescribeEndpointOutput
    try {
      description = await this.control.send(new DescribeEndpointCommand({ EndpointName: name }))
    } catch (err) {
      if (isNotFound(err)) {
        this.cache.set(name.toLowerCase(), { at: this.now(), value: undefined })
        return undefined
      }
      throw controlPlaneError('DescribeEndpoint', err)
    }
    const found = await this.withTags(description)
    this.cache.set(name.toLowerCase(), { at: this.now(), value: found })
    return found
  }

  private async withTags (description: DescribeEndpointOutput): Promise<Described> {
    const arn = description.EndpointArn ?? ''
    let tags: Tag[]
    try {
      tags = (await this.control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []
    } catch (err) {
      if (isNotFound(err)) tags = []
      else throw controlPlaneError('ListTags', err)
    }
    const current = description.ProductionVariants?.[0]?.CurrentInstanceCount
    let meta = decodeMeta(tags, current ?? 1)
    // the capacity ledger starts when the endpoint is first seen InService: from the time it got
    // there (LastModifiedTime of its first InService), which any replica computes alike
    if (meta.managed && meta.ledger.sinceMs === undefined && description.EndpointStatus === 'InService') {
      const since = description.LastModifiedTime?.getTime() ?? this.now()
      const ledger = { ...meta.ledger, sinceMs: since, count: current ?? meta.ledger.count }
      await this.addTags(arn, ledgerTags(ledger)).catch((err: unknown) => { this.log.warn({ err, arn }, 'could not record when the endpoint went InService') })
      meta = { ...meta, ledger }
    }
    return { description, meta, arn }
  }

  /** Managed endpoints, fresh from SageMaker (ListEndpoints, then ListTags of each). */
  private async listManaged (): Promise<Described[]> {
    const summaries: string[] = []
    let token: string | undefined
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let out
      try {
        out = await this.control.send(new ListEndpointsCommand({ MaxResults: 100, SortBy: 'CreationTime', SortOrder: 'Descending', ...(token !== undefined ? { NextToken: token } : {}) }))
      } catch (err) {
        throw controlPlaneError('ListEndpoints', err)
      }
      for (const e of out.Endpoints ?? []) if (e.EndpointName !== undefined) summaries.push(e.EndpointName)
      token = out.NextToken
      if (token === undefined || token === '') break
    }
    const found: Described[] = []
    for (let i = 0; i < summaries.length; i += LIST_CONCURRENCY) {
      const chunk = await Promise.all(summaries.slice(i, i + LIST_CONCURRENCY).map(async name => await this.describe(name, true)))
      for (const d of chunk) if (d !== undefined && d.meta.managed) found.push(d)
    }
    return found
  }

  private async requireManaged (name: string, what: string): Promise<Described> {
    const found = await this.describe(name, true)
    if (found === undefined) {
      if (this.builtIn.has(name)) throw catalogError('NOT_MANAGED', `endpoint ${show(name)} is the local stack's built-in endpoint; it cannot be ${what}`)
      throw this.notFound(name)
    }
    if (!found.meta.managed) throw catalogError('NOT_MANAGED', `endpoint ${show(name)} was not deployed by this gateway; it cannot be ${what} here`)
    return found
  }

  /** 403 FORBIDDEN when `tenant` may not have these instances (instance-limits.ts). */
  private requireInstances (tenant: Tenant, choice: InstanceChoice): void {
    if (this.opts.instances === undefined) return
    const refused = instanceRefusal(this.opts.instances, tenant, choice)
    if (refused !== undefined) throw catalogError('FORBIDDEN', refused)
  }

  private async requireModel (name: string): Promise<void> {
    try {
      await this.control.send(new DescribeModelCommand({ ModelName: name }))
    } catch (err) {
      if (isNotFound(err)) throw catalogError('INVALID_REQUEST', `body.model.name ${show(name)}: SageMaker has no such model`, { cause: err })
      throw controlPlaneError('DescribeModel', err)
    }
  }

  /** Runs a create; an "already existing" resource is adopted only when it carries this request's hash. */
  private async createOrAdopt (operation: string, hash: string, create: () => Promise<void>, arnOf: () => Promise<string | undefined>, what: string): Promise<void> {
    try {
      await create()
    } catch (err) {
      if (!isAlreadyExisting(err)) throw err
      const arn = await arnOf()
      const tags = arn === undefined ? new Map<string, string>() : tagMap((await this.control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags)
      if (tags.get(TAG.requestHash) !== hash) {
        throw catalogError('CONFLICT', `a SageMaker ${what} with this name already exists and was not made for this request; choose another endpoint name`, { cause: err })
      }
      this.log.info({ operation }, 'adopting a resource a twin request created')
    }
  }

  private async deleteIfManaged (what: string, arnOf: () => Promise<string | undefined>, remove: () => Promise<void>): Promise<void> {
    try {
      const arn = await arnOf()
      if (arn === undefined) return
      const tags = tagMap((await this.control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags)
      if (tags.get(MANAGED_BY.Key) !== MANAGED_BY.Value) return
      await remove()
    } catch (err) {
      if (isNotFound(err)) return
      this.log.warn({ err, what }, 'could not delete a resource of a deleted endpoint')
    }
  }

  private async addTags (arn: string, tags: Tag[]): Promise<void> {
    try {
      await this.control.send(new AddTagsCommand({ ResourceArn: arn, Tags: tags }))
    } catch (err) {
      throw controlPlaneError('AddTags', err)
    }
  }

  /** Answers a repeat: the existing endpoint when managed and deployed by the same request, else 409. */
  private replay (found: Described, hash: string): Endpoint {
    const name = found.description.EndpointName ?? ''
    if (!found.meta.managed) throw catalogError('CONFLICT', `an endpoint named ${show(name)} already exists and was not deployed by this gateway; choose another name`)
    if (found.meta.requestHash !== hash) throw catalogError('CONFLICT', `endpoint ${show(name)} already exists for a different request; use a new name, or scale it with POST /v1/endpoints/${name}/scale`)
    return this.view(found)
  }

  /** Maps a deploy failure: what the caller can fix is a 400 naming the field. */
  private deployError (err: unknown, body: DeployBody): CatalogError {
    if (isCatalogError(err)) return err
    const name = awsName(err)
    const message = awsMessage(err)
    if (name === 'ValidationException') {
      // AWS: "Could not access model data at s3://... Please ensure that the role ... exists and ... has s3:GetObject"
      if (/model data/i.test(message) && 'modelDataUrl' in body.model) {
        return catalogError('INVALID_REQUEST', `body.model.modelDataUrl ${show(body.model.modelDataUrl)}: SageMaker cannot read it with body.model.role: ${safe(message)}`, { cause: err })
      }
      // AWS: "Requested image ... not found" / "Using image ... access denied" / ECR permissions
      if (/image/i.test(message) && 'image' in body.model) {
        return catalogError('INVALID_REQUEST', `body.model.image ${show(body.model.image)}: SageMaker cannot pull it with body.model.role: ${safe(message)}`, { cause: err })
      }
      if (/instance ?type/i.test(message)) {
        return catalogError('INVALID_REQUEST', `body.instanceType ${show(body.instanceType)}: ${safe(message)}`, { cause: err })
      }
      return catalogError('INVALID_REQUEST', `SageMaker rejected the endpoint: ${safe(message)}`, { cause: err })
    }
    return controlPlaneError('CreateEndpoint', err)
  }

  private notFound (name: string): CatalogError {
    return catalogError('ENDPOINT_NOT_FOUND', `no endpoint named ${show(name)} (deployed by this gateway or in SAGEMAKER_ENDPOINT_NAME)`)
  }

  /**
   * The API's endpoint: SageMaker's status and times, the tags' facts, usage so far. `served` is
   * the model and instance type behind it (servedVariant), needed for an endpoint the gateway
   * did not deploy (it has no tags of ours).
   */
  private view (found: Described, served: Variant = {}): Endpoint {
    const d = found.description
    const m = found.meta
    const name = d.EndpointName ?? ''
    const count = d.ProductionVariants?.[0]?.CurrentInstanceCount ?? m.ledger.count
    const instanceType = m.instanceType ?? served.instanceType ?? 'unknown'
    const pending = this.invocations.peek(name)
    // for an endpoint the gateway did not deploy, its InService start is unknown: its last
    // modification is a lower bound of its instance time
    const ledger = m.managed ? m.ledger : { accruedSeconds: 0, count, ...(d.EndpointStatus === 'InService' && d.LastModifiedTime !== undefined ? { sinceMs: d.LastModifiedTime.getTime() } : {}) }
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
      usage: endpointUsage(this.prices, instanceType, ledger, until, { invocations: m.invocations + (pending?.invocations ?? 0), items: m.items + (pending?.items ?? 0) })
    }
  }

  /** The local stack's built-in endpoint: always InService, no instances billed. */
  private builtInView (name: string): Endpoint {
    const pending = this.invocations.peek(name)
    return {
      name,
      status: 'InService',
      model: name,
      instanceType: 'local',
      instanceCount: 1,
      createdAt: new Date(0).toISOString(),
      managed: false,
      usage: endpointUsage(this.prices, 'local', { accruedSeconds: 0, count: 1 }, this.now(), { invocations: pending?.invocations ?? 0, items: pending?.items ?? 0 })
    }
  }
}

/** 403 FORBIDDEN unless `tenant` is an admin (endpoints are shared by every tenant). */
export function requireAdmin (tenant: Tenant, what: string): void {
  if (!tenant.admin) throw catalogError('FORBIDDEN', `only admin tenants (ADMIN_API_KEYS) may ${what}; tenant ${show(tenant.id)} is not one`)
}
