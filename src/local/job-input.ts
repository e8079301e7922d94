// Reading a transform job's input from S3, as a stream: which objects an S3Uri names, where
// each one's output goes, and the records inside an object (line by line with byte offsets,
// so a resumed job can continue with a ranged GetObject instead of re-reading).
// Nothing here holds more than one record (plus one network chunk) in memory.

import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { parseSageMakerS3Uri, type S3Location } from '../sagemaker/s3-uri.js'
import type { PlannedFile } from './job-store.js'

/** A record (line, or whole object) larger than the payload limit. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError'
  constructor (readonly line: number, readonly bytes: number, readonly limit: number) {
    super(`record at line ${line} is larger than ${limit} bytes (at least ${bytes})`)
  }
}

/** One line of an input object. */
export interface InputLine {
  /** The line without its terminator ("\n" or "\r\n"). */
  text: string
  /** Absolute byte offset just past this line's terminator: where a resumed read starts. */
  end: number
  /** 1-based line number in the object. */
  line: number
}

/** Options of splitResumableLines. */
export interface SplitOptions {
  /** Absolute offset of the first byte `source` yields (0 unless it is a ranged read). */
  sourceStart?: number
  /** Absolute offset to start at; bytes before it are discarded (a resumed gzip read). */
  start?: number
  /** Lines before `start`, so numbering continues. */
  startLine?: number
  /** Longest line accepted, in bytes; past it RecordTooLargeError. */
  maxLineBytes: number
  /** SplitType None: the whole object is one record. */
  whole?: boolean
}

const BOM = '\uFEFF'

function decodeLine (buf: Buffer, line: number): string {
  let text = buf.toString('utf8')
  if (text.endsWith('\r')) text = text.slice(0, -1)
  if (line === 1 && text.startsWith(BOM)) text = text.slice(1)
  return text
}

/**
 * Splits a byte stream into lines with absolute end offsets, holding at most one line: the
 * transform container's reading (a BOM dropped, a line over the payload limit an error), with
 * offsets so a resumed job continues where its checkpoint stands. The gateway's own reader of
 * user files is `splitLines` (sagemaker/lines.ts), which reports and skips long lines instead.
 */
export async function * splitResumableLines (source: AsyncIterable<Uint8Array | string>, options: SplitOptions): AsyncGenerator<InputLine> {
  const start = options.start ?? 0
  const max = options.maxLineBytes
  let pos = options.sourceStart ?? 0
  let line = options.startLine ?? 0
  let parts: Buffer[] = []
  let partsBytes = 0
  for await (const chunk of source) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (pos < start) {
      const drop = Math.min(buf.length, start - pos)
      buf = buf.subarray(drop)
      pos += drop
      if (buf.length === 0) continue
    }
    if (options.whole === true) {
      parts.push(buf)
      partsBytes += buf.length
      pos += buf.length
      if (partsBytes > max) throw new RecordTooLargeError(line + 1, partsBytes, max)
      continue
    }
    let from = 0
    for (;;) {
      const nl = buf.indexOf(10, from)
      if (nl < 0) {
        const rest = buf.subarray(from)
        if (rest.length > 0) {
          parts.push(rest)
          partsBytes += rest.length
          if (partsBytes > max) throw new RecordTooLargeError(line + 1, partsBytes, max)
        }
        pos += buf.length - from
        break
      }
      const piece = buf.subarray(from, nl)
      const lineBytes = partsBytes + piece.length
      if (lineBytes > max) throw new RecordTooLargeError(line + 1, lineBytes, max)
      const whole = parts.length === 0 ? piece : Buffer.concat([...parts, piece], lineBytes)
      parts = []
      partsBytes = 0
      pos += nl + 1 - from
      from = nl + 1
      line++
      yield { text: decodeLine(whole, line), end: pos, line }
    }
  }
  if (partsBytes > 0) {
    line++
    yield { text: decodeLine(Buffer.concat(parts, partsBytes), line), end: pos, line }
  }
}

/** True for a line the runner skips: empty or only ASCII whitespace. */
export function isBlank (text: string): boolean {
  return /^[ \t\r\v\f]*$/.test(text)
}

/** Where an input object's bytes come from, starting at absolute offset `from`. */
export async function openInput (s3: S3Client, file: Pick<PlannedFile, 'bucket' | 'key' | 'size'>, options: {
  gzip: boolean
  from: number
  signal?: AbortSignal
}): Promise<{ stream: AsyncIterable<Uint8Array | string>, sourceStart: number, destroy: () => void }> {
  // A ranged read continues a plain object; a gzip stream must be re-inflated from its start.
  const ranged = !options.gzip && options.from > 0
  if (ranged && options.from >= file.size) {
    return { stream: Readable.from([]), sourceStart: options.from, destroy: () => {} }
  }
  const out = await s3.send(new GetObjectCommand({
    Bucket: file.bucket,
    Key: file.key,
    Range: ranged ? `bytes=${options.from}-` : undefined
  }), { abortSignal: options.signal })
  const body = out.Body
  if (!(body instanceof Readable)) throw new Error(`GetObject s3://${file.bucket}/${file.key} returned no stream`)
  if (!options.gzip) return { stream: body, sourceStart: ranged ? options.from : 0, destroy: () => { body.destroy() } }
  const gunzip = createGunzip()
  body.on('error', (err) => { gunzip.destroy(err) })
  body.pipe(gunzip)
  return {
    stream: gunzip,
    sourceStart: 0,
    destroy: () => {
      body.destroy()
      gunzip.destroy()
    }
  }
}

/**
 * Counts the records of an object without building strings: non-blank lines (SplitType Line)
 * or 1 (SplitType None).
 */
export async function countRecords (s3: S3Client, file: Pick<PlannedFile, 'bucket' | 'key' | 'size'>, options: {
  gzip: boolean
  whole: boolean
  signal?: AbortSignal
}): Promise<number> {
  if (options.whole) return 1
  const input = await openInput(s3, file, { gzip: options.gzip, from: 0, signal: options.signal })
  let count = 0
  // Whether the current line has a byte other than ASCII whitespace (a UTF-8 BOM at the very
  // start does not count), matching isBlank.
  let nonBlank = false
  let first = true
  try {
    for await (const chunk of input.stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      let i = 0
      if (first) {
        first = false
        if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3
      }
      for (; i < buf.length; i++) {
        const b = buf[i]
        if (b === 10) {
          if (nonBlank) count++
          nonBlank = false
        } else if (!nonBlank && b !== 32 && b !== 9 && b !== 13 && b !== 11 && b !== 12) {
          nonBlank = true
        }
      }
    }
  } finally {
    input.destroy()
  }
  if (nonBlank) count++
  return count
}

/** The key an output object gets: the input key relative to the S3Uri's folder, plus ".out". */
export function outputKey (inputPrefix: string, inputKey: string, outputPrefix: string): string {
  const folder = inputPrefix.slice(0, inputPrefix.lastIndexOf('/') + 1)
  const relative = inputKey.startsWith(folder) ? inputKey.slice(folder.length) : inputKey.slice(inputKey.lastIndexOf('/') + 1)
  const base = outputPrefix === '' ? '' : outputPrefix.endsWith('/') ? outputPrefix : `${outputPrefix}/`
  return `${base}${relative}.out`
}

/** Objects a job reads, in key order, skipping zero-byte and "directory" (trailing /) keys. */
export async function listInputObjects (s3: S3Client, dataType: string, uri: S3Location, signal?: AbortSignal): Promise<Array<{ bucket: string, key: string, size: number, relativeTo: string }>> {
  if (dataType === 'ManifestFile') return await readManifest(s3, uri, signal)
  const found: Array<{ bucket: string, key: string, size: number, relativeTo: string }> = []
  let token: string | undefined
  do {
    const page = await s3.send(new ListObjectsV2Command({
      Bucket: uri.bucket, Prefix: uri.key === '' ? undefined : uri.key, ContinuationToken: token
    }), { abortSignal: signal })
    for (const obj of page.Contents ?? []) {
      if (obj.Key === undefined || obj.Key.endsWith('/') || (obj.Size ?? 0) === 0) continue
      found.push({ bucket: uri.bucket, key: obj.Key, size: obj.Size ?? 0, relativeTo: uri.key })
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  // S3 lists in UTF-8 byte order; sort anyway so the order never depends on the server.
  found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  return found
}

/**
 * True when the input an S3Prefix data source names holds at least one object a job would read
 * (for a ManifestFile: the manifest exists). False for an absent bucket too, as SageMaker's
 * check answers one message for both.
 */
export async function inputExists (s3: S3Client, dataType: string, uri: S3Location): Promise<boolean> {
  let token: string | undefined
  try {
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: uri.bucket, Prefix: uri.key === '' ? undefined : uri.key, ContinuationToken: token }))
      const objects = page.Contents ?? []
      if (dataType === 'ManifestFile') return objects.some((o) => o.Key === uri.key)
      if (objects.some((o) => o.Key !== undefined && !o.Key.endsWith('/') && (o.Size ?? 0) > 0)) return true
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchBucket') return false
    throw err
  }
  return false
}

/** Largest manifest accepted (bytes); manifests list keys, they are small. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024

/** Thrown when a ManifestFile is not `[{"prefix": "s3://..."}, "relative/key", ...]`. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError'
}

async function readManifest (s3: S3Client, uri: S3Location, signal?: AbortSignal): Promise<Array<{ bucket: string, key: string, size: number, relativeTo: string }>> {
  const out = await s3.send(new GetObjectCommand({ Bucket: uri.bucket, Key: uri.key }), { abortSignal: signal })
  const bytes = out.ContentLength ?? 0
  if (bytes > MAX_MANIFEST_BYTES) throw new ManifestError(`manifest s3://${uri.bucket}/${uri.key} is larger than ${MAX_MANIFEST_BYTES} bytes`)
  const text = await out.Body?.transformToString('utf8') ?? ''
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ManifestError(`manifest s3://${uri.bucket}/${uri.key} is not JSON: ${(err as Error).message}`)
  }
  const head = Array.isArray(parsed) ? parsed[0] as unknown : undefined
  const prefixUri = typeof head === 'object' && head !== null ? (head as { prefix?: unknown }).prefix : undefined
  const prefix = typeof prefixUri === 'string' ? parseSageMakerS3Uri(prefixUri) : undefined
  if (!Array.isArray(parsed) || prefix === undefined || parsed.slice(1).some((k) => typeof k !== 'string')) {
    throw new ManifestError(`manifest s3://${uri.bucket}/${uri.key} must be [{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]`)
  }
  const base = prefix.key === '' || prefix.key.endsWith('/') ? prefix.key : `${prefix.key}/`
  const files: Array<{ bucket: string, key: string, size: number, relativeTo: string }> = []
  for (const rel of parsed.slice(1) as string[]) {
    const key = base + rel
    const obj = await s3.send(new ListObjectsV2Command({ Bucket: prefix.bucket, Prefix: key, MaxKeys: 1 }), { abortSignal: signal })
    const hit = obj.Contents?.find((c) => c.Key === key)
    if (hit === undefined) throw new ManifestError(`manifest entry s3://${prefix.bucket}/${key} does not exist`)
    if ((hit.Size ?? 0) > 0) files.push({ bucket: prefix.bucket, key, size: hit.Size ?? 0, relativeTo: base })
  }
  return files
}
