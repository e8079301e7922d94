/**
 * OpenAI's files, stored in S3 beside datasets (see S3Layout): `files/<tenant>/<id>.jsonl` holds
 * the bytes, `file-info/<id>.json` the file object and its owner. A batch input (`purpose`
 * batch) is streamed to S3 line by line through the datasets' upload machinery and checked as
 * OpenAI checks it (batch-lines.ts); batch outputs (`batch_output`) are written by batches.ts.
 * Ids are unguessable and sort newest first. Another tenant's file is not found (as jobs are).
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { catalogError } from '../errors.js'
import { canSee, type Tenant } from '../tenants.js'
import { uploadCheckedLines } from '../jobs/datasets.js'
import type { S3Layout } from '../jobs/layout.js'
import { show } from '../util/json-bounds.js'
import { deleteObject, getStream, getText, listObjects, putText, s3Failure, namesIn } from '../sagemaker/s3-io.js'
import { firstMatching } from '../util/first-matching.js'
import { BATCH_URLS, checkUploadLine, type FileUniformity } from './batch-lines.js'

/** The purposes a file here can have: uploads are `batch`, a batch's results `batch_output`. */
export type FilePurpose = 'batch' | 'batch_output'

/** OpenAI's file object. */
export interface FileObject {
  id: string
  object: 'file'
  bytes: number
  created_at: number
  filename: string
  purpose: FilePurpose
  status: 'processed'
}

/** What file-info/<id>.json holds: the object plus the gateway's facts. */
export const StoredFile = Type.Object({
  version: Type.Literal(1),
  id: Type.String(),
  owner: Type.String(),
  purpose: Type.Enum(['batch', 'batch_output']),
  filename: Type.String(),
  bytes: Type.Integer({ minimum: 0 }),
  created_at: Type.Integer(),
  key: Type.String(),
  /** Batch inputs: how many requests, and the url and model every line shares. */
  requests: Type.Optional(Type.Integer({ minimum: 0 })),
  url: Type.Optional(Type.Enum([...BATCH_URLS])),
  model: Type.Optional(Type.String())
})
export type StoredFile = Static<typeof StoredFile>

/** Longest accepted file name (characters), as most file systems. */
export const MAX_FILENAME = 255

// ids sort newest first: 12 hex of (2^48 - 1 - ms since the epoch), then 80 random bits
const ID_TIME_MAX = 0xffffffffffff
/** A fresh id `<prefix><32 hex>`: unguessable, and lexicographic order is newest first. */
export function newestFirstId (prefix: string, now = Date.now()): string {
  return prefix + (ID_TIME_MAX - now).toString(16).padStart(12, '0') + randomBytes(10).toString('hex')
}

/** File ids this gateway makes: anything else is not found without a look at S3. */
export const FILE_ID = /^file-[0-9a-f]{32}$/

/** The API's view of a stored file. */
export function fileObject (stored: StoredFile): FileObject {
  return { id: stored.id, object: 'file', bytes: stored.bytes, created_at: stored.created_at, filename: stored.filename, purpose: stored.purpose, status: 'processed' }
}

/** A page of files, OpenAI's list shape. */
export interface FileList {
  object: 'list'
  data: FileObject[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

/** The files service behind /v1/files. */
export class Files {
  constructor (private readonly s3: S3Client, private readonly layout: S3Layout) {}

  /**
   * Streams `source` (a batch input file, JSONL) to a new file of `tenant`, checking each line;
   * throws DatasetInvalidError naming the bad lines (nothing is kept).
   */
  async uploadBatchInput (tenant: Tenant, source: AsyncIterable<Uint8Array | string>, filename: string): Promise<FileObject> {
    const id = newestFirstId('file-')
    const key = this.layout.fileKey(tenant.id, id)
    const seen: FileUniformity = { requests: 0 }
    const stored = await uploadCheckedLines(this.s3, this.layout.bucket, key, source, (value, lineNumber, text) => {
      const verdict = checkUploadLine(value, lineNumber, seen)
      // stored as sent: the file's content is what the caller uploaded, line by line
      return verdict.ok ? { ok: true, id: verdict.line.customId, line: text } : verdict
    }, { empty: 'the file has no requests (every line was blank); send one {"custom_id","method","url","body"} line per request', idField: 'line.custom_id' })
    const info: StoredFile = {
      version: 1,
      id,
      owner: tenant.id,
      purpose: 'batch',
      filename,
      bytes: stored.bytes,
      created_at: Math.floor(Date.now() / 1000),
      key,
      requests: stored.records,
      ...(seen.url !== undefined ? { url: seen.url } : {}),
      ...(seen.model !== undefined ? { model: seen.model } : {})
    }
    await putText(this.s3, this.layout.bucket, this.layout.fileInfoKey(id), JSON.stringify(info) + '\n', 'application/json')
    return fileObject(info)
  }

  /**
   * Writes a `batch_output` file of `owner` with id `id` from `lines` (each with its newline),
   * streamed; the same id and lines give the same file, so a repeat is harmless.
   */
  async writeOutput (owner: string, id: string, filename: string, lines: AsyncIterable<string>, createdAt: number): Promise<FileObject> {
    const key = this.layout.fileKey(owner, id)
    let bytes = 0
    async function * counted (): AsyncGenerator<Buffer> {
      for await (const line of lines) {
        const chunk = Buffer.from(line, 'utf8')
        bytes += chunk.length
        yield chunk
      }
    }
    try {
      await new Upload({ client: this.s3, params: { Bucket: this.layout.bucket, Key: key, Body: Readable.from(counted()), ContentType: 'application/jsonlines' } }).done()
    } catch (err) {
      throw s3Failure('multipart upload', err)
    }
    const info: StoredFile = { version: 1, id, owner, purpose: 'batch_output', filename, bytes, created_at: createdAt, key }
    await putText(this.s3, this.layout.bucket, this.layout.fileInfoKey(id), JSON.stringify(info) + '\n', 'application/json')
    return fileObject(info)
  }

  /** The stored file `id` when `tenant` may see it; 404 FILE_NOT_FOUND otherwise (never 403: ids do not leak). */
  async stored (tenant: Tenant, id: string, field = 'file_id'): Promise<StoredFile> {
    const found = FILE_ID.test(id) ? await this.read(id) : undefined
    if (found === undefined || !canSee(tenant, found.owner)) {
      throw catalogError('FILE_NOT_FOUND', `no file with id ${show(id)}`, { param: field })
    }
    return found
  }

  /** The file object of `id` (see stored). */
  async get (tenant: Tenant, id: string): Promise<FileObject> {
    return fileObject(await this.stored(tenant, id))
  }

  /** The file's bytes, streamed. */
  async content (tenant: Tenant, id: string): Promise<Readable> {
    const stored = await this.stored(tenant, id)
    const body = await getStream(this.s3, this.layout.bucket, stored.key)
    if (body === undefined) throw catalogError('FILE_NOT_FOUND', `no file with id ${show(id)} (its content is gone)`, { param: 'file_id' })
    return body
  }

  /** Deletes the file (content, then info: a half-deleted file is still listed and can be deleted again). */
  async delete (tenant: Tenant, id: string): Promise<{ id: string, object: 'file', deleted: true }> {
    const stored = await this.stored(tenant, id)
    await deleteObject(this.s3, this.layout.bucket, stored.key)
    await deleteObject(this.s3, this.layout.bucket, this.layout.fileInfoKey(id))
    return { id, object: 'file', deleted: true }
  }

  /** Removes file `id` of `owner` (an empty batch output that is not offered). */
  async remove (id: string, owner: string): Promise<void> {
    await deleteObject(this.s3, this.layout.bucket, this.layout.fileKey(owner, id))
    await deleteObject(this.s3, this.layout.bucket, this.layout.fileInfoKey(id))
  }

  /**
   * `tenant`'s files newest first, `limit` at most, after the file `after` (cursor pagination as
   * OpenAI's: `has_more`, `first_id`, `last_id`), optionally of one purpose. A tenant's list reads
   * its own keys only: its contents under files/<tenant>/ name its files, then the info of each
   * file shown (and of those a purpose filter skips); an admin's reads file-info/, every tenant's.
   */
  async list (tenant: Tenant, query: { limit: number, after?: string, purpose?: string }): Promise<FileList> {
    const root = tenant.admin ? this.layout.fileInfoRoot : this.layout.tenantFilesRoot(tenant.id)
    const suffix = tenant.admin ? '.json' : '.jsonl'
    const startAfter = query.after !== undefined ? root + query.after + suffix : undefined
    const found = await firstMatching(
      namesIn(listObjects(this.s3, this.layout.bucket, root, startAfter, query.limit + 1), root, suffix, FILE_ID),
      query.limit + 1,
      async (id) => {
        const stored = await this.read(id)
        const shown = stored !== undefined && canSee(tenant, stored.owner) && (query.purpose === undefined || stored.purpose === query.purpose)
        return shown ? fileObject(stored) : undefined
      })
    const data = found.slice(0, query.limit)
    return { object: 'list', data, has_more: found.length > query.limit, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }
  }

  private async read (id: string): Promise<StoredFile | undefined> {
    const text = await getText(this.s3, this.layout.bucket, this.layout.fileInfoKey(id))
    if (text === undefined) return undefined
    let value: unknown
    try { value = JSON.parse(text) } catch { return undefined }
    return Value.Check(StoredFile, value) ? value : undefined
  }
}
