/**
 * Dataset uploads: an NDJSON stream checked line by line and written to S3 in JumpStart form
 * by multipart upload as it arrives. Memory is bounded by the upload's part buffers and one
 * line; only the set of ids grows (ids must be unique). A bad line stops the upload at once
 * (the multipart upload is aborted, so nothing is kept) while the rest of the stream is still
 * checked, so the caller hears about up to 100 bad lines in one round trip.
 */
import { createHash } from 'node:crypto'
import { PassThrough } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { MAX_LISTED_LINE_ERRORS, type DatasetLineError } from '../../schemas/datasets.js'
import { Errors } from '../errors.js'
import type { Tenant } from '../tenants.js'
import type { S3Layout } from './layout.js'
import { splitLines } from '../sagemaker/lines.js'
import { hasOwnParameters, IdSet, toJumpStartRecord } from './records.js'
import { deleteObject, getText, moveObject, objectExists, putText, s3Failure } from '../sagemaker/s3-io.js'
import { formatS3Uri, type S3Location } from '../sagemaker/s3-uri.js'
import { exceedsJsonDepth, inexactInteger, inexactIntegerMessage } from '../util/json-bounds.js'
import { MAX_JSON_DEPTH } from '../../schemas/json-bounds.js'

/** Longest accepted line (bytes); longer ones are reported, never buffered. */
export const MAX_DATASET_LINE_BYTES = 16 * 1024 * 1024
/** Multipart part size (bytes) and parts in flight: the upload's memory is about their product. */
const PART_BYTES = 8 * 1024 * 1024
const PARTS_IN_FLIGHT = 2
/** CopyObject's ceiling (bytes); a bigger dataset keeps its upload name. */
const MAX_COPY_BYTES = 5 * 1024 ** 3

/** A stored dataset. */
export interface DatasetInfo {
  s3Uri: string
  records: number
  /** Bytes of the stored object. */
  bytes: number
}

/** A rejected upload's first bad lines and their total. */
export interface DatasetInvalid {
  errors: DatasetLineError[]
  invalidLines: number
}

/** Thrown when the upload has bad lines or no records (DATASET_INVALID); nothing was kept. */
export class DatasetInvalidError extends Errors.DATASET_INVALID {
  override name = 'DatasetInvalidError'
  constructor (message: string, readonly detail: DatasetInvalid) { super(message) }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** Uploads datasets to `<prefix>/datasets/` and reads their info back. */
export class Datasets {
  constructor (private readonly s3: S3Client, private readonly layout: S3Layout) {}

  /**
   * Streams `source` (NDJSON bytes) to a new dataset object of `tenant` (under
   * `datasets/<tenant>/`, so only that tenant's jobs may read it). `prompt` is prepended to `text`
   * lines. Throws DatasetInvalidError when any line is bad or there are no records, a 502
   * catalog error when S3 fails, and the source's own error when the caller goes away.
   */
  async upload (tenant: Tenant, source: AsyncIterable<Uint8Array | string>, prompt = ''): Promise<DatasetInfo> {
    const staging = this.layout.newDataset(tenant.id)
    const key = staging.key
    // lines with parameters of their own: job-wide parameters (HYPER_PARAMS) would override them
    let recordsWithParameters = 0
    const stored = await uploadCheckedLines(this.s3, this.layout.bucket, key, source, (value) => {
      const verdict = toJumpStartRecord(value, prompt)
      if (!verdict.ok) return verdict
      return { ok: true, id: verdict.record.id, line: verdict.record.line, onAccepted: () => { if (hasOwnParameters(value)) recordsWithParameters++ } }
    }, { empty: 'the dataset has no records (every line was blank); send at least one {"id","text"} line' })
    const { records, bytes } = stored
    let final = staging
    if (bytes <= MAX_COPY_BYTES) {
      // the stored bytes' SHA-256 names the dataset: the same content always gets the same s3Uri,
      // so re-running a submission (same Idempotency-Key, same files) finds the same job
      final = this.layout.dataset(tenant.id, stored.sha256)
      // identical content is already there under its name: keep that one, drop this upload
      if (await objectExists(this.s3, this.layout.bucket, final.key)) await deleteObject(this.s3, this.layout.bucket, key)
      else await moveObject(this.s3, this.layout.bucket, key, final.key)
    }
    const s3Uri = formatS3Uri({ bucket: this.layout.bucket, key: final.key })
    await putText(this.s3, this.layout.bucket, final.infoKey, JSON.stringify({ version: 1, s3Uri, records, recordsWithParameters, bytes, createdAt: new Date().toISOString() }) + '\n', 'application/json')
    return { s3Uri, records, bytes }
  }

  /**
   * What the info of a dataset this gateway stored at `location` says: its record count and how
   * many records carry parameters of their own (absent for datasets stored before it was kept);
   * undefined for anything else.
   */
  async storedInfo (location: S3Location): Promise<{ records: number, recordsWithParameters?: number } | undefined> {
    const infoKey = this.layout.datasetInfoKey(location)
    if (infoKey === undefined) return undefined
    const text = await getText(this.s3, this.layout.bucket, infoKey)
    if (text === undefined) return undefined
    const count = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0
    try {
      const info = JSON.parse(text) as { records?: unknown, recordsWithParameters?: unknown }
      if (!count(info.records)) return undefined
      return { records: info.records, ...(count(info.recordsWithParameters) ? { recordsWithParameters: info.recordsWithParameters } : {}) }
    } catch {
      return undefined
    }
  }
}

/**
 * One parsed line's verdict for uploadCheckedLines: the record's id (unique across the upload)
 * and the line to store, or a message naming the field and value. `onAccepted` runs once the
 * line has passed every check (its id is new).
 */
export type CheckedLine = { ok: true, id: string | number, line: string, onAccepted?: () => void } | { ok: false, message: string }

/** What uploadCheckedLines stored: records, bytes and the SHA-256 (hex) of the stored bytes. */
export interface CheckedUpload {
  records: number
  bytes: number
  sha256: string
}

/**
 * Streams NDJSON `source` to s3://bucket/key by multipart upload, one line at a time, storing
 * what `check` returns for each parsed line. Blank lines are skipped; a line that is too long,
 * not UTF-8, nested too deep, not JSON, rejected by `check`, or whose id was seen before is
 * reported. The first bad line aborts the upload (nothing is kept) while the rest of the stream
 * is still checked; then DatasetInvalidError carries the first MAX_LISTED_LINE_ERRORS lines.
 * No records at all is DatasetInvalidError with `opts.empty`. Memory: the part buffers, one
 * line, the set of ids. S3 failures are 502 catalog errors; the source's own error (the caller
 * went away) is rethrown as is.
 */
export async function uploadCheckedLines (
  s3: S3Client, bucket: string, key: string, source: AsyncIterable<Uint8Array | string>,
  check: (value: unknown, lineNumber: number, text: string) => CheckedLine,
  opts: { empty: string, idField?: string, contentType?: string }
): Promise<CheckedUpload> {
  const idField = opts.idField ?? 'line.id'
  const sha = createHash('sha256')
  const pass = new PassThrough()
  // errors surface through `done`; without a listener a destroy(err) would crash the process
  pass.on('error', () => {})
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: pass, ContentType: opts.contentType ?? 'application/jsonlines' },
    partSize: PART_BYTES,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false
  })
  let uploadError: unknown
  const done = upload.done().then(() => undefined, (err: unknown) => { uploadError = err; pass.destroy() })
  // destroying the body makes lib-storage abort the multipart upload (no object, no parts)
  const abandon = async (): Promise<void> => {
    if (!pass.destroyed) pass.destroy(new Error('upload abandoned'))
    await done
  }

  const ids = new IdSet()
  const errors: DatasetLineError[] = []
  let invalid = 0
  let records = 0
  let bytes = 0
  const reject = (line: number, message: string): void => {
    invalid++
    if (errors.length < MAX_LISTED_LINE_ERRORS) errors.push({ line, message })
    if (invalid === 1) void abandon()
  }

  try {
    for await (const line of splitLines(source, MAX_DATASET_LINE_BYTES)) {
      if (line.tooLong === true) { reject(line.number, `line is ${line.bytes} bytes; the limit is ${MAX_DATASET_LINE_BYTES}`); continue }
      if (line.invalidUtf8 === true) { reject(line.number, `line is not valid UTF-8 at byte offset ${line.invalidAt} of the line`); continue }
      const text = line.text
      if (text.trim() === '') continue
      // before parsing: a line nested thousands deep would overflow whatever walks it
      if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) { reject(line.number, `line nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays)`); continue }
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (err) {
        reject(line.number, `line is not valid JSON: ${(err as Error).message}`)
        continue
      }
      const inexact = inexactInteger(text, value)
      if (inexact !== undefined) { reject(line.number, inexactIntegerMessage(`line${inexact.path}`, inexact.value)); continue }
      const verdict = check(value, line.number, text)
      if (!verdict.ok) { reject(line.number, verdict.message); continue }
      const first = ids.add(verdict.id, line.number)
      if (first !== undefined) { reject(line.number, `${idField} ${JSON.stringify(verdict.id)} is duplicated (first on line ${first})`); continue }
      records++
      verdict.onAccepted?.()
      if (invalid > 0) continue
      const chunk = verdict.line + '\n'
      bytes += Buffer.byteLength(chunk)
      sha.update(chunk)
      if (!pass.write(chunk)) {
        // backpressure: wait for the part buffers to drain (or the upload to die)
        await drainedOrClosed(pass)
        if (uploadError !== undefined) throw s3Failure('multipart upload', uploadError)
      }
    }
  } catch (err) {
    await abandon()
    throw err
  }

  if (invalid > 0) {
    await abandon()
    const firstError = errors[0] as DatasetLineError
    const message = `${plural(invalid, 'line is', 'lines are')} invalid; nothing was stored. line ${firstError.line}: ${firstError.message}`
    throw new DatasetInvalidError(message, { errors, invalidLines: invalid })
  }
  if (records === 0) {
    await abandon()
    throw new DatasetInvalidError(opts.empty, { errors: [], invalidLines: 0 })
  }
  pass.end()
  await done
  if (uploadError !== undefined) throw s3Failure('multipart upload', uploadError)
  return { records, bytes, sha256: sha.digest('hex') }
}

/**
 * Resolves when `stream` drains or closes, whichever is first, and leaves no listener behind
 * (one per back-pressure wait would pile up: MaxListenersExceededWarning on large uploads).
 */
export async function drainedOrClosed (stream: NodeJS.EventEmitter): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}
