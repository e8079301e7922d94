import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import { createS3Client } from '../../src/sagemaker/clients.js'
import type { LocalStack } from '../../src/local/stack.js'

/** Keys under a prefix of the local bucket (via the real SDK, as an operator would look). */
export async function listKeys (stack: LocalStack, prefix: string): Promise<string[]> {
  const s3 = createS3Client(stack.awsTarget)
  try {
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: stack.awsTarget.bucket, Prefix: prefix, ContinuationToken: token }))
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (token !== undefined)
    return keys
  } finally {
    s3.destroy()
  }
}

/** The text of an object at an s3:// URI in the local bucket. */
export async function readObject (stack: LocalStack, uri: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)
  if (m === null) throw new Error(`not an s3 uri: ${uri}`)
  const s3 = createS3Client(stack.awsTarget)
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }))
    return await out.Body?.transformToString() ?? ''
  } finally {
    s3.destroy()
  }
}

/** Polls GET /v1/transform-jobs/{name} until the job leaves InProgress/Stopping. */
export async function waitForJob (app: FastifyInstance, name: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/v1/transform-jobs/${name}` })
    if (res.statusCode !== 200) throw new Error(`GET job ${name}: ${res.statusCode} ${res.body}`)
    const job = res.json<Record<string, unknown>>()
    if (job.status !== 'InProgress' && job.status !== 'Stopping') return job
    if (Date.now() > until) throw new Error(`job ${name} still ${String(job.status)} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Parses an NDJSON body. */
export function ndjson (body: string): Array<Record<string, unknown>> {
  return body.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
}
