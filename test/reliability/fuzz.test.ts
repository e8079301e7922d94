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

t.test('fuzz: hostile bodies never produce a 5xx or a crash', async t => {
  const { app } = await localApp(t)
  const routes = ['/v1/summarize', '/v1/generate', '/v1/evaluate']
  const seen: Record<string, number> = {}
  await fc.assert(fc.asyncProperty(fc.constantFrom(...routes), raw, contentType, async (url, payload, type) => {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
    seen[res.statusCode] = (seen[res.statusCode] ?? 0) + 1
    if (res.statusCode >= 500) throw new Error(`${url} answered ${res.statusCode} to ${type} ${payload.slice(0, 200)}: ${res.body}`)
    if (res.statusCode >= 400) {
      const err = res.json()
      if (typeof err.code !== 'string' || typeof err.message !== 'string') throw new Error(`bad error shape ${res.body}`)
    }
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 600) })
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'still serving')
  t.comment(`fuzz statuses: ${JSON.stringify(seen)}`)
})
