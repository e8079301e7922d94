import t from 'tap'
import { exceedsJsonDepth, preview } from '../../src/util/json-bounds.js'
import { MAX_JSON_DEPTH } from '../../schemas/json-bounds.js'
import { describeValidation } from '../../src/util/validation.js'

t.test('depth counts objects and arrays outside strings', async t => {
  t.equal(MAX_JSON_DEPTH, 64)
  t.notOk(exceedsJsonDepth('[[[1]]]', 3))
  t.ok(exceedsJsonDepth('[[[[1]]]]', 3))
  t.ok(exceedsJsonDepth('{"a":{"b":[{"c":1}]}}', 3))
  t.notOk(exceedsJsonDepth('["[[[[", "\\"[[[["]', 1), 'brackets in strings, escaped quotes included')
  t.notOk(exceedsJsonDepth('["\\\\", [1]]', 2), 'an escaped backslash ends before the quote')
  t.notOk(exceedsJsonDepth('[1] [2] [3] [4]', 1), 'depth, not count')
})

t.test('preview renders like JSON.stringify, cut and without recursion', async t => {
  for (const value of [1, 'a"b', null, true, [1, 'x', null, undefined], { a: 1, b: undefined, c: [{ d: '{' }], e: 'x{' }, {}, [], { a: {} }]) {
    t.equal(preview(value, 1000), JSON.stringify(value))
  }
  t.equal(preview(undefined), 'undefined')
  t.equal(preview('x'.repeat(100), 10), '"xxxxxx...')
  let deep: unknown = 1
  for (let i = 0; i < 200_000; i++) deep = { a: [deep] }
  t.equal(preview(deep, 20), '{"a":[{"a":[{"a":...')
  const { message } = describeValidation([{ keyword: 'type', instancePath: '/text', schemaPath: '', params: { type: 'string' } }], 'body', { text: deep })
  t.equal(message, `body.text must be string (got ${preview(deep, 80)})`, 'validation messages stay bounded')
})
