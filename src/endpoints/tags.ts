/**
 * What the gateway keeps about an endpoint, kept on the endpoint itself as SageMaker tags, so
 * every replica reads the same state and a restart loses nothing. Tag values are strings of at
 * most 256 characters; times are ISO 8601.
 */
import type { Tag } from '@aws-sdk/client-sagemaker'
import { CONTRACT_TAG } from '../../schemas/contracts.js'
import type { CapacityLedger } from './usage.js'

/** Marks a model, endpoint config or endpoint the gateway created (only those it deletes). */
export const MANAGED_BY = { Key: 'managed-by', Value: 'text2text-gateway' } as const

export const TAG = {
  requestHash: 't2t:request-hash',
  owner: 't2t:owner',
  model: 't2t:model',
  modelCreated: 't2t:model-created',
  instanceType: 't2t:instance-type',
  idleMinutes: 't2t:idle-delete-after-minutes',
  lastInvokedAt: 't2t:last-invoked-at',
  invocations: 't2t:invocations',
  items: 't2t:items',
  // the container contract chosen explicitly at deploy (src/sagemaker/contracts); absent: detected from the model
  contract: CONTRACT_TAG,
  // the contract detected from the image and environment at deploy, shown by the view (the real-time path detects its own)
  detectedContract: 't2t:detected-contract',
  // deployed by JumpStart model id (src/jumpstart): the id, the version deployed, the version asked for (`*`, `1.*`)
  jumpstartModel: 't2t:jumpstart-model',
  jumpstartVersion: 't2t:jumpstart-version',
  jumpstartRequested: 't2t:jumpstart-requested-version',
  // the capacity ledger (usage.ts): seconds accrued before the current segment, its start and count
  accruedSeconds: 't2t:billed-instance-seconds',
  billedSince: 't2t:billed-since',
  billedCount: 't2t:billed-count'
} as const

/** The gateway's facts about one endpoint, decoded from its tags. */
export interface EndpointMeta {
  managed: boolean
  requestHash?: string
  owner?: string
  model?: string
  modelCreated: boolean
  instanceType?: string
  /** The contract named at deploy (TAG.contract), unvalidated: the reader checks it is one it knows. */
  contract?: string
  /** The contract detected at deploy (TAG.detectedContract), unvalidated. */
  detectedContract?: string
  /** The JumpStart model and version deployed, when deployed by id. */
  jumpstart?: { modelId: string, version: string, requestedVersion: string }
  idleMinutes?: number
  lastInvokedMs?: number
  invocations: number
  items: number
  ledger: CapacityLedger
  /** The tags hold a capacity ledger (t2t:billed-count): the endpoint's instance time is accounted from them. */
  ledgerKept: boolean
}

const int = (s: string | undefined): number | undefined => {
  const n = s === undefined ? NaN : Number(s)
  return Number.isFinite(n) ? n : undefined
}
const time = (s: string | undefined): number | undefined => {
  const n = s === undefined ? NaN : Date.parse(s)
  return Number.isFinite(n) ? n : undefined
}

/** Tags as a map (a later duplicate key wins). */
export function tagMap (tags: readonly Tag[] | undefined): Map<string, string> {
  return new Map((tags ?? []).flatMap(t => t.Key === undefined ? [] : [[t.Key, t.Value ?? '']]))
}

/** Decodes an endpoint's tags; `count` is its instance count when no ledger is kept yet. */
export function decodeMeta (tags: readonly Tag[] | undefined, count: number): EndpointMeta {
  const m = tagMap(tags)
  const get = (key: string): string | undefined => m.get(key)
  const sinceMs = time(get(TAG.billedSince))
  return {
    managed: get(MANAGED_BY.Key) === MANAGED_BY.Value,
    ...(get(TAG.requestHash) !== undefined ? { requestHash: get(TAG.requestHash) } : {}),
    ...(get(TAG.owner) !== undefined ? { owner: get(TAG.owner) } : {}),
    ...(get(TAG.model) !== undefined ? { model: get(TAG.model) } : {}),
    modelCreated: get(TAG.modelCreated) === 'true',
    ...(get(TAG.instanceType) !== undefined ? { instanceType: get(TAG.instanceType) } : {}),
    ...(get(TAG.contract) !== undefined ? { contract: get(TAG.contract) } : {}),
    ...(get(TAG.detectedContract) !== undefined ? { detectedContract: get(TAG.detectedContract) } : {}),
    ...(get(TAG.jumpstartModel) !== undefined ? { jumpstart: { modelId: get(TAG.jumpstartModel) ?? '', version: get(TAG.jumpstartVersion) ?? '', requestedVersion: get(TAG.jumpstartRequested) ?? '' } } : {}),
    ...(int(get(TAG.idleMinutes)) !== undefined ? { idleMinutes: int(get(TAG.idleMinutes)) } : {}),
    ...(time(get(TAG.lastInvokedAt)) !== undefined ? { lastInvokedMs: time(get(TAG.lastInvokedAt)) } : {}),
    invocations: int(get(TAG.invocations)) ?? 0,
    items: int(get(TAG.items)) ?? 0,
    ledger: {
      accruedSeconds: int(get(TAG.accruedSeconds)) ?? 0,
      count: int(get(TAG.billedCount)) ?? count,
      ...(sinceMs !== undefined ? { sinceMs } : {})
    },
    ledgerKept: get(TAG.billedCount) !== undefined
  }
}

/** The tags that record a ledger. */
export function ledgerTags (ledger: CapacityLedger): Tag[] {
  return [
    { Key: TAG.accruedSeconds, Value: String(ledger.accruedSeconds) },
    { Key: TAG.billedCount, Value: String(ledger.count) },
    ...(ledger.sinceMs !== undefined ? [{ Key: TAG.billedSince, Value: new Date(ledger.sinceMs).toISOString() }] : [])
  ]
}
