/**
 * Where the gateway keeps things in S3, under `s3://<bucket>/<S3_PREFIX>/`:
 *
 *   datasets/<tenant>/<sha256>.jsonl           uploaded datasets (JumpStart JSON Lines) of one
 *                                              tenant, named by the SHA-256 of their stored
 *                                              bytes; an upload streams to <uuid>.jsonl first
 *                                              (and keeps that name above CopyObject's 5 GiB).
 *                                              datasets/<sha256>.jsonl (no tenant) are from
 *                                              before tenants: the default tenant's
 *   dataset-info/<tenant>/<id>.json            {records, bytes, createdAt} of each dataset
 *   jobs/<name>/<submission>/manifest.json     a job's gateway-side facts (see manifest.ts)
 *   jobs/<name>/<submission>/input/records.jsonl   inline records, JumpStart JSON Lines
 *   jobs/<name>/<submission>/references.jsonl  inline references {"id","text"}
 *   jobs/<name>/<submission>/output/           the job's S3OutputPath (only <input>.out, as SageMaker writes)
 *   jobs/<name>/<submission>/processed.json    {"processed":n}: records the output of the job, once
 *                                              Completed, holds; written by the first view that counts
 *                                              them (a completed job's output never changes)
 *   files/<tenant>/<file id>.jsonl             OpenAI files of one tenant (batch inputs as uploaded,
 *                                              batch outputs and error files as assembled); also
 *                                              the tenant's file list (newest first)
 *   file-info/<file id>.json                   each file's object and owner (by id: any replica,
 *                                              any admin finds it without knowing the tenant)
 *   batch-index/<tenant>/<batch id>            empty: the tenant's batch list (newest first)
 *   batch-index.done                           written once every batch from before the index
 *                                              has its entry (see src/openai/batches.ts)
 *   batches/<batch id>/manifest.json           an OpenAI batch: owner, input file, jobs and their
 *                                              lines (see src/openai/batches.ts), never changed
 *   batches/<batch id>/lines.jsonl             per input line: custom_id, group, what the output needs
 *   batches/<batch id>/cancel.json             written once when the batch is cancelled
 *   batches/<batch id>/result.json             written last when its output files exist
 *
 * A tenant's list reads keys under its own prefix only (files/<tenant>/, batch-index/<tenant>/),
 * so one tenant's list costs the same whatever the others store; by-id objects stay by id.
 *
 * `submission` is random per accepted POST, so a repeat (or a racing twin) of a submission
 * never overwrites the input of the job that won the name. Dataset info lives outside
 * `datasets/` so a dataset URI used as an S3 prefix matches the dataset alone.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { DEFAULT_TENANT_ID } from '../tenants.js'
import { joinKey, type S3Location } from '../sagemaker/s3-uri.js'

/** Who may read an S3 location a caller names, as far as the gateway's own prefix goes. */
export type LocationOwner =
  /** Outside the gateway's prefix: the operator's data (ALLOWED_S3_PREFIXES decides). */
  | { kind: 'outside' }
  /** One tenant's dataset (or a prefix inside that tenant's datasets). */
  | { kind: 'tenant', tenant: string }
  /** Anything else under the gateway's prefix, or a prefix that spans several tenants: admins only. */
  | { kind: 'gateway' }

// a dataset's id: its SHA-256, or the uuid it streamed to (above CopyObject's limit)
const DATASET_ID = '[0-9a-f]{64}|[0-9a-f-]{36}'
/** `<tenant>/<id>.jsonl` and, from before tenants, `<id>.jsonl`, under `datasets/`. */
const TENANT_DATASET = new RegExp(`^([A-Za-z0-9_-]+)/(${DATASET_ID})\\.jsonl$`)
const LEGACY_DATASET = new RegExp(`^(${DATASET_ID})\\.jsonl$`)

/** Key builders for one bucket and prefix. */
export class S3Layout {
  constructor (readonly bucket: string, readonly prefix: string) {}

  /** A fresh dataset's object and info keys for `tenant` (the name an upload streams to). */
  newDataset (tenant: string): { id: string, key: string, infoKey: string } {
    return this.dataset(tenant, randomUUID())
  }

  /** The object and info keys of `tenant`'s dataset `id` (a uuid while uploading, then its SHA-256). */
  dataset (tenant: string, id: string): { id: string, key: string, infoKey: string } {
    return { id, key: this.key('datasets', tenant, `${id}.jsonl`), infoKey: this.key('dataset-info', tenant, `${id}.json`) }
  }

  /** The info object of the dataset stored at `location`, or undefined when it is not one of ours. */
  datasetInfoKey (location: S3Location): string | undefined {
    if (location.bucket !== this.bucket) return undefined
    const root = joinKey(this.prefix, 'datasets') + '/'
    if (!location.key.startsWith(root)) return undefined
    const rest = location.key.slice(root.length)
    const tenanted = TENANT_DATASET.exec(rest)
    if (tenanted !== null) return this.key('dataset-info', tenanted[1] as string, `${tenanted[2] as string}.json`)
    const legacy = LEGACY_DATASET.exec(rest)
    return legacy === null ? undefined : this.key('dataset-info', `${legacy[1] as string}.json`)
  }

  /**
   * Who may read `location` used as an S3 key prefix (as SageMaker's S3Prefix and our listing
   * read it: every key that starts with it). A tenant's datasets are `datasets/<tenant>/...`;
   * a legacy `datasets/<sha>.jsonl` is the default tenant's; any other key under the prefix
   * (job inputs, outputs, manifests), or a prefix short enough to match several tenants' keys,
   * is the gateway's own.
   */
  ownerOf (location: S3Location): LocationOwner {
    if (location.bucket !== this.bucket) return { kind: 'outside' }
    const root = joinKey(this.prefix) === '' ? '' : joinKey(this.prefix) + '/'
    // a prefix of the root matches keys inside it: the whole of the gateway's data
    if (root.startsWith(location.key)) return { kind: 'gateway' }
    if (!location.key.startsWith(root)) return { kind: 'outside' }
    const rest = location.key.slice(root.length)
    const tenanted = /^datasets\/([A-Za-z0-9_-]+)\//.exec(rest)
    if (tenanted !== null) return { kind: 'tenant', tenant: tenanted[1] as string }
    if (rest.startsWith('datasets/') && LEGACY_DATASET.test(rest.slice('datasets/'.length))) return { kind: 'tenant', tenant: DEFAULT_TENANT_ID }
    return { kind: 'gateway' }
  }

  /** `s3://<bucket>/<prefix>/`: everything the gateway stores. */
  get rootUri (): string {
    const root = joinKey(this.prefix)
    return `s3://${this.bucket}/${root === '' ? '' : root + '/'}`
  }

  /** Key prefix (with trailing slash) under which every submission of job `name` lives. */
  jobRoot (name: string): string {
    return this.key('jobs', name) + '/'
  }

  /** The keys of one submission of job `name`. */
  newSubmission (name: string): Submission {
    return submissionKeys(this.key('jobs', name, randomBytes(6).toString('hex')))
  }

  /**
   * The submission a job's S3OutputPath belongs to, or undefined when the path is not one the
   * gateway makes (the job is someone else's).
   */
  submissionOf (name: string, outputUri: S3Location): Submission | undefined {
    if (outputUri.bucket !== this.bucket) return undefined
    const root = this.jobRoot(name)
    const key = outputUri.key.replace(/\/+$/, '')
    if (!key.startsWith(root) || !key.endsWith('/output')) return undefined
    const base = key.slice(0, -'/output'.length)
    if (base.slice(root.length).includes('/') || base.length <= root.length) return undefined
    return submissionKeys(base)
  }

  /** The content object of `tenant`'s file `id`. */
  fileKey (tenant: string, id: string): string {
    return this.key('files', tenant, `${id}.jsonl`)
  }

  /** The info object of file `id` (its object and owner). */
  fileInfoKey (id: string): string {
    return this.key('file-info', `${id}.json`)
  }

  /** Key prefix of `tenant`'s file contents (`<id>.jsonl`), listed newest first (file ids sort that way). */
  tenantFilesRoot (tenant: string): string {
    return this.key('files', tenant) + '/'
  }

  /** Key prefix of every file's info (all tenants'), listed newest first. */
  get fileInfoRoot (): string {
    return this.key('file-info') + '/'
  }

  /** The objects of batch `id`. */
  batch (id: string): { manifest: string, lines: string, cancel: string, result: string } {
    const base = this.key('batches', id)
    return { manifest: `${base}/manifest.json`, lines: `${base}/lines.jsonl`, cancel: `${base}/cancel.json`, result: `${base}/result.json` }
  }

  /** Key prefix of every batch, listed newest first (batch ids sort that way). */
  get batchRoot (): string {
    return this.key('batches') + '/'
  }

  /** Key prefix of `tenant`'s batch index entries (`<batch id>`, empty objects), newest first. */
  batchIndexRoot (tenant: string): string {
    return this.key('batch-index', tenant) + '/'
  }

  /** Key prefix of every tenant's batch index. */
  get batchIndexAll (): string {
    return this.key('batch-index') + '/'
  }

  /** Written once every batch stored before the index existed has its index entry. */
  get batchIndexDone (): string {
    return this.key('batch-index.done')
  }

  private key (...parts: string[]): string {
    return joinKey(this.prefix, ...parts)
  }
}

/** The objects of one job submission. `output` is the S3OutputPath key (no trailing slash). */
export interface Submission {
  base: string
  manifest: string
  input: string
  references: string
  output: string
  /** `{"processed":n}`, the count of a Completed job's output records. */
  processed: string
}

function submissionKeys (base: string): Submission {
  return {
    base,
    manifest: `${base}/manifest.json`,
    input: `${base}/input/records.jsonl`,
    references: `${base}/references.jsonl`,
    output: `${base}/output`,
    processed: `${base}/processed.json`
  }
}
