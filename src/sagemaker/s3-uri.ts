/**
 * `s3://bucket/key` URIs: parsing, printing and the allow-list jobs may read from. Pure: no
 * I/O. A URI names an object or a key prefix (SageMaker's S3Prefix matching), so the key may
 * be empty (`s3://bucket/`, the whole bucket).
 */

/** A parsed `s3://` URI; `key` has no leading slash and may be empty. */
export interface S3Location {
  bucket: string
  key: string
}

/** Why a string is not an acceptable `s3://` URI (the message names the value). */
export class S3UriError extends Error {
  override name = 'S3UriError'
}

// S3's current bucket naming rules: 3..63 chars, lowercase letters, digits, dots and hyphens,
// starting and ending with a letter or digit
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
// S3 keys are at most 1024 bytes of UTF-8
const MAX_KEY_BYTES = 1024

/** JSON-quoted value for messages, cut to a readable length. */
function show (value: string): string {
  const text = JSON.stringify(value)
  return text.length > 120 ? `${text.slice(0, 117)}..."` : text
}

/**
 * Parses `s3://bucket/key`. Rejects what S3 or SageMaker would misread: other schemes, bad
 * bucket names, control characters, and `.`/`..` segments (an HTTP stack may normalise them
 * away, so `allowed/../secret` could reach a key outside an allowed prefix).
 */
export function parseS3Uri (uri: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri)
  if (m === null) throw new S3UriError(`${show(uri)} is not an s3:// URI (expected s3://bucket/key)`)
  const bucket = m[1] as string
  const key = m[2] ?? ''
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw new S3UriError(`${show(uri)} has an invalid bucket name ${show(bucket)}`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new S3UriError(`${show(uri)} contains control characters`)
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3UriError(`${show(uri)} has a key longer than ${MAX_KEY_BYTES} bytes`)
  if (key.split(/[/\\]/).some(segment => segment === '.' || segment === '..')) {
    throw new S3UriError(`${show(uri)} contains a "." or ".." path segment`)
  }
  // S3 never decodes a key, but tools between here and the object may (a proxy, a mounted
  // bucket, an S3-compatible store): a %-encoded dot segment or separator is refused too
  if (/%2f|%5c/i.test(key) || key.split(/[/\\]/).some(segment => /^(?:\.|%2e){1,2}$/i.test(segment))) {
    throw new S3UriError(`${show(uri)} contains a percent-encoded ".", ".." or "/" (%2e, %2f, %5c); write the key as it is stored`)
  }
  return { bucket, key }
}

/**
 * Parses an `s3://` URI by SageMaker's looser rule, the one its S3Uri and S3OutputPath members
 * follow (`^(https|s3)://([^/]+)/?(.*)$`: any bucket text, no segment checks), for the local
 * stack that answers as SageMaker does; undefined for anything but `s3://`. The gateway's own
 * requests go through the stricter parseS3Uri.
 */
export function parseSageMakerS3Uri (uri: string): S3Location | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri)
  if (m === null) return undefined
  return { bucket: m[1] as string, key: m[2] as string }
}

/** Prints a location as `s3://bucket/key`. */
export function formatS3Uri (location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`
}

/** Joins key parts with single slashes, no leading or trailing slash (`a/`, `/b` -> `a/b`). */
export function joinKey (...parts: string[]): string {
  return parts.map(p => p.replace(/^\/+|\/+$/g, '')).filter(p => p !== '').join('/')
}

/** The last path segment of a key (`a/b/c.jsonl` -> `c.jsonl`). */
export function basename (key: string): string {
  const i = key.lastIndexOf('/')
  return i < 0 ? key : key.slice(i + 1)
}

/**
 * The prefixes jobs may read, from ALLOWED_S3_PREFIXES (comma-separated) or the default
 * `s3://<bucket>/<prefix>/`. Each is a folder, matched by whole path segments: `s3://b/data`
 * (or `s3://b/data/`) allows `s3://b/data/x`, never `s3://b/database`. Throws on a malformed
 * entry, naming it.
 *
 * A URI the gateway accepts is used as an S3 key prefix (SageMaker's S3Prefix; the reference
 * and results readers list the same way), so it is allowed only when every key it can match
 * lies inside a folder: its key must start with `<folder>/`. The folder's own name without
 * the slash (`s3://b/data`) is refused, since as a prefix it matches `database/...` too.
 */
export class S3AllowList {
  /** Folders as `{bucket, key}`, key without trailing slash ('' = the whole bucket). */
  readonly prefixes: readonly S3Location[]

  constructor (prefixes: readonly string[]) {
    if (prefixes.length === 0) throw new S3UriError('the list of allowed S3 prefixes is empty')
    this.prefixes = prefixes.map(p => {
      const loc = parseS3Uri(p)
      return { bucket: loc.bucket, key: loc.key.replace(/\/+$/, '') }
    })
  }

  /** From config: ALLOWED_S3_PREFIXES when set, else `s3://<bucket>/<S3_PREFIX>/`. */
  static fromConfig (allowed: string | undefined, bucket: string, prefix: string): S3AllowList {
    const list = (allowed ?? '').split(',').map(s => s.trim()).filter(Boolean)
    return new S3AllowList(list.length > 0 ? list : [formatS3Uri({ bucket, key: joinKey(prefix) === '' ? '' : joinKey(prefix) + '/' })])
  }

  /**
   * True when every key `location` matches as a key prefix (and so the object it names, if
   * any) lies inside one of the folders. Keys compare case-sensitively, as S3 compares them.
   */
  allows (location: S3Location): boolean {
    return this.prefixes.some(p => p.bucket === location.bucket && (p.key === '' || location.key.startsWith(p.key + '/')))
  }

  /** For a refused location that names an allowed folder without its slash: that folder, with it. */
  folderFor (location: S3Location): string | undefined {
    const folder = { bucket: location.bucket, key: location.key.replace(/\/+$/, '') + '/' }
    return !this.allows(location) && this.allows(folder) ? formatS3Uri(folder) : undefined
  }

  /** The prefixes as users wrote them, for messages. */
  describe (): string {
    return this.prefixes.map(p => formatS3Uri({ bucket: p.bucket, key: p.key === '' ? '' : p.key + '/' })).join(', ')
  }
}
