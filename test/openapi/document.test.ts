import t, { type Test } from 'tap'
import { catalogError, Errors, type ErrorCode } from '../../src/errors.js'
import { openAiErrorBody } from '../../schemas/errors.js'
import { localApp } from '../helpers/local-app.js'

interface Media { schema?: Schema, example?: unknown, examples?: Record<string, { summary?: string, value: unknown }> }
interface Schema { $ref?: string, examples?: unknown[], [key: string]: unknown }
interface Response { description: string, headers?: Record<string, { description?: string, schema?: Schema }>, content?: Record<string, Media> }
interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  security?: Array<Record<string, string[]>>
  parameters?: Array<{ in: string, name: string, required?: boolean, description?: string }>
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, Response>
}
interface Document {
  openapi: string
  tags: Array<{ name: string, description?: string }>
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema>, securitySchemes: Record<string, { type: string, scheme?: string }> }
}

/**
 * The operations of /work/shared/API.md with their stable operationIds (generated clients name
 * their methods after them) and every status each can answer with. Changing a row changes
 * the contract.
 */
const OPERATIONS: Array<[method: string, path: string, operationId: string, statuses: number[]]> = [
  ['get', '/health', 'health', [200]],
  ['get', '/ready', 'ready', [200, 503]],
  ['get', '/metrics', 'metrics', [200]],
  ['post', '/v1/summarize', 'summarize', [200, 400, 401, 408, 413, 415, 429, 500, 502, 503, 504]],
  ['post', '/v1/generate', 'generate', [200, 400, 401, 408, 413, 415, 429, 500, 502, 503, 504]],
  ['post', '/v1/evaluate', 'evaluate', [200, 400, 401, 408, 413, 415, 429, 500, 503]],
  ['post', '/v1/datasets', 'createDataset', [201, 400, 401, 408, 415, 429, 500, 502, 503]],
  ['post', '/v1/transform-jobs', 'createTransformJob', [202, 400, 401, 403, 408, 409, 413, 415, 429, 500, 502, 503]],
  ['get', '/v1/transform-jobs', 'listTransformJobs', [200, 400, 401, 429, 500, 502, 503]],
  ['get', '/v1/transform-jobs/{name}', 'getTransformJob', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['post', '/v1/transform-jobs/{name}/stop', 'stopTransformJob', [202, 400, 401, 404, 409, 415, 429, 500, 502, 503]],
  ['get', '/v1/transform-jobs/{name}/results', 'getTransformJobResults', [200, 400, 401, 404, 409, 429, 500, 502, 503]],
  ['post', '/v1/transform-jobs/{name}/evaluation', 'evaluateTransformJob', [200, 400, 401, 404, 408, 409, 413, 415, 429, 500, 502, 503]],
  ['post', '/v1/endpoints', 'deployEndpoint', [202, 400, 401, 403, 408, 409, 413, 415, 429, 500, 502, 503]],
  ['get', '/v1/endpoints', 'listEndpoints', [200, 401, 429, 500, 502, 503]],
  ['get', '/v1/endpoints/{name}', 'getEndpoint', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['post', '/v1/endpoints/{name}/scale', 'scaleEndpoint', [202, 400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 502, 503]],
  ['delete', '/v1/endpoints/{name}', 'deleteEndpoint', [202, 400, 401, 403, 404, 409, 429, 500, 502, 503]],
  ['get', '/v1/usage', 'getUsage', [200, 400, 401, 429, 500, 502, 503]],
  ['post', '/v1/files', 'createFile', [200, 400, 401, 408, 413, 415, 429, 500, 502, 503]],
  ['get', '/v1/files', 'listFiles', [200, 400, 401, 429, 500, 502, 503]],
  ['get', '/v1/files/{file_id}', 'retrieveFile', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['get', '/v1/files/{file_id}/content', 'downloadFile', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['delete', '/v1/files/{file_id}', 'deleteFile', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['post', '/v1/batches', 'createBatch', [200, 400, 401, 404, 408, 409, 413, 415, 429, 500, 502, 503]],
  ['get', '/v1/batches', 'listBatches', [200, 400, 401, 429, 500, 502, 503]],
  ['get', '/v1/batches/{batch_id}', 'retrieveBatch', [200, 400, 401, 404, 429, 500, 502, 503]],
  ['post', '/v1/batches/{batch_id}/cancel', 'cancelBatch', [200, 400, 401, 404, 409, 415, 429, 500, 502, 503]],
  ['post', '/v1/completions', 'openAiCreateCompletion', [200, 400, 401, 404, 408, 413, 415, 429, 500, 502, 503, 504]],
  ['post', '/v1/chat/completions', 'openAiCreateChatCompletion', [200, 400, 401, 404, 408, 413, 415, 429, 500, 502, 503, 504]],
  ['get', '/v1/models', 'openAiListModels', [200, 401, 429, 500, 503]],
  ['get', '/v1/models/{model}', 'openAiRetrieveModel', [200, 400, 401, 404, 429, 500, 503]]
]

async function served (t: Test, overrides: Record<string, string> = {}): Promise<{ doc: Document, app: Awaited<ReturnType<typeof localApp>>['app'] }> {
  const { app } = await localApp(t, overrides)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200, 'GET /docs/json')
  return { doc: res.json<Document>(), app }
}

function operations (doc: Document): Array<[string, string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]): [string, string, Operation] => [method, path, op]))
}

const hasExample = (media: Media | undefined): boolean =>
  media !== undefined && (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0 || (media.schema?.examples?.length ?? 0) > 0)

t.test('the operations, their operationIds and statuses are those of the contract', async t => {
  const { doc } = await served(t)
  t.equal(doc.openapi, '3.1.0')
  const seen = operations(doc).map(([method, path, op]) => `${method} ${path} ${op.operationId ?? '(none)'}`).sort()
  t.same(seen, OPERATIONS.map(([method, path, id]) => `${method} ${path} ${id}`).sort(), 'exactly the operations of API.md')
  for (const [method, path, id, statuses] of OPERATIONS) {
    const op = doc.paths[path]?.[method]
    if (op === undefined) continue
    t.same(Object.keys(op.responses).map(Number).sort((a, b) => a - b), statuses, `${id}: documented statuses`)
  }
})

t.test('every operation is described for humans and generators', async t => {
  const { doc } = await served(t)
  const tags = new Set(doc.tags.map(tag => tag.name))
  for (const tag of doc.tags) t.ok((tag.description ?? '') !== '', `tag ${tag.name} has a description`)
  for (const [method, path, op] of operations(doc)) {
    const label = `${method.toUpperCase()} ${path}`
    t.match(op.operationId, /^[a-z][A-Za-z]+$/, `${label}: camelCase operationId`)
    t.ok((op.tags ?? []).length > 0 && (op.tags ?? []).every(tag => tags.has(tag)), `${label}: tags declared at the root`)
    t.ok((op.summary ?? '').length > 0, `${label}: summary`)
    t.ok((op.description ?? '').length > 20, `${label}: description`)
    for (const param of op.parameters ?? []) t.ok((param.description ?? '') !== '', `${label}: parameter ${param.name} is described`)
    if (op.requestBody !== undefined) {
      for (const [type, media] of Object.entries(op.requestBody.content)) t.ok(hasExample(media), `${label}: ${type} request example`)
    }
    for (const [status, response] of Object.entries(op.responses)) {
      t.not(response.description, 'Default Response', `${label} ${status}: a meaningful description`)
      for (const [type, media] of Object.entries(response.content ?? {})) t.ok(hasExample(media), `${label} ${status}: ${type} example`)
    }
  }
})

t.test('errors share ErrorResponse, and name their codes and headers', async t => {
  const { doc } = await served(t)
  for (const [method, path, op] of operations(doc)) {
    for (const [status, response] of Object.entries(op.responses)) {
      const code = Number(status)
      if (code < 400) continue
      const label = `${method.toUpperCase()} ${path} ${status}`
      t.same(Object.keys(response.content ?? {}), ['application/json'], `${label}: JSON, whatever the success media type`)
      const media = response.content?.['application/json']
      if (path === '/ready') continue // the probe answers 503 with its own body
      const ref = media?.schema?.$ref
      // the OpenAI-compatible routes (tag openai) answer in OpenAI's shape, every other in the gateway's
      const openAi = (op.tags ?? []).includes('openai')
      let expected: string | undefined = openAi ? '#/components/schemas/OpenAiErrorResponse' : '#/components/schemas/ErrorResponse'
      if (path === '/v1/datasets' && code === 400) expected = undefined
      if (expected !== undefined) t.equal(ref, expected, `${label}: the shared ${openAi ? 'OpenAiErrorResponse' : 'ErrorResponse'} schema`)
      t.match(response.description, new RegExp(`^${status} [A-Z_]+`), `${label}: the description names the status and codes`)
      for (const [name, example] of Object.entries(media?.examples ?? {})) {
        t.ok(name in Errors, `${label}: example ${name} is a catalog code`)
        if (name in Errors) t.equal(new Errors[name as ErrorCode]('').statusCode, code, `${label}: ${name} has this status in the catalog`)
        if (openAi) {
          const value = example.value as { error: { code: string, type: string } }
          t.equal(value.error.code, openAiErrorBody(catalogError(name as ErrorCode, '')).error.code, `${label}: example ${name} carries its OpenAI code`)
          t.equal(value.error.type, code === 429 ? 'requests' : code >= 500 ? 'server_error' : 'invalid_request_error', `${label}: example ${name} carries the type of its status`)
        } else {
          const value = example.value as { statusCode: number, code: string }
          t.equal(value.code, name, `${label}: example ${name} carries its code`)
          t.equal(value.statusCode, code, `${label}: example ${name} carries the status`)
        }
        t.ok(response.description.includes(name), `${label}: the description names ${name}`)
      }
      if (code === 429 || code === 503) t.ok(response.headers?.['Retry-After'], `${label}: Retry-After`)
      if (code === 401) t.ok(response.headers?.['WWW-Authenticate'], `${label}: WWW-Authenticate`)
    }
  }
  const retry = doc.paths['/v1/summarize']?.post?.responses['503']
  t.match(retry?.description, /^503 BODIES_BUSY, QUEUE_FULL, ENDPOINT_UNAVAILABLE or SHUTTING_DOWN, with Retry-After\. BODIES_BUSY: .* QUEUE_FULL: /, 'summarize: 503 QUEUE_FULL or ENDPOINT_UNAVAILABLE, with Retry-After')
})

t.test('headers, media types and the security scheme that matter to clients', async t => {
  const { doc } = await served(t)
  const create = doc.paths['/v1/transform-jobs']?.post
  t.ok(create?.responses['202']?.headers?.Location, '202 of createTransformJob documents Location')
  t.ok(create?.responses['202']?.headers?.['Idempotent-Replayed'], '… and Idempotent-Replayed')
  t.match(create?.parameters?.find(p => p.in === 'header'), { name: 'idempotency-key', required: false }, 'Idempotency-Key request header')
  t.same(Object.keys(doc.paths['/v1/datasets']?.post?.requestBody?.content ?? {}),
    ['application/x-ndjson', 'application/jsonlines', 'application/x-jsonlines', 'application/jsonl'], 'dataset uploads are NDJSON (or JSON Lines)')
  t.same(Object.keys(doc.paths['/v1/transform-jobs/{name}/results']?.get?.responses['200']?.content ?? {}), ['application/x-ndjson'], 'results are NDJSON')
  t.same(Object.keys(doc.paths['/metrics']?.get?.responses['200']?.content ?? {}), ['text/plain'], 'metrics are text')
  t.match(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' }, 'the bearer scheme')
  // OpenAI's "Debugging requests": every response carries x-request-id
  const withoutRequestId = operations(doc).flatMap(([method, path, op]) => Object.entries(op.responses)
    .filter(([, response]) => response.headers?.['X-Request-Id']?.schema?.type !== 'string').map(([status]) => `${method.toUpperCase()} ${path} ${status}`))
  t.same(withoutRequestId, [], 'every response documents X-Request-Id')
  for (const [method, path, op] of operations(doc)) {
    const expected = path.startsWith('/v1/') ? [{ bearer: [] }] : []
    t.same(op.security, expected, `${method.toUpperCase()} ${path}: ${path.startsWith('/v1/') ? 'bearer' : 'no'} security`)
  }
})

t.test('the declared security is what the gateway enforces', async t => {
  const { doc, app } = await served(t, { API_KEYS: 'doc-key', AUTH_FAILURES_MAX: '0' }) // more /v1 operations than the default failures per minute
  for (const [method, path, op] of operations(doc)) {
    const res = await app.inject({ method: method.toUpperCase() as 'GET' | 'POST', url: path.replace(/\{[^}]+\}/g, 'no-such-job') })
    const label = `${method.toUpperCase()} ${path} without a key`
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/, `${label}: x-request-id, as documented`)
    if ((op.security ?? []).length > 0) t.equal(res.statusCode, 401, `${label}: 401`)
    else t.not(res.statusCode, 401, `${label}: open`)
  }
})

t.test('component names are readable and every $ref resolves', async t => {
  const { doc } = await served(t)
  const names = Object.keys(doc.components.schemas)
  for (const name of ['ErrorResponse', 'TransformJob', 'GenerationParameters']) t.ok(names.includes(name), `components.schemas.${name}`)
  for (const name of names) t.match(name, /^[A-Z][A-Za-z0-9]+$/, `${name} is a readable name, not def-N`)
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []
  t.ok(refs.length > 0)
  for (const ref of new Set(refs)) {
    const target = /"#\/components\/schemas\/([^"]+)"$/.exec(ref.slice(7))?.[1]
    t.ok(target !== undefined && names.includes(target), `${ref} resolves`)
  }
})
