import t from 'tap'
import fc from 'fast-check'
import { localApp } from '../helpers/local-app.js'

// Property: whatever arrives, the gateway answers with a non-5xx status and the error shape,
// and keeps serving. Bodies mix valid skeletons with hostile values and keys.
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'text', 'text_inputs', 'parameters', 'max_length', 'model', 'predictions', 'references', 'id', 'input', 'records', 's3Uri', 'name')
const leaf = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 20 }))
const value = fc.letrec(tie => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 8 })), tie('v'), { maxKeys: 5 }))
})).v
const body = fc.oneof(
  value,
  fc.record({ text: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record({ text: fc.oneof(fc.string({ maxLength: 200 }), leaf), parameters: fc.oneof(value, fc.record({ max_length: fc.integer({ min: -5, max: 2000 }), num_beams: fc.integer({ min: -1, max: 20 }), num_return_sequences: fc.integer({ min: 0, max: 12 }), top_p: fc.double() }, { requiredKeys: [] })) }, { requiredKeys: [] }),
  fc.record({ text_inputs: fc.oneof(fc.array(fc.string({ maxLength: 50 }), { maxLength: 5 }), fc.string(), leaf), seed: leaf, do_sample: leaf }, { requiredKeys: [] }),
  fc.record({ predictions: fc.array(fc.record({ id: leaf, text: leaf }), { maxLength: 4 }), references: fc.array(fc.record({ id: leaf, text: leaf }), { maxLength: 4 }), rougeTypes: value, bootstrap: value }, { requiredKeys: [] })
)
const raw = fc.oneof(body.map(b => JSON.stringify(b)), fc.string({ maxLength: 100 }), fc.constant('{"text": "a", "__proto__": {"polluted": true}}'), fc.constant(''))
const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  { arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-ndjson', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'), weight: 2 }
)

const jobBody = fc.record({
  name: fc.oneof(fc.string({ maxLength: 50 }), leaf),
  model: leaf,
  input: fc.oneof(value, fc.record({ records: fc.array(fc.record({ id: leaf, text: fc.oneof(fc.string({ maxLength: 40 }), leaf), parameters: value }, { requiredKeys: [] }), { maxLength: 4 }) }), fc.record({ s3Uri: fc.oneof(fc.constant('s3://text2text-local/text2text-gateway/datasets/x.jsonl'), fc.constant('s3://other-bucket/a'), fc.string({ maxLength: 30 }).map(x => `s3://${x}`), leaf) })),
  prompt: leaf,
  parameters: value,
  references: value,
  resources: value
}, { requiredKeys: [] })
const ndjson = fc.array(fc.oneof(body.map(b => JSON.stringify(b)), fc.record({ id: leaf, text: leaf, text_inputs: leaf, parameters: value }, { requiredKeys: [] }).map(r => JSON.stringify(r)), fc.string({ maxLength: 30 })), { maxLength: 6 }).map(lines => lines.join('\n'))
const jobName = fc.oneof(fc.constantFrom('nope', 'fuzz-job', '..', '%2e%2e', 'a'.repeat(70), '__proto__', 'constructor'), fc.string({ maxLength: 20 }).map(encodeURIComponent))

t.test('fuzz: hostile bodies never produce a 5xx or a crash', async t => {
  const { app } = await localApp(t)
  const seen: Record<string, number> = {}
  const request = fc.oneof(
    fc.tuple(fc.constantFrom('/v1/summarize', '/v1/generate', '/v1/evaluate'), raw, contentType).map(([url, payload, type]) => ({ method: 'POST' as const, url, payload, type })),
    fc.tuple(fc.oneof(jobBody.map(b => JSON.stringify(b)), raw), contentType).map(([payload, type]) => ({ method: 'POST' as const, url: '/v1/transform-jobs', payload, type })),
    fc.tuple(ndjson, fc.constantFrom('application/x-ndjson', 'application/jsonlines', 'application/json'), fc.oneof(fc.constant(''), fc.string({ maxLength: 10 }).map(p => `?prompt=${encodeURIComponent(p)}`))).map(([payload, type, q]) => ({ method: 'POST' as const, url: `/v1/datasets${q}`, payload, type })),
    fc.tuple(jobName, fc.constantFrom('', '/results', '/stop', '/evaluation')).map(([name, tail]) => ({ method: (tail === '/stop' || tail === '/evaluation' ? 'POST' : 'GET') as 'GET' | 'POST', url: `/v1/transform-jobs/${name}${tail}`, payload: '{}', type: 'application/json' })),
    fc.tuple(fc.constantFrom('', '?status=Completed', '?limit=0', '?limit=abc', '?nextToken=%00', '?status=Nope&limit=500'), fc.constant('')).map(([q]) => ({ method: 'GET' as const, url: `/v1/transform-jobs${q}`, payload: '', type: 'application/json' }))
  )
  await fc.assert(fc.asyncProperty(request, async ({ method, url, payload, type }) => {
    const res = await app.inject({ method, url, headers: method === 'POST' ? { 'content-type': type } : {}, ...(method === 'POST' ? { payload } : {}) })
    seen[res.statusCode] = (seen[res.statusCode] ?? 0) + 1
    if (res.statusCode >= 500) throw new Error(`${method} ${url} answered ${res.statusCode} to ${type} ${payload.slice(0, 200)}: ${res.body}`)
    if (res.statusCode >= 400) {
      const err = res.json()
      if (typeof err.code !== 'string' || typeof err.message !== 'string') throw new Error(`bad error shape ${res.body}`)
    }
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 800) })
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'still serving')
  t.comment(`fuzz statuses: ${JSON.stringify(seen)}`)
})
