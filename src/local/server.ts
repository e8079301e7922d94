// The local stack's single HTTP server. Routes:
//   POST /endpoints/{EndpointName}/invocations   SageMaker Runtime InvokeEndpoint (REST-JSON)
//   POST /endpoints/{EndpointName}/invocations-response-stream
//                                               InvokeEndpointWithResponseStream (event stream)
//   POST /  with X-Amz-Target: <Prefix>.<Op>     AWS JSON 1.1 services (the control plane) — see
//                                               AwsJsonService; mounted via `jsonServices`
//   GET  /_local/stats, POST /_local/stats/reset test and benchmark counters (not AWS)
// Anything else answers 404 UnknownOperationException. S3 is not served here: s3rver runs its
// own server.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { EVENT_STREAM_CONTENT_TYPE, payloadPart, splitParts, streamError } from './event-stream.js'
import { createLocalRuntime, MAX_PAYLOAD_BYTES, type InvokeInput, type LocalRuntime, type LocalRuntimeOptions, type LocalStats } from './runtime.js'
import {
  AwsServiceError, newRequestId, readBoundedBody, sendAwsJson11Error, sendJson, sendRestJsonError, AWS_JSON_11, listenOn
} from './wire.js'

/** Request size accepted by AWS JSON 1.1 services (control-plane bodies are small). */
export const MAX_JSON_REQUEST_BYTES = 10 * 1024 * 1024

// Idle keep-alive sockets live longer than the SDK's pooled agent keeps them, so the client never
// reuses a socket the server is closing (ms).
const KEEP_ALIVE_TIMEOUT_MS = 65_000

/**
 * An AWS JSON 1.1 service mounted at `POST /`, chosen by X-Amz-Target prefix. The control plane
 * (CreateTransformJob, DescribeTransformJob, ...) plugs in here with targetPrefix "SageMaker.".
 */
export interface AwsJsonService {
  /** X-Amz-Target prefix including the dot, e.g. "SageMaker." (the SDK sends "SageMaker.DescribeTransformJob"). */
  readonly targetPrefix: string
  /**
   * Runs `operation` (the target without its prefix) on the parsed JSON input and returns the
   * output shape, or throws an AwsServiceError (written as `{"__type", ...body}`). An unknown
   * operation should throw AwsServiceError(400, 'UnknownOperationException', {message}).
   */
  handle: (operation: string, input: Record<string, unknown>) => Promise<unknown>
  /** Releases the service's resources when the server closes. */
  close?: () => Promise<void>
}

/** Options of the local SageMaker server: the runtime's knobs plus where to listen. */
export interface LocalSageMakerOptions extends LocalRuntimeOptions {
  /** Interface to bind; defaults to 127.0.0.1 (loopback only). */
  host?: string
  /** Port to bind; defaults to 0 (an ephemeral port). */
  port?: number
  /** AWS JSON 1.1 services answering `POST /` (the control plane). */
  jsonServices?: AwsJsonService[]
}

/** A running local SageMaker. */
export interface LocalSageMaker {
  /** Base URL to give the AWS SDK as `endpoint`, e.g. http://127.0.0.1:54321. */
  url: string
  port: number
  runtime: LocalRuntime
  stats: () => LocalStats
  resetStats: () => void
  /** Stops accepting connections, lets in-flight invocations answer, then closes every socket. */
  close: () => Promise<void>
}

const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations$/
const STREAM_PATH = /^\/endpoints\/([^/]+)\/invocations-response-stream$/

function header (req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function unknownOperation (req: IncomingMessage): AwsServiceError {
  return new AwsServiceError(404, 'UnknownOperationException', {
    message: `No operation matches ${req.method ?? '?'} ${req.url ?? '?'}`
  })
}

function decodeName (rawName: string): string {
  try {
    return decodeURIComponent(rawName)
  } catch {
    return rawName
  }
}

async function handleInvocation (runtime: LocalRuntime, req: IncomingMessage, res: ServerResponse,
  rawName: string, requestId: string): Promise<void> {
  const { body, bytes } = await readBoundedBody(req, MAX_PAYLOAD_BYTES)
  try {
    const out = await runtime.invoke({
      endpointName: decodeName(rawName),
      contentType: header(req, 'content-type'),
      accept: header(req, 'accept'),
      body,
      bytes
    })
    sendJson(res, 200, out.body, requestId, out.contentType, {
      'x-Amzn-Invoked-Production-Variant': out.invokedProductionVariant
    })
  } catch (err) {
    sendRestJsonError(res, err instanceof AwsServiceError
      ? err
      : new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred.' }), requestId)
  }
}

/** Seeds the PayloadPart splitter: each stream is cut differently, reproducibly within a run. */
let streamSeed = 0

/**
 * InvokeEndpointWithResponseStream: refusals before the stream starts are REST-JSON errors like
 * InvokeEndpoint's (ModelError with OriginalStatusCode included); then 200 and the container's
 * body as PayloadPart events, or a ModelStreamError if the container breaks off mid-way. The
 * container's media type travels in X-Amzn-SageMaker-Content-Type, the Accept it was asked for
 * in X-Amzn-SageMaker-Accept (the API's header bindings).
 */
async function handleStreamInvocation (runtime: LocalRuntime, req: IncomingMessage, res: ServerResponse,
  rawName: string, requestId: string): Promise<void> {
  const { body, bytes } = await readBoundedBody(req, MAX_PAYLOAD_BYTES)
  const gone = new AbortController()
  res.on('close', () => { gone.abort(new Error('the client went away')) })
  const input: InvokeInput = {
    endpointName: decodeName(rawName),
    contentType: header(req, 'content-type'),
    accept: header(req, 'x-amzn-sagemaker-accept'),
    body,
    bytes
  }
  let out
  try {
    out = await runtime.invokeStream(input, gone.signal)
  } catch (err) {
    sendRestJsonError(res, err instanceof AwsServiceError
      ? err
      : new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred.' }), requestId)
    return
  }
  res.writeHead(200, {
    'Content-Type': EVENT_STREAM_CONTENT_TYPE,
    'X-Amzn-SageMaker-Content-Type': out.contentType,
    'x-Amzn-Invoked-Production-Variant': out.invokedProductionVariant,
    'x-amzn-RequestId': requestId,
    Date: new Date().toUTCString()
  })
  try {
    for await (const part of splitParts(out.chunks, ++streamSeed)) {
      if (gone.signal.aborted) break
      res.write(payloadPart(part))
    }
  } catch (err) {
    if (!gone.signal.aborted) res.write(streamError('ModelStreamError', `The model's response stream broke off: ${(err as Error).message}`, 'StreamBroken'))
  }
  res.end()
}

async function handleAwsJson (services: AwsJsonService[], req: IncomingMessage, res: ServerResponse,
  requestId: string): Promise<void> {
  const { body, tooLarge } = await readBoundedBody(req, MAX_JSON_REQUEST_BYTES)
  const target = header(req, 'x-amz-target') ?? ''
  const service = services.find((s) => target.startsWith(s.targetPrefix))
  try {
    if (tooLarge) throw new AwsServiceError(413, undefined, { message: `HTTP content length exceeded ${MAX_JSON_REQUEST_BYTES} bytes.` })
    if (service === undefined) {
      throw new AwsServiceError(400, 'UnknownOperationException', { message: `Unknown X-Amz-Target: ${target}` })
    }
    let input: unknown
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'))
    } catch {
      throw new AwsServiceError(400, 'SerializationException', { message: 'Request body is not valid JSON' })
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new AwsServiceError(400, 'SerializationException', { message: 'Request body must be a JSON object' })
    }
    const output = await service.handle(target.slice(service.targetPrefix.length), input as Record<string, unknown>)
    sendJson(res, 200, output ?? {}, requestId, AWS_JSON_11)
  } catch (err) {
    sendAwsJson11Error(res, err instanceof AwsServiceError
      ? err
      : new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred.' }), requestId)
  }
}

/** Starts the local SageMaker (runtime now, control-plane services via `jsonServices`) on loopback. */
export async function startLocalSageMaker (options: LocalSageMakerOptions = {}): Promise<LocalSageMaker> {
  const runtime = createLocalRuntime(options)
  const services = options.jsonServices ?? []
  const pending = new Set<ServerResponse>()

  const server = createServer((req, res) => {
    pending.add(res)
    res.on('close', () => pending.delete(res))
    const requestId = newRequestId()
    const path = (req.url ?? '/').split('?')[0]
    const route = async (): Promise<void> => {
      const invocation = INVOCATIONS_PATH.exec(path)
      const streamed = STREAM_PATH.exec(path)
      if (req.method === 'POST' && invocation !== null) {
        await handleInvocation(runtime, req, res, invocation[1], requestId)
      } else if (req.method === 'POST' && streamed !== null) {
        await handleStreamInvocation(runtime, req, res, streamed[1], requestId)
      } else if (req.method === 'POST' && path === '/' && req.headers['x-amz-target'] !== undefined) {
        await handleAwsJson(services, req, res, requestId)
      } else if (req.method === 'GET' && path === '/_local/stats') {
        sendJson(res, 200, runtime.stats(), requestId)
      } else if (req.method === 'POST' && path === '/_local/stats/reset') {
        runtime.resetStats()
        res.writeHead(204, { 'x-amzn-RequestId': requestId }).end()
      } else {
        req.resume()
        sendRestJsonError(res, unknownOperation(req), requestId)
      }
    }
    route().catch(() => {
      // Only an aborted or broken request gets here; the socket is already gone or going.
      if (!res.headersSent) {
        sendRestJsonError(res, new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred.' }), requestId)
      } else {
        res.destroy()
      }
    })
  })
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000

  const address = await listenOn(server, options.port, options.host)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => { resolve() }))
      server.closeIdleConnections()
      await Promise.all([...pending].map(async (res) => await new Promise<void>((resolve) => {
        if (res.writableFinished || res.destroyed) resolve()
        else res.once('close', () => { resolve() })
      })))
      server.closeAllConnections()
      await closed
      await Promise.all(services.map(async (s) => await s.close?.()))
    })()
    await closing
  }

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    runtime,
    stats: runtime.stats,
    resetStats: runtime.resetStats,
    close
  }
}
