// Endpoint configs and endpoints in the local control plane, with SageMaker's life cycle:
// CreateEndpoint → Creating → InService (after `transitionMs`), UpdateEndpoint and
// UpdateEndpointWeightsAndCapacities → Updating → InService, DeleteEndpoint → Deleting → gone,
// and Failed (FailureReason) when the config's model is gone by the time the instances come up.
// States advance lazily from the clock whenever an endpoint is read, so they survive restarts and
// follow a fake clock in tests. Errors are AWS's ValidationException messages
// ("Could not find endpoint \"<arn>\".", "Cannot create already existing endpoint \"<arn>\"."),
// which the SDKs' endpoint_in_service / endpoint_deleted waiters rely on.

import { listPage } from './listing.js'
import { compact, isObject, NAME_RULES, parseName, Reader, seconds, serializationError, validationError, Violations, type Json } from './requests.js'
import { SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN, SAGEMAKER_NAME_PATTERN_TEXT, ENDPOINT_INSTANCE_TYPES } from '../../sagemaker/rules.js'
import { keyOf, type EndpointConfigRecord, type EndpointRecord, type EndpointStatus, type ModelRecord, type ResourceStore, type VariantSpec } from './resource-store.js'
import type { Operations } from './index.js'

const STATUSES: readonly EndpointStatus[] = ['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed']
const DEFAULT_LIST_MAX_RESULTS = 10

/** What endpoints need of the rest of the control plane. */
export interface EndpointsContext {
  store: ResourceStore
  arn: (kind: string, name: string) => string
  now: () => number
  /** ms an endpoint takes to come up, update or go away. */
  transitionMs: number
  getModel: (name: string) => ModelRecord | undefined
  requireModel: (name: string) => ModelRecord
  tag: (arn: string, input: Json) => void
}

/** The endpoint-config and endpoint operations, and what the runtime asks: is this endpoint serving? */
export interface EndpointServices {
  operations: Operations
  /** True when InvokeEndpoint reaches a container behind `name` (InService, or Updating on its old config). */
  isServing: (name: string) => boolean
}

function parseVariants (v: Violations, input: Json): VariantSpec[] {
  const raw = input.ProductionVariants
  if (raw === undefined || raw === null) {
    v.required('productionVariants', raw)
    return []
  }
  if (!Array.isArray(raw) || !raw.every(isObject)) throw serializationError('productionVariants', 'a list of production variants')
  if (raw.length < 1) v.add('productionVariants', raw, 'Member must have length greater than or equal to 1')
  if (raw.length > 10) v.add('productionVariants', raw, 'Member must have length less than or equal to 10')
  return raw.map((item, i) => {
    const r = new Reader(v, item, `productionVariants.${i + 1}.member`)
    return compact({
      VariantName: r.string('VariantName', { max: SAGEMAKER_NAME_MAX, pattern: SAGEMAKER_NAME_PATTERN, patternText: SAGEMAKER_NAME_PATTERN_TEXT }, true) ?? '',
      ModelName: r.string('ModelName', NAME_RULES, true) ?? '',
      InstanceType: r.string('InstanceType', { values: ENDPOINT_INSTANCE_TYPES }),
      InitialInstanceCount: r.integer('InitialInstanceCount', { min: 1 }),
      InitialVariantWeight: typeof item.InitialVariantWeight === 'number' ? item.InitialVariantWeight : undefined
    })
  })
}

export function endpointOperations (ctx: EndpointsContext): EndpointServices {
  const { store, arn, now } = ctx
  const configs = store.doc.endpointConfigs
  const endpoints = store.doc.endpoints

  const configArn = (name: string): string => arn('endpoint-config', name)
  const endpointArn = (name: string): string => arn('endpoint', name)
  const noConfig = (name: string): Error => validationError(`Could not find endpoint configuration "${configArn(name)}".`)
  const noEndpoint = (name: string): Error => validationError(`Could not find endpoint "${endpointArn(name)}".`)

  const requireConfig = (name: string): EndpointConfigRecord => {
    const config = configs[keyOf(name)]
    if (config === undefined) throw noConfig(name)
    return config
  }

  /** Moves `e` on as far as the clock says; returns whether it changed (removed counts). */
  function advance (e: EndpointRecord): boolean {
    if (e.transitionAt === undefined || now() < e.transitionAt) return false
    const at = e.transitionAt
    if (e.status === 'Deleting') {
      Reflect.deleteProperty(endpoints, keyOf(e.name))
      Reflect.deleteProperty(store.doc.tags, e.arn)
      return true
    }
    const target = e.pendingConfigName ?? e.configName
    const config = configs[keyOf(target)]
    const missing = config?.spec.ProductionVariants.find(pv => ctx.getModel(pv.ModelName) === undefined)
    Object.assign(e, { modifiedAt: at, transitionAt: undefined, pendingConfigName: undefined })
    if (config === undefined || missing !== undefined) {
      e.status = 'Failed'
      e.failureReason = config === undefined
        ? `The endpoint configuration "${configArn(target)}" does not exist.`
        : `The model "${arn('model', missing?.ModelName ?? '')}" does not exist; it was deleted before the endpoint's instances came up.`
    } else {
      e.status = 'InService'
      e.configName = target
      if (Object.keys(e.instances).length === 0) e.instances = initialInstances(config)
    }
    return true
  }

  /** The endpoint after any due transition (undefined once deleted); persists a change. */
  function current (name: string): EndpointRecord | undefined {
    const e = endpoints[keyOf(name)]
    if (e !== undefined && advance(e)) void store.save()
    return endpoints[keyOf(name)]
  }

  function requireEndpoint (name: string): EndpointRecord {
    const e = current(name)
    if (e === undefined) throw noEndpoint(name)
    return e
  }

  /** An endpoint an update may start on: it exists and is InService (AWS refuses in-progress ones). */
  function updatableEndpoint (name: string): EndpointRecord {
    const e = requireEndpoint(name)
    if (e.status !== 'InService') throw validationError(`Cannot update in-progress endpoint "${e.arn}".`)
    return e
  }

  const initialInstances = (config: EndpointConfigRecord): Record<string, number> =>
    Object.fromEntries(config.spec.ProductionVariants.map(pv => [pv.VariantName, pv.InitialInstanceCount ?? 1]))

  function describeConfig (c: EndpointConfigRecord): Json {
    return compact({
      EndpointConfigName: c.name,
      EndpointConfigArn: c.arn,
      ProductionVariants: c.spec.ProductionVariants.map(pv => ({ InitialVariantWeight: 1, ...pv })),
      DataCaptureConfig: c.spec.DataCaptureConfig,
      KmsKeyId: c.spec.KmsKeyId,
      CreationTime: seconds(c.createdAt)
    })
  }

  function describeEndpoint (e: EndpointRecord): Json {
    const config = configs[keyOf(e.configName)]
    const serving = e.status === 'InService' || e.status === 'Updating'
    return compact({
      EndpointName: e.name,
      EndpointArn: e.arn,
      EndpointConfigName: e.configName,
      ProductionVariants: serving && config !== undefined
        ? config.spec.ProductionVariants.map(pv => {
          const count = e.instances[pv.VariantName] ?? pv.InitialInstanceCount ?? 1
          const image = ctx.getModel(pv.ModelName)?.spec.PrimaryContainer as { Image?: string } | undefined
          return compact({
            VariantName: pv.VariantName,
            DeployedImages: image?.Image === undefined ? undefined : [{ SpecifiedImage: image.Image, ResolvedImage: image.Image, ResolutionTime: seconds(e.modifiedAt) }],
            CurrentWeight: pv.InitialVariantWeight ?? 1,
            DesiredWeight: pv.InitialVariantWeight ?? 1,
            CurrentInstanceCount: count,
            DesiredInstanceCount: count
          })
        })
        : undefined,
      EndpointStatus: e.status,
      FailureReason: e.failureReason,
      CreationTime: seconds(e.createdAt),
      LastModifiedTime: seconds(e.modifiedAt)
    })
  }

  const operations: Operations = {
    CreateEndpointConfig: async (input) => {
      const v = new Violations()
      const r = new Reader(v, input)
      const name = r.string('EndpointConfigName', NAME_RULES, true) ?? ''
      const variants = parseVariants(v, input)
      r.string('KmsKeyId', { max: 2048 })
      v.throwIfAny()
      const cArn = configArn(name)
      if (configs[keyOf(name)] !== undefined) throw validationError(`Cannot create already existing endpoint configuration "${cArn}".`)
      for (const pv of variants) ctx.requireModel(pv.ModelName)
      configs[keyOf(name)] = {
        name,
        arn: cArn,
        createdAt: now(),
        spec: compact({ ProductionVariants: variants, DataCaptureConfig: r.json('DataCaptureConfig'), KmsKeyId: typeof input.KmsKeyId === 'string' ? input.KmsKeyId : undefined })
      }
      ctx.tag(cArn, input)
      await store.save()
      return { EndpointConfigArn: cArn }
    },
    DescribeEndpointConfig: async (input) => describeConfig(requireConfig(parseName(input, 'EndpointConfigName'))),
    DeleteEndpointConfig: async (input) => {
      const config = requireConfig(parseName(input, 'EndpointConfigName'))
      Reflect.deleteProperty(configs, keyOf(config.name))
      Reflect.deleteProperty(store.doc.tags, config.arn)
      await store.save()
      return {}
    },
    CreateEndpoint: async (input) => {
      const v = new Violations()
      const r = new Reader(v, input)
      const name = r.string('EndpointName', NAME_RULES, true) ?? ''
      const configName = r.string('EndpointConfigName', NAME_RULES, true) ?? ''
      v.throwIfAny()
      const eArn = endpointArn(name)
      if (current(name) !== undefined) throw validationError(`Cannot create already existing endpoint "${eArn}".`)
      requireConfig(configName)
      const t = now()
      endpoints[keyOf(name)] = { name, arn: eArn, configName, status: 'Creating', createdAt: t, modifiedAt: t, transitionAt: t + ctx.transitionMs, instances: {} }
      ctx.tag(eArn, input)
      await store.save()
      return { EndpointArn: eArn }
    },
    DescribeEndpoint: async (input) => describeEndpoint(requireEndpoint(parseName(input, 'EndpointName'))),
    ListEndpoints: async (input) => {
      let changed = false
      for (const e of Object.values(endpoints)) changed = advance(e) || changed
      if (changed) void store.save()
      const { page, nextToken } = listPage(Object.values(endpoints), input, {
        sortBy: ['Name', 'CreationTime', 'Status'],
        sortValue: (e, by) => by === 'Name' ? e.name : by === 'Status' ? e.status : e.createdAt,
        name: (e) => e.name,
        createdAt: (e) => e.createdAt,
        modifiedAt: (e) => e.modifiedAt,
        status: (e) => e.status,
        statuses: STATUSES,
        defaultMaxResults: DEFAULT_LIST_MAX_RESULTS
      })
      return compact({
        Endpoints: page.map(e => ({ EndpointName: e.name, EndpointArn: e.arn, CreationTime: seconds(e.createdAt), LastModifiedTime: seconds(e.modifiedAt), EndpointStatus: e.status })),
        NextToken: nextToken
      })
    },
    UpdateEndpoint: async (input) => {
      const v = new Violations()
      const r = new Reader(v, input)
      const name = r.string('EndpointName', NAME_RULES, true) ?? ''
      const configName = r.string('EndpointConfigName', NAME_RULES, true) ?? ''
      v.throwIfAny()
      const e = updatableEndpoint(name)
      const config = requireConfig(configName)
      const t = now()
      Object.assign(e, { status: 'Updating', pendingConfigName: config.name, modifiedAt: t, transitionAt: t + ctx.transitionMs, instances: initialInstances(config) })
      await store.save()
      return { EndpointArn: e.arn }
    },
    UpdateEndpointWeightsAndCapacities: async (input) => {
      const v = new Violations()
      const r = new Reader(v, input)
      const name = r.string('EndpointName', NAME_RULES, true) ?? ''
      const desired = input.DesiredWeightsAndCapacities
      if (desired === undefined || desired === null) v.required('desiredWeightsAndCapacities', desired)
      else if (!Array.isArray(desired) || !desired.every(isObject)) throw serializationError('desiredWeightsAndCapacities', 'a list')
      const changes = (Array.isArray(desired) ? desired as Json[] : []).map((d, i) => {
        const dr = new Reader(v, d, `desiredWeightsAndCapacities.${i + 1}.member`)
        return { variant: dr.string('VariantName', { max: SAGEMAKER_NAME_MAX, pattern: SAGEMAKER_NAME_PATTERN, patternText: SAGEMAKER_NAME_PATTERN_TEXT }, true) ?? '', count: dr.integer('DesiredInstanceCount', { min: 0 }) }
      })
      v.throwIfAny()
      const e = updatableEndpoint(name)
      for (const c of changes) {
        if (!(c.variant in e.instances)) throw validationError(`The variant(s) "[${c.variant}]" is/are not present in the endpoint.`)
      }
      const t = now()
      for (const c of changes) if (c.count !== undefined) e.instances[c.variant] = c.count
      Object.assign(e, { status: 'Updating', modifiedAt: t, transitionAt: t + ctx.transitionMs })
      await store.save()
      return { EndpointArn: e.arn }
    },
    DeleteEndpoint: async (input) => {
      const e = requireEndpoint(parseName(input, 'EndpointName'))
      if (e.status !== 'Deleting') {
        const t = now()
        Object.assign(e, { status: 'Deleting', modifiedAt: t, transitionAt: t + ctx.transitionMs, pendingConfigName: undefined })
        await store.save()
      }
      return {}
    }
  }

  return {
    operations,
    isServing: (name) => {
      const e = current(name)
      return e !== undefined && (e.status === 'InService' || e.status === 'Updating')
    }
  }
}
