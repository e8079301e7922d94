import type { TSchema } from 'typebox'

/**
 * Documentation-only building blocks of route `response` entries. A response written as
 * `{ description, headers, content: { [mediaType]: { schema, examples } } }` is what
 * @fastify/swagger turns into an OpenAPI Response Object verbatim (description, headers and
 * named examples included), while Fastify compiles only `content[mediaType].schema` for
 * serialisation — so the wire format is exactly that of a bare schema.
 */

/** An OpenAPI response header, written as the schema of its value plus what it means. */
export interface HeaderDoc {
  description: string
  type: 'integer' | 'string'
  minimum?: number
  examples?: unknown[]
}

/** A named example of an OpenAPI Media Type Object. */
export interface ExampleDoc {
  summary: string
  value: unknown
}

/** One media type of a response: the serialisation schema and its named examples. */
export interface MediaDoc<S extends TSchema = TSchema> {
  schema: S
  example?: unknown
  examples?: Record<string, ExampleDoc>
}

/** A route `response` entry that documents itself (see the module comment). */
export interface ResponseDoc<S extends TSchema = TSchema> {
  description: string
  headers?: Record<string, HeaderDoc>
  content: Record<string, MediaDoc<S>>
}

/** Seconds before a retry may succeed; sent with 429 and most 503s. */
export const RetryAfterHeader: HeaderDoc = { description: 'Seconds to wait before retrying (delta-seconds).', type: 'integer', minimum: 1, examples: [1] }

/** A JSON response with a description, optional headers and named examples. */
export function jsonResponse<S extends TSchema> (description: string, schema: S, opts: { headers?: Record<string, HeaderDoc>, examples?: Record<string, ExampleDoc> } = {}): ResponseDoc<S> {
  return mediaResponse('application/json', description, schema, opts)
}

/** A response of one media type (NDJSON, text) with a description, headers and examples. */
export function mediaResponse<S extends TSchema> (mediaType: string, description: string, schema: S, opts: { headers?: Record<string, HeaderDoc>, examples?: Record<string, ExampleDoc> } = {}): ResponseDoc<S> {
  // without named examples, the schema's first example is the media example (Swagger UI shows it)
  const own = (schema as { examples?: unknown }).examples
  const media: MediaDoc<S> = opts.examples !== undefined
    ? { schema, examples: opts.examples }
    : Array.isArray(own) && own.length > 0 ? { schema, example: own[0] } : { schema }
  return {
    description,
    ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
    content: { [mediaType]: media }
  }
}

/** The security requirement of /v1 operations: `Authorization: Bearer <key>` when API_KEYS is set. */
export const BEARER_AUTH: Array<Record<string, string[]>> = [{ bearer: [] }]
/** Probes, metrics and docs are open to everyone, so orchestrators can reach them. */
export const NO_AUTH: Array<Record<string, string[]>> = []
