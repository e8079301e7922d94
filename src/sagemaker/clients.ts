import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { SageMakerClient } from '@aws-sdk/client-sagemaker'
import { S3Client } from '@aws-sdk/client-s3'
import { SAGEMAKER_MAX_INVOCATION_MS } from './rules.js'
import { AbortableHttpHandler } from './abortable-handler.js'

/**
 * Where the AWS SDK clients point. In AWS mode only `region` is set and the SDK finds
 * credentials itself; in local mode every endpoint is the in-process local stack and the
 * credentials are dummies (the local stack does not check signatures).
 */
export interface AwsTarget {
  region: string
  sagemakerEndpoint?: string
  s3Endpoint?: string
  credentials?: { accessKeyId: string, secretAccessKey: string }
  /** The bucket local mode created; in AWS mode S3_BUCKET names it. */
  bucket?: string
  /** Path-style S3 URLs (`host/bucket/key`): S3-compatible stores (LocalStack, MinIO) and local mode need them. */
  forcePathStyle?: boolean
}

/**
 * Dummy credentials the SDK signs with when it talks to the local stack. Any pair would do: the
 * local S3 and the local SageMaker accept any credentials (src/local/s3.ts).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** The runtime client and its HTTP handler, which carries each invocation's abort signal. */
export interface RuntimeClient {
  client: SageMakerRuntimeClient
  handler: AbortableHttpHandler
}

/**
 * The runtime client. Keep-alive sockets sized to the invocation concurrency (plus slack for
 * retries racing a closing socket); `maxAttempts: 1` because the batcher owns retries —
 * two owners would multiply attempts under throttling. The middleware stack is resolved once
 * (`cacheMiddleware`), so abort signals travel through the handler (see AbortableHttpHandler);
 * SageMaker's own cap on one invocation is the handler's request timeout.
 */
export function createRuntimeClient (target: AwsTarget, maxConcurrent: number): RuntimeClient {
  const maxSockets = maxConcurrent + 2
  const handler = new AbortableHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    connectionTimeout: 5_000,
    requestTimeout: SAGEMAKER_MAX_INVOCATION_MS,
    throwOnRequestTimeout: true
  })
  const client = new SageMakerRuntimeClient({
    region: target.region,
    endpoint: target.sagemakerEndpoint,
    credentials: target.credentials,
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: handler
  })
  return { client, handler }
}

/** The control-plane client (transform jobs); the SDK's own retries are fine here. */
export function createControlClient (target: AwsTarget): SageMakerClient {
  return new SageMakerClient({ region: target.region, endpoint: target.sagemakerEndpoint, credentials: target.credentials })
}

/** The S3 client; path-style addressing against the local stack (no virtual-host DNS). */
export function createS3Client (target: AwsTarget): S3Client {
  return new S3Client({
    region: target.region,
    endpoint: target.s3Endpoint,
    credentials: target.credentials,
    forcePathStyle: target.forcePathStyle ?? target.s3Endpoint !== undefined,
    // s3rver predates the SDK's default CRC32 trailers; AWS accepts either way
    ...(target.s3Endpoint !== undefined ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const : {})
  })
}
