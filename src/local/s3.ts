import { mkdir } from 'node:fs/promises'
import S3rver from 's3rver'

/** The bucket local mode keeps datasets, job inputs, manifests and outputs in. */
export const LOCAL_BUCKET = 'text2text-local'

/** A running s3rver: S3's REST API on loopback, objects on disk under `directory`. */
export interface LocalS3 {
  url: string
  bucket: string
  close: () => Promise<void>
}

/** Starts s3rver with the local bucket created; objects survive restarts (same directory). */
export async function startLocalS3 (opts: { directory: string, host?: string, port?: number, bucket?: string }): Promise<LocalS3> {
  const bucket = opts.bucket ?? LOCAL_BUCKET
  await mkdir(opts.directory, { recursive: true })
  const server = new S3rver({
    address: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    silent: true,
    directory: opts.directory,
    configureBuckets: [{ name: bucket, configs: [] }]
  })
  const address = await server.run()
  return {
    url: `http://${address.address}:${address.port}`,
    bucket,
    close: async () => { await server.close() }
  }
}
