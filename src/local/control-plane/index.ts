// The local SageMaker control plane over AWS JSON 1.1 (X-Amz-Target "SageMaker.<Op>"): one
// module per resource (transform jobs, models, endpoint configs and endpoints, tags; built-in.ts
// the model and endpoint every stack has), composed here into one service the local SageMaker server mounts. Every reply and error is shaped as
// AWS's, so @aws-sdk/client-sagemaker and boto3 parse them (and run their waiters) unmodified.

import type { S3Client } from '@aws-sdk/client-s3'
import { LOCAL_MODEL_NAME } from '../../config.js'
import { JobRunner, type JobRunnerOptions, type JobRunnerStats } from '../job-runner.js'
import { JobStore } from '../job-store.js'
import type { AwsJsonService } from '../server.js'
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../wire.js'
import { endpointOperations } from './endpoints.js'
import { modelOperations } from './models.js'
import { builtInModel, ensureBuiltInEndpoint, upgradeBuiltInModel } from './built-in.js'
import { isObject, Reader, serializationError, validationError, Violations, type Json } from './requests.js'
import { keyOf, ResourceStore } from './resource-store.js'
import type { ContainerSpec } from '../../sagemaker/contracts/detect.js'
import { resumeJobs, transformJobOperations } from './transform-jobs.js'

export { DEFAULT_LIST_MAX_RESULTS, MAX_TOTAL_PAYLOAD_MB } from './transform-jobs.js'

/** X-Amz-Target prefix of the SageMaker control plane. */
export const SAGEMAKER_TARGET_PREFIX = 'SageMaker.'

/** Default emulated time an endpoint takes to come up, update or go away (ms). */
export const DEFAULT_ENDPOINT_TRANSITION_MS = 3000

/** Operation handlers of one resource, by operation name. */
export type Operations = Record<string, (input: Json) => Promise<unknown>>

/** Options of the local control plane; the runner knobs are the runtime's LOCAL_* ones. */
export interface ControlPlaneOptions extends Omit<JobRunnerOptions, 'store'> {
  /** The stack's data directory; job state lives in `<dataDir>/jobs/`, models and endpoints in `<dataDir>/control-plane/`. */
  dataDir: string
  /** S3 the runner reads input from and writes output to. */
  s3: S3Client
  /** ms an endpoint takes to come up, update or go away; default DEFAULT_ENDPOINT_TRANSITION_MS. */
  endpointTransitionMs?: number
  accountId?: string
  region?: string
}

/** The control plane as mounted on the local SageMaker server, plus test handles. */
export interface LocalControlPlane extends AwsJsonService {
  store: JobStore
  runner: JobRunner
  resources: ResourceStore
  /** True when InvokeEndpoint reaches a container behind `name`. */
  isServing: (endpointName: string) => boolean
  /** The container (image, environment) behind a serving endpoint: its served config's first variant's model. */
  containerOf: (endpointName: string) => ContainerSpec | undefined
  /** Model calls and records the runner made. */
  stats: () => JobRunnerStats
  resetStats: () => void
  /** Resolves once no job is running. */
  idle: () => Promise<void>
  /** Abandons running jobs as a killed process would (nothing more is written); for crash tests. */
  crash: () => Promise<void>
  /** Stops running jobs at a checkpoint, leaving them InProgress for the next start to resume. */
  close: () => Promise<void>
}

/** Opens the stores, resumes unfinished jobs and returns the control plane. */
export async function createLocalControlPlane (options: ControlPlaneOptions): Promise<LocalControlPlane> {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID
  const region = options.region ?? LOCAL_REGION
  const now = options.now ?? Date.now
  const arn = (kind: string, name: string): string => `arn:aws:sagemaker:${region}:${accountId}:${kind}/${name.toLowerCase()}`

  const resources = await ResourceStore.open(options.dataDir, (store) => {
    store.doc.models[LOCAL_MODEL_NAME] = builtInModel(LOCAL_MODEL_NAME, arn('model', LOCAL_MODEL_NAME), now())
  })
  // the runtime always serves the built-in endpoint, so the control plane always describes it
  if (ensureBuiltInEndpoint(resources, LOCAL_MODEL_NAME, arn)) await resources.save()
  // a data directory from before the built-in model described its container (the gateway detects contracts from it)
  if (upgradeBuiltInModel(resources, LOCAL_MODEL_NAME)) await resources.save()
  const tags = resources.doc.tags
  const tag = (resourceArn: string, input: Json): void => {
    const given = input.Tags
    if (given === undefined || given === null) return
    if (!Array.isArray(given) || !given.every(isObject)) throw serializationError('tags', 'a list of tags')
    tags[resourceArn] = mergeTags(tags[resourceArn] ?? [], given)
  }
  const models = modelOperations({ store: resources, arn, now, tag })
  const endpoints = endpointOperations({
    store: resources,
    arn,
    now,
    transitionMs: options.endpointTransitionMs ?? DEFAULT_ENDPOINT_TRANSITION_MS,
    getModel: models.get,
    requireModel: models.require,
    tag
  })

  /** A model's container as DescribeModel shows it: PrimaryContainer, else the first of Containers. */
  const containerOfModel = (name: string): ContainerSpec | undefined => {
    const spec = models.get(name)?.spec
    return (spec?.PrimaryContainer ?? (Array.isArray(spec?.Containers) ? spec.Containers[0] : undefined)) as ContainerSpec | undefined
  }

  const store = await JobStore.open(options.dataDir)
  const runner = new JobRunner({ ...options, store })
  const jobs = transformJobOperations({
    store,
    runner,
    arn,
    now,
    s3: options.s3,
    region,
    requireModel: (name) => {
      const spec = models.require(name).spec
      const role = spec.ExecutionRoleArn
      return { role: typeof role === 'string' ? role : '', container: containerOfModel(name) }
    }
  })

  /** The ARN's resource exists (tags may only be put on what exists). */
  const exists = (resourceArn: string): boolean =>
    Object.values(resources.doc.models).some(m => m.arn === resourceArn) ||
    Object.values(resources.doc.endpointConfigs).some(c => c.arn === resourceArn) ||
    Object.values(resources.doc.endpoints).some(e => e.arn === resourceArn) ||
    store.all().some(j => j.arn === resourceArn)
  const resourceArnOf = (input: Json): string => {
    const v = new Violations()
    const value = new Reader(v, input).string('ResourceArn', { max: 256 }, true) ?? ''
    v.throwIfAny()
    if (!exists(value)) throw validationError(`Resource ${value} does not exist.`)
    return value
  }
  const tagOperations: Operations = {
    AddTags: async (input) => {
      const resourceArn = resourceArnOf(input)
      tag(resourceArn, input)
      await resources.save()
      return { Tags: tags[resourceArn] ?? [] }
    },
    ListTags: async (input) => {
      const resourceArn = resourceArnOf(input)
      const job = store.all().find(j => j.arn === resourceArn)
      return { Tags: tags[resourceArn] ?? job?.spec.Tags ?? [] }
    },
    DeleteTags: async (input) => {
      const resourceArn = resourceArnOf(input)
      const keys = Array.isArray(input.TagKeys) ? input.TagKeys.filter((k): k is string => typeof k === 'string') : []
      tags[resourceArn] = (tags[resourceArn] ?? []).filter(t => !keys.includes(t.Key))
      await resources.save()
      return {}
    }
  }

  const operations: Operations = { ...jobs, ...models.operations, ...endpoints.operations, ...tagOperations }
  await resumeJobs(store, runner)

  return {
    targetPrefix: SAGEMAKER_TARGET_PREFIX,
    handle: async (operation, input) => {
      const op = operations[operation]
      if (op === undefined) {
        throw new AwsServiceError(400, 'UnknownOperationException', {
          message: `Operation ${operation} is not supported by the local SageMaker control plane (transform jobs, models, endpoint configs, endpoints, tags)`
        })
      }
      return await op(input)
    },
    store,
    runner,
    resources,
    isServing: endpoints.isServing,
    containerOf: (endpointName) => {
      if (!endpoints.isServing(endpointName)) return undefined
      // while Updating, configName is still the config being served
      const endpoint = resources.doc.endpoints[keyOf(endpointName)]
      const variant = resources.doc.endpointConfigs[keyOf(endpoint?.configName ?? '')]?.spec.ProductionVariants[0]
      return variant === undefined ? undefined : containerOfModel(variant.ModelName)
    },
    stats: () => runner.stats(),
    resetStats: () => { runner.resetStats() },
    idle: async () => { await runner.idle() },
    crash: async () => { await runner.crash() },
    close: async () => {
      await runner.close()
      await resources.settled()
    }
  }
}

/** Tags after adding `added` to `existing` (a key given again takes the new value). */
function mergeTags (existing: Array<{ Key: string, Value: string }>, added: Json[]): Array<{ Key: string, Value: string }> {
  const byKey = new Map(existing.map(t => [t.Key, t.Value]))
  for (const t of added) if (typeof t.Key === 'string') byKey.set(t.Key, typeof t.Value === 'string' ? t.Value : '')
  return [...byKey].map(([Key, Value]) => ({ Key, Value }))
}
