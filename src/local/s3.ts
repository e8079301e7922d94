import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import S3rver from 's3rver'
import { answerListObjectsV2, isListObjectsV2, storeOf } from './s3-list.js'
import { listenOn } from './wire.js'

/** The bucket local mode keeps datasets, job inputs, manifests and outputs in. */
export const LOCAL_BUCKET = 'text2text-local'

/** The key pair s3rver knows; every request is presented to it as this one local account's. */
const S3RVER_ACCESS_KEY_ID = 'S3RVER'

/** S3's bucket naming rule (lower case, digits, dots and hyphens, 3..63): path-style `/<bucket>` only. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** A running s3rver: S3's REST API on loopback, objects on disk under `directory`. */
export interface LocalS3 {
  url: string
  bucket: string
  close: () => Promise<void>
}

/**
 * Presents any credentials as s3rver's one account. The local stack is one account that accepts
 * any credentials (as the local SageMaker does), so a user's own AWS key pair, or boto3's
 * `testing`, works unmodified; s3rver alone knows only its built-in S3RVER pair (and answers
 * InvalidAccessKeyId to any other). s3rver does not verify SigV4 signatures; a SigV2 signature
 * made with another secret is let through by `allowMismatchedSignatures`.
 */
function asLocalAccount (req: IncomingMessage): void {
  const auth = req.headers.authorization
  if (auth !== undefined) {
    req.headers.authorization = auth
      .replace(/Credential=[^/,\s]+\//, `Credential=${S3RVER_ACCESS_KEY_ID}/`) // SigV4
      .replace(/^AWS [^:\s]+:/, `AWS ${S3RVER_ACCESS_KEY_ID}:`) // SigV2
  }
  const q = req.url?.indexOf('?') ?? -1
  if (req.url !== undefined && q >= 0) {
    const params = new URLSearchParams(req.url.slice(q + 1))
    const credential = params.get('X-Amz-Credential')
    if (credential !== null) params.set('X-Amz-Credential', credential.replace(/^[^/]+/, S3RVER_ACCESS_KEY_ID))
    if (params.has('AWSAccessKeyId')) params.set('AWSAccessKeyId', S3RVER_ACCESS_KEY_ID)
    req.url = `${req.url.slice(0, q)}?${params.toString()}`
  }
}

/**
 * The bucket a path-style CreateBucket (`PUT /<bucket>`, no subresource) names, else undefined.
 * s3rver answers 409 BucketAlreadyExists to re-creating an existing bucket. AWS, in the local
 * stack's region us-east-1, answers 200 to re-creating a bucket one owns (S3 API reference,
 * CreateBucket, error BucketAlreadyOwnedByYou: "returns this error in all Amazon Web Services
 * Regions except in the North Virginia Region. For legacy compatibility, if you re-create an
 * existing bucket that you already own in the North Virginia Region, Amazon S3 returns 200 OK"),
 * and every bucket here is the one local account's.
 */
function createBucketName (req: IncomingMessage): string | undefined {
  if (req.method !== 'PUT' || req.url === undefined || req.url.includes('?')) return undefined
  const name = /^\/([^/]+)\/?$/.exec(req.url)?.[1]
  return name !== undefined && BUCKET_NAME.test(name) ? name : undefined
}

/** Sees each request the local S3 receives (method and path with query), before it is answered: tests count S3 calls with it. */
export type S3RequestObserver = (method: string, url: string) => void

/** Starts s3rver with the local bucket created; objects survive restarts (same directory). */
export async function startLocalS3 (opts: { directory: string, host?: string, port?: number, bucket?: string, onRequest?: S3RequestObserver }): Promise<LocalS3> {
  const bucket = opts.bucket ?? LOCAL_BUCKET
  await mkdir(opts.directory, { recursive: true })
  const s3rver = new S3rver({
    silent: true,
    directory: opts.directory,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: bucket, configs: [] }]
  })
  await s3rver.configureBuckets()
  const handle = s3rver.callback()
  const store = storeOf(s3rver)
  // s3rver's filesystem store keeps a bucket as the directory `<directory>/<bucket>`
  const bucketExists = async (name: string): Promise<boolean> =>
    await stat(join(opts.directory, name)).then((s) => s.isDirectory(), () => false)
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    asLocalAccount(req)
    opts.onRequest?.(req.method ?? '', req.url ?? '')
    if (isListObjectsV2(req)) {
      void answerListObjectsV2(req, res, opts.directory, store)
      return
    }
    const name = createBucketName(req)
    if (name === undefined) {
      handle(req, res)
      return
    }
    bucketExists(name).then((exists) => {
      if (!exists) {
        handle(req, res)
        return
      }
      // the request body (an optional CreateBucketConfiguration) is not needed: drain it
      req.resume()
      res.writeHead(200, { Location: `/${name}`, 'Content-Length': '0' })
      res.end()
    }, () => { handle(req, res) })
  })
  const address = await listenOn(server, opts.port, opts.host)
  return {
    url: `http://${address.address}:${address.port}`,
    bucket,
    close: async () => {
      await new Promise<void>((resolve, reject) => { server.close((err) => { err === undefined ? resolve() : reject(err) }) })
    }
  }
}
