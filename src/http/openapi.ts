/**
 * The OpenAPI 3.1 document (served at /docs/json, generated from the routes' TypeBox schemas)
 * and the Swagger UI at /docs, which works offline under a same-origin CSP.
 */
import type { FastifyInstance, FastifySchema } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { RequestIdHeaderDoc } from './request-id.js'

/** `schema` with X-Request-Id among the headers of each of its responses (documentation only: a copy). */
function withRequestIdHeaders (schema: FastifySchema): FastifySchema {
  const responses = schema.response as Record<string, { headers?: Record<string, unknown>, content?: unknown }> | undefined
  if (responses === undefined) return schema
  const response = Object.fromEntries(Object.entries(responses).map(([status, doc]) =>
    [status, { ...doc, headers: { ...doc.headers, 'X-Request-Id': RequestIdHeaderDoc } }]))
  return { ...schema, response }
}

/** Registers the document and the UI; call before the routes, so every route is in it. */
export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, which TypeBox emits (numeric exclusiveMinimum,
      // `type: 'null'`, `examples` arrays); 3.0 would need every such schema rewritten
      openapi: '3.1.0',
      info: {
        title: 'text2text-gateway',
        version: '0.1.0',
        description: 'REST gateway in front of Amazon SageMaker JumpStart text2text (FLAN-T5) models: micro-batched real time, batch transform jobs and ROUGE evaluation.\n\n' +
          'Errors share one shape, `{"statusCode","code","error","message"}` (ErrorResponse); branch on `code`, which is stable. ' +
          '429 and most 503s carry Retry-After (seconds). /v1 operations need `Authorization: Bearer <key>` when the gateway runs with API_KEYS; probes, metrics and these docs never do.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
      },
      // relative: the document describes whichever host serves it
      servers: [{ url: '/', description: 'This gateway' }],
      tags: [
        { name: 'real-time', description: 'Micro-batched real-time inference' },
        { name: 'openai', description: 'OpenAI-compatible routes (the openai client libraries work against /v1): completions, chat, models, files and batches (on Batch Transform); OpenAI\'s objects and error shape' },
        { name: 'datasets', description: 'NDJSON datasets streamed to S3 for transform jobs' },
        { name: 'transform-jobs', description: 'SageMaker Batch Transform jobs: submit, poll, list, stop, results, evaluation' },
        { name: 'evaluation', description: "ROUGE identical to Google's rouge-score" },
        { name: 'endpoints', description: 'Real-time endpoints as a resource: deploy, list, scale, tear down (admins manage; everyone uses)' },
        { name: 'usage', description: 'Instance time and ESTIMATED cost of jobs and endpoints' },
        { name: 'operations', description: 'Probes and metrics; no API key needed' }
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS, as `Authorization: Bearer <key>` (only enforced when API_KEYS is set).' }
        }
      }
    },
    // names of shared schemas are their $id (ErrorResponse, TransformJob, ...): readable
    // component names for generated clients; addSchema requires an $id, so def-N never shows
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` },
    // a query key with a default may be left out (validation fills the default in): documented
    // as optional, or generated clients would insist on it (GET /v1/transform-jobs?limit=)
    // and every response documents x-request-id (request-id.ts sends it on all of them)
    transform: ({ schema, url }) => {
      if (schema === undefined) return { schema, url }
      const documented = withRequestIdHeaders(schema)
      const query = documented.querystring as { properties?: Record<string, { default?: unknown }>, required?: string[] } | undefined
      if (query?.required === undefined) return { schema: documented, url }
      const required = query.required.filter(key => query.properties?.[key]?.default === undefined)
      return { schema: { ...documented, querystring: { ...query, required } }, url }
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // every asset is bundled and served from /docs/static: the page works offline
    staticCSP: true,
    // The stock policy sends upgrade-insecure-requests, which on plain HTTP under any host name
    // but loopback (http://gateway:3000/docs in a container network) rewrites every asset URL to
    // https:// and leaves a blank page; it also allows remote fonts and styles (https:) and
    // validator.swagger.io, none of which the page uses. Only same-origin sources remain, plus
    // the hash of the one inline <style> Swagger UI renders (inside its topbar logo SVG).
    transformStaticCSP: (header) => header
      .split(';')
      .map(directive => directive.trim())
      .filter(directive => directive !== '' && directive !== 'upgrade-insecure-requests')
      .map(directive => {
        const [name = '', ...sources] = directive.split(/\s+/)
        const kept = sources.filter(source => source !== 'https:' && source !== 'validator.swagger.io')
        if (name === 'style-src') kept.push("'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='")
        return [name, ...kept].join(' ')
      })
      .join('; ') + ';',
    uiConfig: { deepLinking: true, displayOperationId: true, displayRequestDuration: true }
  })
}
