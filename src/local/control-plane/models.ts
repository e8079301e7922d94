// Models in the local control plane: CreateModel, DescribeModel, ListModels, DeleteModel. Every
// model is served by the local extractive engine, whatever its image says (there is one
// container here); `flan-t5-local` exists from the first start, as a model one deployed before.

import { AwsServiceError } from '../wire.js'
import { listPage } from './listing.js'
import { compact, isObject, NAME_RULES, parseName, Reader, seconds, serializationError, validationError, Violations, type Json } from './requests.js'
import { keyOf, type ModelRecord, type ResourceStore } from './resource-store.js'
import type { Operations } from './index.js'

const ROLE_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/
const ROLE_PATTERN_TEXT = '^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$'
const URL_PATTERN = /^(https|s3):\/\/([^/]+)\/?(.*)$/
const IMAGE_PATTERN = /^[\S]+$/
const ENV_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Page size of ListModels when MaxResults is absent. */
const DEFAULT_LIST_MAX_RESULTS = 10

/** Checks one ContainerDefinition at `path` (PrimaryContainer or Containers[i]). */
function checkContainer (v: Violations, c: Reader): void {
  c.string('ContainerHostname', { max: 63 })
  c.string('Image', { max: 255, pattern: IMAGE_PATTERN, patternText: '[\\S]+' })
  c.string('ModelDataUrl', { max: 1024, pattern: URL_PATTERN, patternText: '^(https|s3)://([^/]+)/?(.*)$' })
  c.string('Mode', { values: ['SingleModel', 'MultiModel'] })
  const env = c.json('Environment')
  if (env !== undefined) {
    const entries = Object.entries(env)
    if (entries.length > 100) v.add(c.pathOf('Environment'), env, 'Member must have length less than or equal to 100')
    for (const [key, value] of entries) {
      if (typeof value !== 'string') throw serializationError(`${c.pathOf('Environment')}.${key}`, 'a string')
      v.string(c.pathOf('Environment'), key, { max: 1024, pattern: ENV_KEY_PATTERN, patternText: '[a-zA-Z_][a-zA-Z0-9_]*' })
      v.string(`${c.pathOf('Environment')}.${key}`, value, { max: 1024 })
    }
  }
}

/** Validates CreateModel; returns the name and the members kept for DescribeModel. */
function parseCreateModel (input: Json): { name: string, spec: Json } {
  const v = new Violations()
  const r = new Reader(v, input)
  const name = r.string('ModelName', NAME_RULES, true)
  const role = r.string('ExecutionRoleArn', { min: 20, max: 2048, pattern: ROLE_PATTERN, patternText: ROLE_PATTERN_TEXT })
  const primary = r.struct('PrimaryContainer')
  if (primary !== undefined) checkContainer(v, primary)
  const containers = input.Containers
  if (containers !== undefined && containers !== null) {
    if (!Array.isArray(containers) || !containers.every(isObject)) throw serializationError('containers', 'a list of container definitions')
    if (containers.length > 15) v.add('containers', containers, 'Member must have length less than or equal to 15')
    containers.forEach((c, i) => { checkContainer(v, new Reader(v, c, `containers.${i + 1}.member`)) })
  }
  const isolation = input.EnableNetworkIsolation
  if (isolation !== undefined && typeof isolation !== 'boolean') throw serializationError('enableNetworkIsolation', 'a boolean')
  v.throwIfAny()
  if (primary === undefined && (containers === undefined || containers === null)) {
    throw validationError('Either PrimaryContainer or Containers must be specified.')
  }
  return {
    name: name ?? '',
    spec: compact({
      PrimaryContainer: primary?.input,
      Containers: Array.isArray(containers) ? containers : undefined,
      ExecutionRoleArn: role,
      EnableNetworkIsolation: isolation ?? false,
      VpcConfig: r.json('VpcConfig')
    })
  }
}

/** What models need of the rest of the control plane. */
export interface ModelsContext {
  store: ResourceStore
  arn: (kind: string, name: string) => string
  now: () => number
  /** Stores the request's Tags for `arn`. */
  tag: (arn: string, input: Json) => void
}

/** AWS's answer for a model that does not exist. */
export function modelNotFound (arn: string): AwsServiceError {
  return validationError(`Could not find model "${arn}".`)
}

/** The model operations, and the lookup other resources use. */
export function modelOperations (ctx: ModelsContext): { operations: Operations, get: (name: string) => ModelRecord | undefined, require: (name: string) => ModelRecord } {
  const { store, arn, now } = ctx
  const models = store.doc.models
  const get = (name: string): ModelRecord | undefined => models[keyOf(name)]
  const require = (name: string): ModelRecord => {
    const model = get(name)
    if (model === undefined) throw modelNotFound(arn('model', name))
    return model
  }
  const describe = (m: ModelRecord): Json => compact({ ModelName: m.name, ModelArn: m.arn, CreationTime: seconds(m.createdAt), ...m.spec })
  return {
    get,
    require,
    operations: {
      CreateModel: async (input) => {
        const { name, spec } = parseCreateModel(input)
        const modelArn = arn('model', name)
        if (get(name) !== undefined) throw validationError(`Cannot create already existing model "${modelArn}".`)
        models[keyOf(name)] = { name, arn: modelArn, createdAt: now(), spec }
        ctx.tag(modelArn, input)
        await store.save()
        return { ModelArn: modelArn }
      },
      DescribeModel: async (input) => describe(require(parseName(input, 'ModelName'))),
      ListModels: async (input) => {
        const { page, nextToken } = listPage(Object.values(models), input, {
          sortBy: ['Name', 'CreationTime'],
          sortValue: (m, by) => by === 'Name' ? m.name : m.createdAt,
          name: (m) => m.name,
          createdAt: (m) => m.createdAt,
          defaultMaxResults: DEFAULT_LIST_MAX_RESULTS
        })
        return compact({ Models: page.map(m => ({ ModelName: m.name, ModelArn: m.arn, CreationTime: seconds(m.createdAt) })), NextToken: nextToken })
      },
      DeleteModel: async (input) => {
        const model = require(parseName(input, 'ModelName'))
        Reflect.deleteProperty(models, keyOf(model.name))
        Reflect.deleteProperty(store.doc.tags, model.arn)
        await store.save()
        return {}
      }
    }
  }
}
