/**
 * JumpStart's model catalog in one region, read as the SageMaker Python SDK's
 * `JumpStartModelsCache` reads it (aws/sagemaker-python-sdk cache.py): `models_manifest.json`
 * in the region's content bucket `jumpstart-cache-prod-<region>` (constants.py
 * `JUMPSTART_DEFAULT_MANIFEST_FILE_S3_KEY`, region_config.json `content_bucket`) lists
 * `{model_id, version, min_version, spec_key}`; the chosen version's `spec_key` is the spec file.
 * Both are kept in memory for `cacheMs` (the SDK keeps them 6 hours); a model or version not in a
 * cached manifest reads the manifest again once, as the SDK's `_get_header_impl` retries after
 * clearing its cache. `min_version` (the oldest SageMaker Python SDK that can deploy the version)
 * does not apply to the gateway, which is not that SDK.
 *
 * Errors are the catalog's: an unknown model id or version is 400 INVALID_REQUEST naming
 * `body.model.jumpstart.modelId` / `.version` with what exists; a bucket that cannot be read is
 * 502 UPSTREAM_ERROR naming it.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { catalogError, isCatalogError, type CatalogError } from '../errors.js'
import { getText } from '../sagemaker/s3-io.js'
import { deployPlan, SpecRefusal, type DeployPlan, type ManifestEntry, type ModelSpec } from './specs.js'
import { selectVersion, sortVersionsDescending } from './versions.js'

/** The manifest's key in the content bucket (constants.py JUMPSTART_DEFAULT_MANIFEST_FILE_S3_KEY). */
export const MANIFEST_KEY = 'models_manifest.json'
/** How long a manifest or spec read is reused (ms). */
export const DEFAULT_CATALOG_CACHE_MS = 10 * 60_000
/** A model missing from a cached manifest reads it again only when the copy is at least this old (ms). */
const MIN_REREAD_MS = 5_000
/** Field names of the request, for messages. */
const FIELD = { modelId: 'body.model.jumpstart.modelId', version: 'body.model.jumpstart.version', instanceType: 'body.instanceType' } as const

/** JumpStart's public content bucket in `region` (region_config.json: `jumpstart-cache-prod-<region>`). */
export function contentBucket (region: string): string {
  return `jumpstart-cache-prod-${region}`
}

export interface CatalogOptions {
  s3: S3Client
  region: string
  /** The content bucket; default `jumpstart-cache-prod-<region>` (the SDK's AWS_JUMPSTART_CONTENT_BUCKET_OVERRIDE). */
  bucket?: string
  cacheMs?: number
  now?: () => number
}

interface Cached<T> { value: T, at: number }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function isManifestEntry (v: unknown): v is ManifestEntry {
  return isObject(v) && typeof v.model_id === 'string' && typeof v.version === 'string' && typeof v.spec_key === 'string'
}

const show = (s: string): string => JSON.stringify(s)

/** Model ids in `ids` closest to `id` (shared prefix length), for "did you mean". */
function closest (id: string, ids: readonly string[]): string | undefined {
  let best: { id: string, score: number } | undefined
  for (const candidate of ids) {
    let n = 0
    while (n < id.length && n < candidate.length && id[n] === candidate[n]) n++
    if (best === undefined || n > best.score) best = { id: candidate, score: n }
  }
  return best?.id
}

/** One region's JumpStart catalog: model id and version → what to deploy. */
export class JumpStartCatalog {
  readonly region: string
  readonly bucket: string
  private readonly s3: S3Client
  private readonly cacheMs: number
  private readonly now: () => number
  private manifest: Cached<ManifestEntry[]> | undefined
  private readonly specs = new Map<string, Cached<ModelSpec>>()

  constructor (opts: CatalogOptions) {
    this.s3 = opts.s3
    this.region = opts.region
    this.bucket = opts.bucket ?? contentBucket(opts.region)
    this.cacheMs = opts.cacheMs ?? DEFAULT_CATALOG_CACHE_MS
    this.now = opts.now ?? Date.now
  }

  /** What to deploy for `modelId` at `version` (`*`, `1.*`, `2.3.7`) on `instanceType`; catalog errors otherwise. */
  async resolve (modelId: string, version: string, instanceType: string, signal?: AbortSignal): Promise<DeployPlan> {
    const entry = await this.entry(modelId, version, signal)
    const spec = await this.spec(entry, signal)
    try {
      return deployPlan(spec, this.region, instanceType, this.bucket)
    } catch (err) {
      if (err instanceof SpecRefusal) throw catalogError('INVALID_REQUEST', `${FIELD[err.field]} ${show(err.field === 'modelId' ? modelId : err.field === 'version' ? version : instanceType)}: ${err.message}`, { cause: err })
      throw err
    }
  }

  /** The manifest line `version` selects for `modelId`, reading the manifest again once when a cached copy lacks it. */
  private async entry (modelId: string, version: string, signal?: AbortSignal): Promise<ManifestEntry> {
    let fresh = false
    for (;;) {
      const { entries, reread } = await this.manifestEntries(fresh, signal)
      const versions = entries.filter(e => e.model_id === modelId).map(e => e.version)
      let chosen: string | undefined
      try {
        chosen = selectVersion(version, versions)
      } catch (err) {
        throw catalogError('INVALID_REQUEST', `${FIELD.version} ${show(version)}: ${(err as Error).message}`, { cause: err })
      }
      const found = chosen === undefined ? undefined : entries.find(e => e.model_id === modelId && e.version === chosen)
      if (found !== undefined) return found
      if (!reread && !fresh) { fresh = true; continue }
      if (versions.length === 0) {
        const near = closest(modelId, [...new Set(entries.map(e => e.model_id))])
        throw catalogError('INVALID_REQUEST', `${FIELD.modelId} ${show(modelId)}: JumpStart in ${this.region} has no such model (s3://${this.bucket}/${MANIFEST_KEY})${near !== undefined ? `; did you mean ${show(near)}?` : ''}`)
      }
      throw catalogError('INVALID_REQUEST', `${FIELD.version} ${show(version)}: ${modelId} has no such version in ${this.region}; available: ${sortVersionsDescending(versions).join(', ')} (or "*" for the newest, "1.*" for the newest 1.x)`)
    }
  }

  /** The manifest, from memory while fresh; `force` reads it again unless the copy is very recent. `reread`: this call read S3. */
  private async manifestEntries (force: boolean, signal?: AbortSignal): Promise<{ entries: ManifestEntry[], reread: boolean }> {
    const at = this.now()
    const cached = this.manifest
    if (cached !== undefined && at - cached.at < this.cacheMs && !(force && at - cached.at >= MIN_REREAD_MS)) return { entries: cached.value, reread: false }
    const parsed = await this.readJson(MANIFEST_KEY, signal)
    if (!Array.isArray(parsed)) throw this.malformed(MANIFEST_KEY, 'not a JSON list')
    const entries = parsed.filter(isManifestEntry)
    this.manifest = { value: entries, at }
    return { entries, reread: true }
  }

  private async spec (entry: ManifestEntry, signal?: AbortSignal): Promise<ModelSpec> {
    const at = this.now()
    const cached = this.specs.get(entry.spec_key)
    if (cached !== undefined && at - cached.at < this.cacheMs) return cached.value
    const parsed = await this.readJson(entry.spec_key, signal)
    if (!isObject(parsed) || typeof parsed.model_id !== 'string' || typeof parsed.version !== 'string') throw this.malformed(entry.spec_key, 'not a model spec (no model_id and version)')
    const spec = parsed as unknown as ModelSpec
    this.specs.set(entry.spec_key, { value: spec, at })
    return spec
  }

  private async readJson (key: string, signal?: AbortSignal): Promise<unknown> {
    const where = `s3://${this.bucket}/${key}`
    let text: string | undefined
    try {
      text = await getText(this.s3, this.bucket, key, signal)
    } catch (err) {
      throw catalogError('UPSTREAM_ERROR', `the JumpStart catalog of ${this.region} cannot be read (${where})`, { cause: isCatalogError(err) ? (err.cause ?? err) : err })
    }
    if (text === undefined) throw catalogError('UPSTREAM_ERROR', `the JumpStart catalog of ${this.region} has no ${where}`)
    try {
      return JSON.parse(text)
    } catch (err) {
      throw this.malformed(key, 'not JSON', err)
    }
  }

  private malformed (key: string, what: string, cause?: unknown): CatalogError {
    return catalogError('UPSTREAM_ERROR', `the JumpStart catalog's s3://${this.bucket}/${key} is ${what}`, cause === undefined ? {} : { cause })
  }
}
