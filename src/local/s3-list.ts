/**
 * ListObjectsV2 for the local S3, answered in front of s3rver (which keeps storing the objects).
 *
 * s3rver 3.7.1 cannot list past one page: its NextContinuationToken is encrypted with DES
 * (`crypto.createCipheriv('des', ...)`), which OpenSSL 3 (Node >= 17) no longer provides, so any
 * truncated listing (more keys than MaxKeys: 1,000 by default) is a 500 InternalError. It also
 * walks its directory tree in file-system order, so `p/a/c` lists before `p/a-b` ('-' < '/'), and
 * a page that ends inside such a directory makes StartAfter skip keys. Both are answered here as
 * the S3 API reference says (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html):
 * keys in UTF-8 binary order, at most MaxKeys (<= 1,000) keys plus common prefixes per page, each
 * common prefix counted once, an opaque continuation token, StartAfter and ContinuationToken
 * echoed, `encoding-type=url` (boto3 sends it by default).
 *
 * Objects are read from s3rver's store layout: key `a/b/c` is the file `<bucket>/a/b/c<suffix>`
 * (the suffix is asked of s3rver's store, not restated here); ETag, size and date come from the
 * store's own getMetadata, so a listing says what HeadObject says.
 */
import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename, join } from 'node:path'
import { mapLimit } from '../util/map-limit.js'
import { newRequestId } from './wire.js'

/** What the listing needs of s3rver's FilesystemStore (s3rver's types do not declare `store`). */
export interface S3rverStore {
  getResourcePath: (bucket: string, key: string, resource: string) => string
  getMetadata: (bucket: string, key: string) => Promise<Record<string, unknown>>
}

/** The store of a running s3rver instance, checked to have the two methods used here. */
export function storeOf (s3rver: object): S3rverStore {
  const store: unknown = Reflect.get(s3rver, 'store')
  if (typeof store === 'object' && store !== null &&
    typeof Reflect.get(store, 'getResourcePath') === 'function' && typeof Reflect.get(store, 'getMetadata') === 'function') {
    return store as S3rverStore
  }
  throw new Error('s3rver has no FilesystemStore (store.getResourcePath/getMetadata): the local S3 listing cannot run')
}

/** S3's ceiling on keys per page (and the default). */
const MAX_KEYS = 1000
// the owner s3rver reports on objects (its one dummy account), so FetchOwner agrees with GetObjectAcl
const OWNER = { id: '123456789000', displayName: 'S3rver' }
// metadata reads in flight per page (each opens two files)
const METADATA_CONCURRENCY = 32
const TOKEN_PREFIX = 't2t1:'

class ListError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly fields: Record<string, string> = {}) {
    super(message)
  }
}

/** True when the request is a ListObjectsV2 (`GET /<bucket>?list-type=2`, path style). */
export function isListObjectsV2 (req: IncomingMessage): boolean {
  if (req.method !== 'GET' || req.url === undefined) return false
  const q = req.url.indexOf('?')
  if (q < 0 || !/^\/[^/]+\/?$/.test(req.url.slice(0, q))) return false
  return new URLSearchParams(req.url.slice(q + 1)).get('list-type') === '2'
}

/** Every key in `bucketDir` starting with `prefix`, unsorted; directories that cannot hold one are not read. */
async function keysUnder (bucketDir: string, prefix: string, suffix: string): Promise<string[]> {
  const keys: string[] = []
  const visit = async (dir: string, rel: string): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      // a directory removed while listing (a concurrent DeleteObject) holds nothing
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const subdirs: Array<Promise<void>> = []
    for (const entry of entries) {
      if (entry.isDirectory()) {
        const sub = `${rel}${entry.name}/`
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) subdirs.push(visit(join(dir, entry.name), sub))
      } else if (entry.name.endsWith(suffix)) {
        const key = rel + entry.name.slice(0, -suffix.length)
        if (key.startsWith(prefix)) keys.push(key)
      }
    }
    await Promise.all(subdirs)
  }
  await visit(bucketDir, '')
  return keys
}

const xmlEscape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
// encoding-type=url: keys as URL components, '/' kept (as S3 sends them)
const urlEncode = (s: string): string => encodeURIComponent(s).replace(/%2F/g, '/')

/** Where a page starts: after a key, or after a common prefix (then after every key it rolls up). */
interface After { value: string, rolledUp: boolean }

// opaque to clients (S3: "ContinuationToken is obfuscated and is not a real key"); ours is
// base64 of `t2t1:k:<key>` or `t2t1:p:<common prefix>`
function encodeToken (after: After): string {
  return Buffer.from(`${TOKEN_PREFIX}${after.rolledUp ? 'p' : 'k'}:${after.value}`, 'utf8').toString('base64')
}

function decodeToken (token: string): After {
  const text = Buffer.from(token, 'base64').toString('utf8')
  const kind = text.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 2)
  const after = { value: text.slice(TOKEN_PREFIX.length + 2), rolledUp: kind === 'p:' }
  if (!text.startsWith(TOKEN_PREFIX) || (kind !== 'p:' && kind !== 'k:') || encodeToken(after) !== token) {
    throw new ListError(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' })
  }
  return after
}

function maxKeysOf (raw: string | null): number {
  if (raw === null) return MAX_KEYS
  if (!/^-?\d+$/.test(raw)) throw new ListError(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw })
  const n = Number(raw)
  if (n < 0 || n > 2147483647) throw new ListError(400, 'InvalidArgument', 'Argument maxKeys must be an integer between 0 and 2147483647', { ArgumentName: 'maxKeys', ArgumentValue: raw })
  return Math.min(MAX_KEYS, n)
}

/** One page of a listing: the keys and common prefixes in S3 order, and where the next page starts. */
export interface ListPage {
  keys: string[]
  commonPrefixes: string[]
  /** The last key or common prefix of this page when more follow. */
  next?: After
}

/**
 * The page of `keys` (any order) after `after` (exclusive), at most `maxKeys` entries (a common
 * prefix counts once), keys under `prefix` rolled up at `delimiter`; in UTF-8 binary order, as S3
 * lists (JS strings compare UTF-16 code units, which differs above U+D7FF).
 */
export function pageOf (keys: readonly string[], opts: { prefix: string, delimiter: string, after: After, maxKeys: number }): ListPage {
  const afterBytes = Buffer.from(opts.after.value, 'utf8')
  const sorted = keys.map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
    .filter((k) => Buffer.compare(k.bytes, afterBytes) > 0)
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
  const page: ListPage = { keys: [], commonPrefixes: [] }
  let last: After | undefined
  for (const { key } of sorted) {
    let entry = key
    let rolledUp = false
    if (opts.delimiter !== '') {
      const at = key.indexOf(opts.delimiter, opts.prefix.length)
      if (at >= 0) { entry = key.slice(0, at + opts.delimiter.length); rolledUp = true }
    }
    // the keys a common prefix rolls up sort together: only the first one counts, and none
    // after a page that ended on that prefix
    if (rolledUp && ((last?.rolledUp === true && entry === last.value) || (opts.after.rolledUp && entry === opts.after.value))) continue
    if (page.keys.length + page.commonPrefixes.length === opts.maxKeys) { page.next = last; break }
    if (rolledUp) page.commonPrefixes.push(entry)
    else page.keys.push(entry)
    last = { value: entry, rolledUp }
  }
  return page
}

/** Answers one ListObjectsV2 request from the store under `directory`. */
export async function answerListObjectsV2 (req: IncomingMessage, res: ServerResponse, directory: string, store: S3rverStore): Promise<void> {
  const requestId = newRequestId()
  try {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const bucket = decodeURIComponent(url.slice(1, q).replace(/\/$/, ''))
    const params = new URLSearchParams(url.slice(q + 1))
    const bucketDir = join(directory, bucket)
    const bucketStat = await stat(bucketDir).catch(() => undefined)
    if (bucketStat?.isDirectory() !== true) throw new ListError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket })
    const encoding = params.get('encoding-type')
    if (encoding !== null && encoding !== 'url') throw new ListError(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encoding })
    const maxKeys = maxKeysOf(params.get('max-keys'))
    const prefix = params.get('prefix') ?? ''
    const delimiter = params.get('delimiter') ?? ''
    const token = params.get('continuation-token')
    const startAfter = params.get('start-after')
    // a token wins over StartAfter (it already lies past it)
    const after = token !== null ? decodeToken(token) : { value: startAfter ?? '', rolledUp: false }
    const fetchOwner = params.get('fetch-owner') === 'true'

    const suffix = basename(store.getResourcePath(bucket, 'k', 'object')).slice(1)
    const page = maxKeys === 0
      ? { keys: [], commonPrefixes: [] }
      : pageOf(await keysUnder(bucketDir, prefix, suffix), { prefix, delimiter, after, maxKeys })
    const metadata = await mapLimit(page.keys, METADATA_CONCURRENCY, async (key) => await store.getMetadata(bucket, key).catch((err: NodeJS.ErrnoException) => {
      // deleted between the directory walk and now: not listed, as a later listing would not
      if (err.code === 'ENOENT') return undefined
      throw err
    }))
    const enc = (s: string): string => xmlEscape(encoding === 'url' ? urlEncode(s) : s)
    const contents: string[] = []
    page.keys.forEach((key, i) => {
      const meta = metadata[i]
      if (meta === undefined) return
      const modified = new Date(String(meta['last-modified'])).toISOString()
      contents.push('<Contents>' +
        `<Key>${enc(key)}</Key><LastModified>${modified}</LastModified><ETag>${xmlEscape(String(meta.etag))}</ETag>` +
        `<Size>${Number(meta['content-length'])}</Size>` +
        (fetchOwner ? `<Owner><ID>${OWNER.id}</ID><DisplayName>${OWNER.displayName}</DisplayName></Owner>` : '') +
        '<StorageClass>STANDARD</StorageClass></Contents>')
    })
    const truncated = page.next !== undefined
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>` +
      (token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
      // echoed on the first page only, as s3rver and moto do (a token already lies past it)
      (startAfter !== null && token === null ? `<StartAfter>${enc(startAfter)}</StartAfter>` : '') +
      `<KeyCount>${contents.length + page.commonPrefixes.length}</KeyCount>` +
      `<MaxKeys>${params.get('max-keys') ?? MAX_KEYS}</MaxKeys>` +
      (delimiter !== '' ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '') +
      `<IsTruncated>${String(truncated)}</IsTruncated>` +
      contents.join('') +
      page.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('') +
      (encoding !== null ? '<EncodingType>url</EncodingType>' : '') +
      (truncated ? `<NextContinuationToken>${encodeToken(page.next ?? { value: '', rolledUp: false })}</NextContinuationToken>` : '') +
      '</ListBucketResult>'
    send(res, 200, xml, requestId)
  } catch (err) {
    const e = err instanceof ListError ? err : new ListError(500, 'InternalError', 'We encountered an internal error. Please try again.')
    const fields = Object.entries(e.fields).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('')
    send(res, e.status, '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message>${fields}<RequestId>${requestId}</RequestId></Error>`, requestId)
  }
}

function send (res: ServerResponse, status: number, xml: string, requestId: string): void {
  if (res.headersSent || res.destroyed) return
  const body = Buffer.from(xml, 'utf8')
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': String(body.length), 'x-amz-request-id': requestId })
  res.end(body)
}
