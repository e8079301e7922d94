/**
 * Where the gateway keeps things in S3, under `s3://<bucket>/<S3_PREFIX>/`:
 *
 *   datasets/<sha256>.jsonl                    uploaded datasets (JumpStart JSON Lines), named
 *                                              by the SHA-256 of their stored bytes; an upload
 *                                              streams to datasets/<uuid>.jsonl first (and
 *                                              keeps that name above CopyObject's 5 GiB)
 *   dataset-info/<id>.json                     {records, bytes, createdAt} of each dataset
 *   jobs/<name>/<submission>/manifest.json     a job's gateway-side facts (see manifest.ts)
 *   jobs/<name>/<submission>/input/records.jsonl   inline records, JumpStart JSON Lines
 *   jobs/<name>/<submission>/references.jsonl  inline references {"id","text"}
 *   jobs/<name>/<submission>/output/           the job's S3OutputPath (<input>.out, .progress.json)
 *
 * `submission` is random per accepted POST, so a repeat (or a racing twin) of a submission
 * never overwrites the input of the job that won the name. Dataset info lives outside
 * `datasets/` so a dataset URI used as an S3 prefix matches the dataset alone.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { joinKey, type S3Location } from './s3-uri.js'

/** Key builders for one bucket and prefix. */
export class S3Layout {
  constructor (readonly bucket: string, readonly prefix: string) {}

  /** A fresh dataset's object and info keys (the name an upload streams to). */
  newDataset (): { id: string, key: string, infoKey: string } {
    return this.dataset(randomUUID())
  }

  /** The object and info keys of dataset `id` (a uuid while uploading, then its SHA-256). */
  dataset (id: string): { id: string, key: string, infoKey: string } {
    return { id, key: this.key('datasets', `${id}.jsonl`), infoKey: this.key('dataset-info', `${id}.json`) }
  }

  /** The info object of the dataset stored at `location`, or undefined when it is not one of ours. */
  datasetInfoKey (location: S3Location): string | undefined {
    if (location.bucket !== this.bucket) return undefined
    const m = /^(?:(.*)\/)?datasets\/([0-9a-f]{64}|[0-9a-f-]{36})\.jsonl$/.exec(location.key)
    if (m === null || (m[1] ?? '') !== joinKey(this.prefix)) return undefined
    return this.key('dataset-info', `${m[2] as string}.json`)
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
}

function submissionKeys (base: string): Submission {
  return {
    base,
    manifest: `${base}/manifest.json`,
    input: `${base}/input/records.jsonl`,
    references: `${base}/references.jsonl`,
    output: `${base}/output`
  }
}
