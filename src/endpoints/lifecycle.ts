/**
 * The life cycle of the endpoints the gateway deploys: deploy (CreateModel,
 * CreateEndpointConfig, CreateEndpoint), scale (UpdateEndpointWeightsAndCapacities) and tear
 * down, with their rollbacks. Only admins act, and only on endpoints the gateway deployed
 * (the managed-by tag); configured (static) endpoints are never touched.
 *
 * Idempotency: the endpoint name is the key. A repeat of the same request returns the existing
 * endpoint; a different request for an existing name is a 409. Each creation step accepts an
 * "already existing" answer when the resource carries this request's hash (it is adopted), so
 * two replicas racing on one deploy end with one endpoint.
 */
import { createHash } from 'node:crypto'
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand,
  DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointConfigCommand, DescribeModelCommand,
  ListTagsCommand, UpdateEndpointWeightsAndCapacitiesCommand,
  type ProductionVariantInstanceType, type SageMakerClient, type Tag
} from '@aws-sdk/client-sagemaker'
import type { FastifyBaseLogger } from 'fastify'
import { DEFAULT_JUMPSTART_VERSION, type DeployBody, type Endpoint } from '../../schemas/endpoints.js'
import { CONTRACT_NAMES } from '../../schemas/contracts.js'
import { catalogError, isCatalogError, type CatalogError } from '../errors.js'
import { awsMessage, awsName, controlPlaneError, isResourceNotFound as isNotFound, type AwsLikeError } from '../sagemaker/aws-errors.js'
import { instanceRefusal, type InstanceChoice, type InstanceLimits } from '../instance-limits.js'
import type { DeployPlan } from '../jumpstart/specs.js'
import { detectContract, type ContainerSpec } from '../sagemaker/contracts/detect.js'
import { explicitNameOf, type ExplicitContractName } from '../sagemaker/contracts/explicit.js'
import type { Tenant } from '../tenants.js'
import type { Activity } from './activity.js'
import { show, type Described, type Descriptions } from './descriptions.js'
import { MANAGED_BY, ledgerTags, TAG, tagMap } from './tags.js'
import { rescale } from './usage.js'
import { notFound, type Views } from './views.js'

/** The one production variant a gateway deployment has. */
export const VARIANT_NAME = 'AllTraffic'

const isAlreadyExisting = (err: unknown): boolean => awsName(err) === 'ValidationException' && /already existing|already exists/i.test(awsMessage(err))
/** ARNs carry the account id: keep them out of what the client sees. */
const safe = (message: string): string => message.replace(/arn:aws[\w-]*:[^\s"',]*/g, '<arn>').slice(0, 300)

export interface LifecycleOptions {
  control: SageMakerClient
  descriptions: Descriptions
  views: Views
  activity: Activity
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): names a deploy may not take. */
  staticNames: readonly string[]
  log: FastifyBaseLogger
  now: () => number
  /** Keeps the final usage of a deleted endpoint (S3), when a bucket is configured. */
  archive?: { put: (endpoint: Endpoint, deletedAt: string) => Promise<void> }
  /** The instances an admin may deploy or scale to (ADMIN_MAX_INSTANCE_COUNT); none = SageMaker's own limits only. */
  instances?: InstanceLimits
  /** Resolves a JumpStart model id and version in the gateway's region (src/jumpstart); none: such deploys are refused. */
  jumpstart?: JumpStartResolver
}

/** What deploying by JumpStart id needs: the image, model data and environment of a model id and version. */
export interface JumpStartResolver {
  resolve: (modelId: string, version: string, instanceType: string) => Promise<DeployPlan>
}

/** The model the gateway creates for a container or JumpStart deploy. */
interface NewModel {
  container: ContainerSpec & { ModelDataUrl?: string, ModelDataSource?: { S3DataSource: { S3Uri: string, S3DataType: 'S3Prefix', CompressionType: 'None' } } }
  role: string
  /** The request field that names the image, for messages. */
  imageField: string
  jumpstart?: DeployPlan & { requestedVersion: string }
}

/** The result of a deploy: the endpoint and whether it already existed (a repeat). */
export interface Deployed {
  endpoint: Endpoint
  replayed: boolean
}

/** Fingerprint of a deploy request (defaults applied, keys sorted), kept in a tag. */
export function deployHash (body: DeployBody): string {
  // a JumpStart version left out is `*` (ajv applies no schema default inside a union)
  const model = 'jumpstart' in body.model ? { ...body.model, jumpstart: { ...body.model.jumpstart, version: body.model.jumpstart.version ?? DEFAULT_JUMPSTART_VERSION } } : body.model
  const normalised = { ...body, model, instanceCount: body.instanceCount ?? 1 }
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical)
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : 1).map(([k, x]) => [k, canonical(x)]))
    return v
  }
  return createHash('sha256').update(JSON.stringify(canonical(normalised))).digest('hex').slice(0, 32)
}

/** Deploys, scales and deletes managed endpoints. */
export class Lifecycle {
  private readonly control: SageMakerClient
  private readonly descriptions: Descriptions
  private readonly views: Views
  private readonly activity: Activity
  private readonly staticNames: readonly string[]
  private readonly log: FastifyBaseLogger
  private readonly now: () => number
  private readonly opts: LifecycleOptions

  constructor (opts: LifecycleOptions) {
    this.opts = opts
    this.control = opts.control
    this.descriptions = opts.descriptions
    this.views = opts.views
    this.activity = opts.activity
    this.staticNames = opts.staticNames
    this.log = opts.log
    this.now = opts.now
  }

  /** Deploys `body` for `tenant` (an admin), or returns the existing endpoint for a repeat. */
  async deploy (tenant: Tenant, body: DeployBody): Promise<Deployed> {
    requireAdmin(tenant, 'deploy endpoints')
    this.requireInstances(tenant, { type: { field: 'body.instanceType', value: body.instanceType }, count: { field: 'body.instanceCount', value: body.instanceCount ?? 1 } })
    const name = body.name
    const hash = deployHash(body)
    if (this.staticNames.includes(name)) throw catalogError('CONFLICT', `endpoint ${show(name)} is configured in SAGEMAKER_ENDPOINT_NAME and was not deployed by this gateway; choose another name`)
    const existing = await this.descriptions.describe(name)
    if (existing !== undefined) return { endpoint: this.replay(existing, hash), replayed: true }

    const count = body.instanceCount ?? 1
    const created: Array<() => Promise<void>> = []
    const newModel = await this.newModel(body)
    const detected = newModel === undefined ? undefined : this.contractOf(newModel, body)
    const fromContainer = newModel !== undefined
    const modelName = 'name' in body.model ? body.model.name : name
    const common: Tag[] = [MANAGED_BY, { Key: TAG.requestHash, Value: hash }]
    try {
      if (newModel !== undefined) {
        await this.createOrAdopt('CreateModel', hash, async () => {
          await this.control.send(new CreateModelCommand({
            ModelName: modelName,
            PrimaryContainer: newModel.container,
            ExecutionRoleArn: newModel.role,
            // the chosen contract also on the model, so transform jobs on it (and OpenAI batches) speak it too
            Tags: body.contract !== undefined ? [...common, { Key: TAG.contract, Value: body.contract }] : common
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
          ...(body.idleDeleteAfterMinutes !== undefined ? [{ Key: TAG.idleMinutes, Value: String(body.idleDeleteAfterMinutes) }] : []),
          ...(body.contract !== undefined ? [{ Key: TAG.contract, Value: body.contract }] : []),
          ...(detected !== undefined ? [{ Key: TAG.detectedContract, Value: detected }] : []),
          ...jumpstartTags(newModel?.jumpstart)
        ]
      }))
    } catch (err) {
      if (isAlreadyExisting(err)) {
        // a twin request won the race for the endpoint itself
        const twin = await this.descriptions.describe(name, true)
        if (twin !== undefined) return { endpoint: this.replay(twin, hash), replayed: true }
      }
      const status = (err as AwsLikeError).$metadata?.httpStatusCode
      // a definite refusal leaves nothing half-made; an unclear answer keeps what exists
      if (status !== undefined && status >= 400 && status < 500) {
        for (const undo of created.reverse()) await undo().catch((e: unknown) => { this.log.warn({ err: e, endpoint: name }, 'could not roll back a partial deployment') })
      }
      throw this.deployError(err, body)
    }
    this.descriptions.forget(name)
    this.log.info({ endpoint: name, model: modelName, ...(newModel?.jumpstart !== undefined ? { jumpstart: `${newModel.jumpstart.modelId}@${newModel.jumpstart.version}`, image: newModel.container.Image } : {}), instanceType: body.instanceType, instanceCount: count, owner: tenant.id }, 'endpoint deployment started')
    const endpoint = await this.descriptions.describe(name, true)
    if (endpoint === undefined) throw catalogError('UPSTREAM_ERROR', `SageMaker does not describe endpoint ${show(name)} it has just created`)
    return { endpoint: this.views.view(endpoint), replayed: false }
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
    await this.descriptions.addTags(found.arn, ledgerTags(ledger))
    this.descriptions.forget(name)
    this.log.info({ endpoint: name, from: found.meta.ledger.count, to: instanceCount }, 'endpoint scaling')
    return this.views.view(await this.descriptions.describe(name, true) ?? found)
  }

  /**
   * Tears down a managed endpoint: the endpoint, then the config and the model when the gateway
   * created them (by their own managed-by tag). Requests still queued for it fail with 503.
   */
  async delete (tenant: Tenant, name: string, reason: 'request' | 'idle' = 'request'): Promise<Endpoint> {
    if (reason === 'request') requireAdmin(tenant, 'delete endpoints')
    let found = await this.requireManaged(name, 'deleted')
    if (found.description.EndpointStatus === 'Deleting') return this.views.view(found)
    // this replica's unwritten calls go into the tags first, so the final usage has them
    await this.activity.writeCounts(name).catch(() => undefined)
    found = await this.descriptions.describe(name, true) ?? found
    const final = this.views.view(found)
    const deletedAt = new Date(this.now()).toISOString()
    try {
      await this.control.send(new DeleteEndpointCommand({ EndpointName: name }))
    } catch (err) {
      if (isNotFound(err)) throw notFound(name)
      throw controlPlaneError('DeleteEndpoint', err)
    }
    this.descriptions.forget(name)
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
    const after = await this.descriptions.describe(name, true)
    return after !== undefined ? this.views.view(after) : { ...final, status: 'Deleting' }
  }

  /** The container a deploy creates a model from (a container, or a JumpStart id resolved now); undefined for an existing model. */
  private async newModel (body: DeployBody): Promise<NewModel | undefined> {
    const m = body.model
    if ('name' in m) return undefined
    if ('image' in m) {
      return { container: { Image: m.image, ModelDataUrl: m.modelDataUrl, ...(m.environment !== undefined ? { Environment: m.environment } : {}) }, role: m.role, imageField: 'body.model.image' }
    }
    if (this.opts.jumpstart === undefined) throw catalogError('INVALID_REQUEST', 'body.model.jumpstart: this gateway has no JumpStart catalog to resolve model ids from; deploy a container (body.model.image) instead')
    const requestedVersion = m.jumpstart.version ?? DEFAULT_JUMPSTART_VERSION
    const plan = await this.opts.jumpstart.resolve(m.jumpstart.modelId, requestedVersion, body.instanceType)
    const data = plan.modelData.kind === 'url'
      ? { ModelDataUrl: plan.modelData.url }
      // an S3 prefix of uncompressed artefacts, as the SDK deploys one (factory/model.py _add_model_data_to_kwargs)
      : { ModelDataSource: { S3DataSource: { S3Uri: plan.modelData.uri, S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } } }
    // the caller's keys win over the model's defaults, as the SDK's `env` does (update_dict_if_key_not_present)
    const environment = { ...plan.environment, ...m.environment }
    return { container: { Image: plan.image, ...data, ...(Object.keys(environment).length > 0 ? { Environment: environment } : {}) }, role: m.role, imageField: 'body.model.jumpstart.modelId', jumpstart: { ...plan, requestedVersion } }
  }

  /**
   * The contract `model`'s container speaks (detect.ts), undefined when the request names it
   * (body.contract); an image detection does not know, without body.contract, is a 400: the
   * contract is an explicit choice, never a guess that fails on the first request.
   */
  private contractOf (model: NewModel, body: DeployBody): ExplicitContractName | undefined {
    if (body.contract !== undefined) return undefined
    const detection = detectContract(model.container)
    if (detection.known) return explicitNameOf(detection.contract)
    const subject = model.jumpstart === undefined ? show(model.container.Image ?? '') : `${show(model.jumpstart.modelId)} (version ${model.jumpstart.version}, image ${model.container.Image ?? ''})`
    throw catalogError('INVALID_REQUEST', `${model.imageField} ${subject}: ${detection.reason}. Name its contract with body.contract (${CONTRACT_NAMES.join(', ')}) to deploy it`)
  }

  private async requireManaged (name: string, what: string): Promise<Described> {
    const found = await this.descriptions.describe(name, true)
    if (found === undefined) throw notFound(name)
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

  /** Answers a repeat: the existing endpoint when managed and deployed by the same request, else 409. */
  private replay (found: Described, hash: string): Endpoint {
    const name = found.description.EndpointName ?? ''
    if (!found.meta.managed) throw catalogError('CONFLICT', `an endpoint named ${show(name)} already exists and was not deployed by this gateway; choose another name`)
    if (found.meta.requestHash !== hash) throw catalogError('CONFLICT', `endpoint ${show(name)} already exists for a different request; use a new name, or scale it with POST /v1/endpoints/${name}/scale`)
    return this.views.view(found)
  }

  /** Maps a deploy failure: what the caller can fix is a 400 naming the field. */
  private deployError (err: unknown, body: DeployBody): CatalogError {
    if (isCatalogError(err)) return err
    const name = awsName(err)
    const message = awsMessage(err)
    if (name === 'ValidationException') {
      // AWS: "Could not access model data at s3://... Please ensure that the role ... exists and ... has s3:GetObject"
      if ('jumpstart' in body.model && /model data|image/i.test(message)) {
        return catalogError('INVALID_REQUEST', `body.model.jumpstart.modelId ${show(body.model.jumpstart.modelId)}: SageMaker cannot use what JumpStart names for it with body.model.role: ${safe(message)}`, { cause: err })
      }
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
}

/** The tags that say which JumpStart model and version an endpoint runs. */
function jumpstartTags (plan: (DeployPlan & { requestedVersion: string }) | undefined): Tag[] {
  if (plan === undefined) return []
  return [
    { Key: TAG.jumpstartModel, Value: plan.modelId },
    { Key: TAG.jumpstartVersion, Value: plan.version },
    { Key: TAG.jumpstartRequested, Value: plan.requestedVersion }
  ]
}

/** 403 FORBIDDEN unless `tenant` is an admin (endpoints are shared by every tenant). */
export function requireAdmin (tenant: Tenant, what: string): void {
  if (!tenant.admin) throw catalogError('FORBIDDEN', `only admin tenants (ADMIN_API_KEYS) may ${what}; tenant ${show(tenant.id)} is not one`)
}
