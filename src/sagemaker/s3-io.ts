/**
 * The few S3 operations datasets and jobs need, with S3 failures wrapped into catalog errors
 * (the client sees the operation, never AWS internals; the original stays as `cause`).
 */
import { PassThrough, Readable } from 'node:stream'
import {
  CopyObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client
} from '@aws-sdk/client-s3'
import { catalogError, type CatalogError } from '../errors.js'
import { isS3NotFound } from './aws-errors.js'

/** An object seen in a listing. */
export interface S3ObjectInfo {
  key: string
  size: number
}

/** A 502 naming the S3 operation that failed; the SDK error is kept as `cause` for the logs. */
export function s3Failure (operation: string, err: unknown): CatalogError {
  return catalogError('UPSTREAM_ERROR', `S3 ${operation} failed`, { cause: err })
}

/** Reads a small object as text; undefined when it does not exist. */
export async function getText (s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })
    return await out.Body?.transformToString('utf8') ?? ''
  } catch (err) {
    if (isS3NotFound(err)) return undefined
    throw s3Failure('GetObject', err)
  }
}

/** Streams an object's bytes; undefined when it does not exist. */
export async function getStream (s3: S3Client, bucket: string, key: string): Promise<Readable | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    if (out.Body instanceof Readable) return failingAsS3(out.Body, 'GetObject')
    // not reached on Node (the SDK's Node body is an IncomingMessage); kept for other runtimes
    return Readable.from([Buffer.from(await out.Body?.transformToByteArray() ?? new Uint8Array())])
  } catch (err) {
    if (isS3NotFound(err)) return undefined
    throw s3Failure('GetObject', err)
  }
}

/**
 * `body` with its stream errors (a reset connection, a truncated object) turned into the same
 * catalog error a failed request gets, so a failure while reading is a 502 like one before it.
 */
export function failingAsS3 (body: Readable, operation: string): Readable {
  const out = new PassThrough()
  body.on('error', (err) => { out.destroy(s3Failure(operation, err)) })
  out.on('close', () => { if (!body.destroyed) body.destroy() })
  body.pipe(out)
  return out
}

/** Writes a whole object from memory (manifests, inline records). */
export async function putText (s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<void> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }))
  } catch (err) {
    throw s3Failure('PutObject', err)
  }
}

/** Deletes one object (absent is fine: S3's DeleteObject is idempotent). */
export async function deleteObject (s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
  } catch (err) {
    throw s3Failure('DeleteObject', err)
  }
}

/** Moves an object within the bucket (server-side copy, then delete); at most 5 GiB. */
export async function moveObject (s3: S3Client, bucket: string, from: string, to: string): Promise<void> {
  try {
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}` }))
  } catch (err) {
    throw s3Failure('CopyObject', err)
  }
  await deleteObject(s3, bucket, from)
}

/** True when the object exists. */
export async function objectExists (s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return true
  } catch (err) {
    if (isS3NotFound(err)) return false
    throw s3Failure('HeadObject', err)
  }
}

/**
 * Every object under a key prefix (after `startAfter`, when given), in S3's (UTF-8 binary) key
 * order, one page in memory at a time. `pageSize` (MaxKeys, at most 1,000) keeps a caller that
 * wants few keys from listing a full page.
 */
export async function * listObjects (s3: S3Client, bucket: string, prefix: string, startAfter?: string, pageSize?: number): AsyncGenerator<S3ObjectInfo> {
  let token: string | undefined
  const maxKeys = pageSize === undefined ? {} : { MaxKeys: Math.max(1, Math.min(1000, pageSize)) }
  do {
    let page
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...maxKeys, ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}) }))
    } catch (err) {
      throw s3Failure('ListObjectsV2', err)
    }
    for (const obj of page.Contents ?? []) {
      if (obj.Key !== undefined) yield { key: obj.Key, size: obj.Size ?? 0 }
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined
  } while (token !== undefined)
}

/** The names of listed keys `<root><name><suffix>` that match `name` (ids in a listing), in listing order; other keys are skipped. */
export async function * namesIn (objects: AsyncIterable<S3ObjectInfo>, root: string, suffix: string, name: RegExp): AsyncGenerator<string> {
  for await (const obj of objects) {
    const candidate = obj.key.slice(root.length, obj.key.length - suffix.length)
    if (name.test(candidate) && obj.key === root + candidate + suffix) yield candidate
  }
}

/** Deletes every object under a key prefix (best effort cleanup of a submission that lost). */
export async function deletePrefix (s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let batch: string[] = []
  let deleted = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    try {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map(Key => ({ Key })), Quiet: true } }))
    } catch (err) {
      throw s3Failure('DeleteObjects', err)
    }
    deleted += batch.length
    batch = []
  }
  for await (const obj of listObjects(s3, bucket, prefix)) {
    batch.push(obj.key)
    // DeleteObjects takes at most 1000 keys
    if (batch.length === 1000) await flush()
  }
  await flush()
  return deleted
}
