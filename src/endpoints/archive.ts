/**
 * The final usage of endpoints the gateway deleted, so GET /v1/usage still shows what they cost
 * once SageMaker (and their tags) have forgotten them. One JSON object per deletion under
 * `<S3_PREFIX>/usage/endpoints/<name>/<createdAt ms>.json`.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { Endpoint } from '../../schemas/endpoints.js'
import { getText, listObjects, putText } from '../sagemaker/s3-io.js'

/** An endpoint as it was when deleted. */
export interface ArchivedEndpoint {
  endpoint: Endpoint
  deletedAt: string
}

export class UsageArchive {
  private readonly root: string

  constructor (private readonly s3: S3Client, private readonly bucket: string, prefix: string) {
    const trimmed = prefix.replace(/^\/+|\/+$/g, '')
    this.root = (trimmed === '' ? '' : trimmed + '/') + 'usage/endpoints/'
  }

  async put (endpoint: Endpoint, deletedAt: string): Promise<void> {
    const key = `${this.root}${endpoint.name.toLowerCase()}/${Date.parse(endpoint.createdAt)}.json`
    await putText(this.s3, this.bucket, key, JSON.stringify({ endpoint, deletedAt } satisfies ArchivedEndpoint), 'application/json')
  }

  /** Every archived deletion (unreadable objects are skipped). */
  async all (): Promise<ArchivedEndpoint[]> {
    const out: ArchivedEndpoint[] = []
    for await (const obj of listObjects(this.s3, this.bucket, this.root)) {
      const text = await getText(this.s3, this.bucket, obj.key)
      if (text === undefined) continue
      try {
        const value = JSON.parse(text) as ArchivedEndpoint
        if (typeof value.deletedAt === 'string' && typeof value.endpoint?.name === 'string') out.push(value)
      } catch { /* a foreign or torn object: not ours to report */ }
    }
    return out
  }
}
