// A small HTTP client for the gateway over global fetch: bearer auth, JSON in and out, streamed
// uploads, and errors turned into HttpError (the gateway's status, code and message) or
// ConnectionError (naming the URL it tried).
import type { DatasetCreated } from '../../schemas/datasets.js'
import type { TransformJob } from '../../schemas/jobs.js'
import { CliError, ConnectionError, HttpError, oneLine, PROGRAM } from './errors.js'
import type { Connection } from './options.js'

/** Longest excerpt of a non-JSON error body quoted in a message (characters). */
const MAX_QUOTED_BODY = 200

/** One request: query, and either a JSON body or a streamed body with its media type. */
export interface RequestOptions {
  query?: Record<string, string | number | undefined>
  json?: unknown
  /** Sent as is (chunked), never buffered whole. */
  stream?: AsyncIterable<Uint8Array>
  contentType?: string
  headers?: Record<string, string>
  /** Appended to error messages, e.g. "uploading data.jsonl". */
  context?: string
}

/** One page of GET /v1/transform-jobs (the schema's JobList, with its job references resolved). */
export interface JobList {
  jobs: TransformJob[]
  nextToken?: string
}

/** A JSON object (not null, not an array). */
export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The code and innermost message of a network error: undici wraps it in `cause`, sometimes as an AggregateError. */
function networkFailure (error: unknown): { code: string | undefined, message: string } {
  let e: unknown = error
  let message = error instanceof Error ? error.message : String(error)
  for (let depth = 0; depth < 4 && isRecord(e); depth++) {
    if (typeof e.message === 'string' && e.message !== '') message = e.message
    if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return { code: e.code, message }
    const inner = Array.isArray(e.errors) ? e.errors[0] : undefined
    e = e.cause ?? inner
  }
  return { code: undefined, message }
}

/** Messages for the network codes users meet; anything else is quoted as is. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable'
}

/** Seconds of a Retry-After header given as seconds (the gateway's form), else undefined. */
function retryAfter (headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}

/** The gateway at one base URL, as seen by the CLI. */
export class Gateway {
  /** Base URL with a trailing slash, so relative paths keep any path prefix (a proxy mount). */
  private readonly base: URL

  constructor (private readonly connection: Connection) {
    this.base = new URL(connection.url.href.endsWith('/') ? connection.url.href : `${connection.url.href}/`)
  }

  /** The base URL for messages: as the user wrote it, minus any credentials and trailing slash. */
  get url (): string {
    const u = this.connection.url
    return `${u.origin}${u.pathname}`.replace(/\/$/, '')
  }

  /** Sends a request; resolves with a 2xx response, else throws HttpError / ConnectionError. */
  async send (method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(path.replace(/^\//, ''), this.base)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': PROGRAM, ...options.headers }
    if (this.connection.apiKey !== undefined) headers.authorization = `Bearer ${this.connection.apiKey}`
    const init: RequestInit = { method, headers }
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      init.body = JSON.stringify(options.json)
    } else if (options.stream !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream'
      init.body = options.stream
      // fetch needs this for a streamed request body (the response may start before it ends)
      init.duplex = 'half'
    }
    let res: Response
    try {
      res = await fetch(url, init)
    } catch (error) {
      throw this.connectionError(error)
    }
    if (res.ok) return res
    throw await this.httpError(res, options.context)
  }

  /** Sends a request and parses the JSON body; `check` guards its shape. */
  async json<T> (method: string, path: string, check: (value: unknown) => value is T, options: RequestOptions = {}): Promise<{ value: T, headers: Headers }> {
    const res = await this.send(method, path, options)
    let text: string
    try {
      text = await res.text()
    } catch (error) {
      throw this.connectionError(error)
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined
    }
    if (!check(value)) {
      throw new CliError(`unexpected response from ${method} ${url(res)} (${res.status}, ${res.headers.get('content-type') ?? 'no content type'}); is ${this.url} a text2text-gateway?`)
    }
    return { value, headers: res.headers }
  }

  /** GET /v1/transform-jobs/{name}. */
  async job (name: string): Promise<TransformJob> {
    return (await this.json('GET', `v1/transform-jobs/${encodeURIComponent(name)}`, isJob)).value
  }

  /** GET /v1/transform-jobs (one page). */
  async jobs (query: { status?: string, limit?: number, nextToken?: string }): Promise<JobList> {
    return (await this.json('GET', 'v1/transform-jobs', isJobList, { query })).value
  }

  /** POST /v1/datasets with a streamed NDJSON body. */
  async uploadDataset (body: AsyncIterable<Uint8Array>, prompt: string | undefined, context: string): Promise<DatasetCreated> {
    const query = { prompt }
    return (await this.json('POST', 'v1/datasets', isDatasetCreated, { stream: body, contentType: 'application/x-ndjson', query, context })).value
  }

  private connectionError (error: unknown): ConnectionError {
    const { code, message } = networkFailure(error)
    if (code === 'ECONNREFUSED') {
      return new ConnectionError(`cannot connect to ${this.url} (connection refused); start a gateway with "npx ${PROGRAM} serve" or point --url / T2T_URL at one`, code)
    }
    // e.g. "bad port": fetch refuses some ports (6000, 6665-6669, ...) before connecting
    const reason = code === undefined ? message : NETWORK_REASONS[code] ?? `${code} ${message}`
    return new ConnectionError(`cannot reach ${this.url}: ${reason}`, code)
  }

  private async httpError (res: Response, context: string | undefined): Promise<HttpError> {
    const text = await res.text().catch(() => '')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    let code: string
    let message: string
    if (isRecord(body) && typeof body.code === 'string' && typeof body.message === 'string') {
      code = body.code
      message = body.message
    } else {
      // not the gateway's error shape (a proxy, or a wrong --url): quote what came back
      code = res.statusText === '' ? 'HTTP_ERROR' : res.statusText.toUpperCase().replace(/\s+/g, '_')
      const excerpt = oneLine(text).slice(0, MAX_QUOTED_BODY)
      message = excerpt === '' ? `${res.url} answered without a body` : excerpt
    }
    if (res.status === 401 && this.connection.apiKey === undefined) message += '; set T2T_API_KEY to an API key of this gateway'
    return new HttpError(res.status, code, message, context, retryAfter(res.headers))
  }
}

/** The request URL of a response, without the query (for messages). */
function url (res: Response): string {
  return res.url.replace(/\?.*$/, '')
}

/** Whether a value looks like a transform job (name and status are what the CLI relies on). */
export function isJob (value: unknown): value is TransformJob {
  return isRecord(value) && typeof value.name === 'string' && typeof value.status === 'string' &&
    (value.progress === undefined || (isRecord(value.progress) && typeof value.progress.processed === 'number' && typeof value.progress.total === 'number'))
}

function isJobList (value: unknown): value is JobList {
  return isRecord(value) && Array.isArray(value.jobs) && value.jobs.every(isJob) &&
    (value.nextToken === undefined || typeof value.nextToken === 'string')
}

function isDatasetCreated (value: unknown): value is DatasetCreated {
  return isRecord(value) && typeof value.s3Uri === 'string' && typeof value.records === 'number' && typeof value.bytes === 'number'
}
