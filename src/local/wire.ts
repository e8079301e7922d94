// AWS wire-format helpers shared by the local stack's services (the runtime's REST-JSON
// InvokeEndpoint and the control plane's AWS JSON 1.1 operations). The AWS SDK's own
// deserialisers read what these write, so the shapes follow what AWS sends:
//   REST-JSON (runtime):  error type in the `x-amzn-ErrorType` header, fields in a JSON body.
//   AWS JSON 1.1 (control plane): error type in the body's `__type`, Content-Type
//   `application/x-amz-json-1.1`.
// Both carry `x-amzn-RequestId`, which the SDK exposes as `$metadata.requestId`.

import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Account id the local stack reports in messages and ARNs (LocalStack's convention). */
export const LOCAL_ACCOUNT_ID = '000000000000'

/** Region the local stack reports in messages and ARNs. */
export const LOCAL_REGION = 'us-east-1'

/** Content-Type of AWS JSON 1.1 requests and responses. */
export const AWS_JSON_11 = 'application/x-amz-json-1.1'

/**
 * An AWS service error as it goes on the wire: HTTP status, error type (`x-amzn-ErrorType` /
 * `__type`; undefined when AWS sends none, e.g. a front-end 413) and the JSON body fields.
 */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError'
  constructor (
    readonly statusCode: number,
    readonly errorType: string | undefined,
    readonly body: Record<string, unknown>
  ) {
    const text = body.message ?? body.Message
    super(typeof text === 'string' ? text : (errorType ?? `HTTP ${statusCode}`))
  }
}

/** A fresh request id in the shape AWS uses (a UUID). */
export function newRequestId (): string {
  return randomUUID()
}

function send (res: ServerResponse, status: number, contentType: string, payload: Buffer,
  headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': String(payload.length),
    Date: new Date().toUTCString(),
    ...headers
  })
  res.end(payload)
}

/** Writes a JSON (or pre-encoded) body with the given status and headers. */
export function sendJson (res: ServerResponse, status: number, body: unknown, requestId: string,
  contentType = 'application/json', headers: Record<string, string> = {}): void {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body))
  send(res, status, contentType, payload, { 'x-amzn-RequestId': requestId, ...headers })
}

/** Writes an error the way REST-JSON services (SageMaker Runtime) do. */
export function sendRestJsonError (res: ServerResponse, err: AwsServiceError, requestId: string): void {
  const headers: Record<string, string> = { 'x-amzn-RequestId': requestId }
  if (err.errorType !== undefined) headers['x-amzn-ErrorType'] = err.errorType
  send(res, err.statusCode, 'application/json', Buffer.from(JSON.stringify(err.body)), headers)
}

/** Writes an error the way AWS JSON 1.1 services (the SageMaker control plane) do. */
export function sendAwsJson11Error (res: ServerResponse, err: AwsServiceError, requestId: string): void {
  const body = err.errorType === undefined ? err.body : { __type: err.errorType, ...err.body }
  send(res, err.statusCode, AWS_JSON_11, Buffer.from(JSON.stringify(body)), { 'x-amzn-RequestId': requestId })
}

/** A request body read with a size bound: `bytes` counts everything sent, `body` holds at most the limit. */
export interface BoundedBody {
  body: Buffer
  bytes: number
  tooLarge: boolean
}

/**
 * Reads a request body, keeping at most `limitBytes`. Bytes past the limit are drained and
 * counted but not stored, so the client can finish sending and read the error response on a
 * healthy keep-alive connection.
 */
export async function readBoundedBody (req: IncomingMessage, limitBytes: number): Promise<BoundedBody> {
  return await new Promise<BoundedBody>((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limitBytes
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > limitBytes) tooLarge = true
      if (!tooLarge) chunks.push(chunk)
    })
    req.on('end', () => { resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), bytes, tooLarge }) })
    req.on('error', reject)
    req.on('close', () => { if (!req.complete) reject(new Error('request aborted')) })
  })
}

/** Starts `server` on `port` (0: any free one) of `host` (default loopback); resolves with its address. */
export async function listenOn (server: Server, port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server.address() as AddressInfo
}
