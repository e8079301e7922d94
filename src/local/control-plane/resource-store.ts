// Durable state of the local control plane's models, endpoint configs and endpoints: one JSON
// document, `<dataDir>/control-plane/resources.json`, replaced atomically on every change
// (writes coalesce). Names are keyed lower-cased, as SageMaker's ARNs lower-case them.

import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CoalescingWriter, writeFileAtomic } from '../job-store.js'
import type { Json } from './requests.js'

/** A model as CreateModel received it (AWS member names). */
export interface ModelRecord {
  name: string
  arn: string
  createdAt: number
  /** PrimaryContainer, Containers, ExecutionRoleArn, EnableNetworkIsolation, VpcConfig as given. */
  spec: Json
}

/** An endpoint config as CreateEndpointConfig received it. */
export interface EndpointConfigRecord {
  name: string
  arn: string
  createdAt: number
  /** ProductionVariants (validated), DataCaptureConfig, KmsKeyId as given. */
  spec: Json & { ProductionVariants: VariantSpec[] }
}

/** One production variant of an endpoint config. */
export interface VariantSpec {
  VariantName: string
  ModelName: string
  InstanceType?: string
  InitialInstanceCount?: number
  InitialVariantWeight?: number
}

/** SageMaker's endpoint statuses. */
export type EndpointStatus = 'OutOfService' | 'Creating' | 'Updating' | 'SystemUpdating' | 'RollingBack' | 'InService' | 'Deleting' | 'Failed' | 'UpdateRollbackFailed'

/** An endpoint and where it is in its life. */
export interface EndpointRecord {
  name: string
  arn: string
  /** The config it serves (while Updating: the one it still serves). */
  configName: string
  status: EndpointStatus
  createdAt: number
  modifiedAt: number
  /** Epoch ms at which a Creating/Updating/Deleting endpoint reaches its next state. */
  transitionAt?: number
  /** While Updating: the config it moves to. */
  pendingConfigName?: string
  /** Instances per variant, by variant name (UpdateEndpointWeightsAndCapacities changes them). */
  instances: Record<string, number>
  failureReason?: string
}

interface Document {
  models: Record<string, ModelRecord>
  endpointConfigs: Record<string, EndpointConfigRecord>
  endpoints: Record<string, EndpointRecord>
  /** Tags by resource ARN. */
  tags: Record<string, Array<{ Key: string, Value: string }>>
}

/** The three kinds in memory, written to disk by `save()`. One process owns a data directory at a time. */
export class ResourceStore {
  private readonly writer: CoalescingWriter

  private constructor (private readonly path: string, readonly doc: Document) {
    this.writer = new CoalescingWriter(async () => { await writeFileAtomic(this.path, JSON.stringify(this.doc)) })
  }

  /** Opens (or creates) the store under `<dataDir>/control-plane/`; `seed` runs when it is new. */
  static async open (dataDir: string, seed: (store: ResourceStore) => void): Promise<ResourceStore> {
    const dir = join(dataDir, 'control-plane')
    await mkdir(dir, { recursive: true })
    const path = join(dir, 'resources.json')
    let text: string | undefined
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    const doc: Document = text === undefined ? { models: {}, endpointConfigs: {}, endpoints: {}, tags: {} } : JSON.parse(text) as Document
    const store = new ResourceStore(path, doc)
    if (text === undefined) {
      seed(store)
      await store.save()
    }
    return store
  }

  /** Writes the current state; resolves once it is on disk. */
  async save (): Promise<void> {
    await this.writer.flush()
  }

  /** Resolves once no write is pending. */
  async settled (): Promise<void> {
    await this.writer.settled()
  }
}

/** The key of a name in the store (SageMaker names are case-insensitive). */
export function keyOf (name: string): string {
  return name.toLowerCase()
}
