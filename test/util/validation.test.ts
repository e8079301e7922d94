// Messages for a body that fails a union of object shapes (ajv anyOf): when the object's keys fit
// exactly one branch, only that branch's errors are named (the field to fix), not every other
// shape's missing keys; otherwise every branch's, as before.
import t from 'tap'
import { Type } from 'typebox'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { describeValidation, validatorCompiler } from '../../src/util/validation.js'

const Body = Type.Object({
  model: Type.Union([
    Type.Object({ name: Type.String() }, { additionalProperties: false }),
    Type.Object({ image: Type.String(), role: Type.String() }, { additionalProperties: false }),
    Type.Object({ jumpstart: Type.Object({ modelId: Type.String(), version: Type.String({ pattern: '^\\*$' }) }, { additionalProperties: false }), role: Type.String() }, { additionalProperties: false })
  ]),
  text: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]))
}, { additionalProperties: false })

const validate = validatorCompiler({ schema: Body, method: 'POST', url: '/x', httpPart: 'body' }) as ValidateFunction
const message = (body: unknown): string => {
  t.notOk(validate(body), 'invalid')
  return describeValidation(validate.errors as ErrorObject[], 'body', body).message
}

t.test('keys that fit one shape: that shape\'s errors only', async t => {
  t.equal(message({ model: { jumpstart: { modelId: 'm', version: 'latest' }, role: 'r' } }), 'body.model.jumpstart.version must match ^\\*$ (got "latest")')
  t.equal(message({ model: { jumpstart: { modelId: 'm', version: '*' } } }), 'body.model.role is required')
  t.equal(message({ model: { image: 'i' } }), 'body.model.role is required', 'the container shape, not "name is required"')
})

t.test('keys that fit no shape, or several: every shape\'s errors, as before', async t => {
  t.match(message({ model: { other: 1 } }), /body\.model\.name is required; body\.model has unknown key "other"/)
  t.match(message({ model: {} }), /body\.model\.name is required.*body\.model\.image is required/, 'no key at all fits all three shapes')
  t.equal(message({ model: { name: 'n' }, text: 3 }), 'body.text must be string or array (got 3)', 'a union of types is unchanged')
})
