// Deeply nested JSON: refused with a 400 naming the limit before anything parses or walks it,
// on every route that takes a JSON body (read from the served OpenAPI document) and on each
// dataset line.
import t from 'tap'
import { MAX_JSON_DEPTH } from '../../schemas/json-bounds.js'
import { localApp } from '../helpers/local-app.js'

const deepArray = (depth: number): string => '['.repeat(depth) + '1' + ']'.repeat(depth)
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

t.test('a body nested 8,000 deep is a 400 INVALID_JSON on every JSON route', async t => {
  const { app } = await localApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>> }>()
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops)
    .filter(([, op]) => op.requestBody?.content?.['application/json'] !== undefined)
    .map(([method, op]) => ({ method: method.toUpperCase() as 'POST', url: path.replace(/\{[^}]+\}/g, 'some-job') })))
  t.ok(routes.length >= 5, `JSON routes: ${routes.map(r => r.url).join(', ')}`)
  const bodies = {
    'an array': deepArray(8000),
    'an object': deepObject(8000),
    'a field': `{"parameters": ${deepObject(8000)}, "text": "x"}`,
    'inside a string-looking value': `{"text": "[[[[", "references": ${deepArray(8000)}}`
  }
  for (const route of routes) {
    for (const [what, payload] of Object.entries(bodies)) {
      const res = await app.inject({ ...route, headers: { 'content-type': 'application/json' }, payload })
      const label = `${route.method} ${route.url}: ${what}`
      t.equal(res.statusCode, 400, label)
      // the OpenAI-compatible routes answer in OpenAI's error shape, with the same code and message
      const body = res.json<{ code?: string, message?: string, error?: string | { code: string, message: string } }>()
      const error = typeof body.error === 'object' ? { code: body.error.code.toUpperCase(), message: body.error.message } : { code: body.code, message: body.message }
      t.equal(error.code, 'INVALID_JSON', label)
      t.equal(error.message, `body nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays); flatten it`, label)
    }
  }
})

t.test('nesting up to the limit is parsed and validated as usual', async t => {
  const { app } = await localApp(t)
  const res = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: `{"text": ${deepArray(MAX_JSON_DEPTH - 1)}}` })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'INVALID_REQUEST')
  t.match(res.json().message, /^body\.text must be string \(got \[\[\[\[/)
  const strings = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: '['.repeat(10_000) + ' brackets in a string do not nest.' }) })
  t.equal(strings.statusCode, 200, 'brackets inside strings are not nesting')
})

t.test('a dataset line nested 100,000 deep is a 400 DATASET_INVALID naming the line', async t => {
  const { app } = await localApp(t)
  const body = ['{"id": 1, "text": "Fine."}', `{"id": 2, "text": "x", "parameters": ${deepObject(100_000)}}`, deepArray(100_000), '{"id": 3, "text": "Fine too."}'].join('\n')
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: body })
  t.equal(res.statusCode, 400, res.body.slice(0, 300))
  t.equal(res.json().code, 'DATASET_INVALID')
  t.same(res.json().errors, [
    { line: 2, message: `line nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays)` },
    { line: 3, message: `line nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays)` }
  ])
})
