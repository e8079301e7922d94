/**
 * The request validator (ajv, strict bodies) and the messages that name each offending field and
 * value. A leaf, not part of src/http: the routes validate with it, and so do the services that
 * check uploaded lines one by one (jobs/records.ts, openai/batch-lines.ts), which must not
 * depend on the HTTP layer.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { show } from './json-bounds.js'

// ajv-formats is CJS; under NodeNext its default import is module.exports, which has .default
const addFormats = addFormatsModule.default

/**
 * Bodies are validated strictly: no coercion (a "3" is not a 3) and no silent removal of
 * unknown keys (Fastify's default would strip them, losing what the caller sent).
 * Query strings and path params arrive as text, so they are coerced.
 */
function makeAjv (coerce: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes: coerce, removeAdditional: false, useDefaults: true, allErrors: true, verbose: true, strict: false })
  addFormats(ajv)
  return ajv
}
const bodyAjv = makeAjv(false)
const textAjv = makeAjv(true)

/** Fastify validator compiler: strict bodies, coerced querystring/params/headers. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv
  return ajv.compile(schema as object) as ValidateFunction
}

/** Reads the value at an ajv instancePath (JSON pointer) inside data. */
function valueAt (data: unknown, pointer: string): unknown {
  let cur: unknown = data
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** `/parameters/num_beams` -> `body.parameters.num_beams`, `/text_inputs/2` -> `body.text_inputs[2]`. */
export function fieldName (context: string, pointer: string): string {
  let out = context
  for (const raw of pointer.split('/').slice(1)) {
    out += /^\d+$/.test(raw) ? `[${raw}]` : `.${raw}`
  }
  return out
}

// bounded and iterative: a value nested thousands deep must not overflow in the error handler

function describe (err: ErrorObject, context: string, data: unknown): string {
  const field = fieldName(context, err.instancePath)
  const value = valueAt(data, err.instancePath)
  const p = err.params as Record<string, unknown>
  // a bound on the object's keys (propertyNames): the error is the object's, the key is named apart
  if (err.propertyName !== undefined) {
    const key = err.propertyName
    if (err.keyword === 'maxLength') return `${field} has a key of ${key.length} characters (${show(key)}); keys have at most ${String(p.limit)}`
    return `${field} has key ${show(key)} that ${err.message ?? 'is invalid'}`
  }
  switch (err.keyword) {
    case 'additionalProperties': {
      const parent = (err.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}
      return `${field} has unknown key ${show(p.additionalProperty)}; allowed keys: ${Object.keys(parent).join(', ')}`
    }
    case 'required': return `${fieldName(context, `${err.instancePath}/${String(p.missingProperty)}`)} is required`
    case 'minLength': return p.limit === 1 ? `${field} must not be empty` : `${field} must have at least ${String(p.limit)} characters (got ${String((value as string).length)})`
    case 'maxLength': return `${field} must have at most ${String(p.limit)} characters (got ${String((value as string).length)})`
    case 'minItems': return `${field} must have at least ${String(p.limit)} item(s) (got ${String((value as unknown[]).length)})`
    case 'maxProperties': return `${field} must have at most ${String(p.limit)} keys (got ${String(Object.keys(value as object).length)})`
    case 'maxItems': return `${field} must have at most ${String(p.limit)} items (got ${String((value as unknown[]).length)})`
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `${field} must be ${String(p.comparison)} ${String(p.limit)} (got ${show(value)})`
    case 'type': return `${field} must be ${String(p.type)} (got ${show(value)})`
    case 'enum': return `${field} must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')} (got ${show(value)})`
    case 'pattern': return `${field} must match ${String(p.pattern)} (got ${show(value)})`
    case 'const': return `${field} must be ${show(p.allowedValue)} (got ${show(value)})`
    default: return `${field} ${err.message ?? 'is invalid'} (got ${show(value)})`
  }
}

/**
 * The field at fault in a failed validation, as a path inside the validated part
 * (`messages[0].role`, `max_tokens`): a missing or unknown key names the key itself.
 * Undefined when the whole part is at fault.
 */
export function faultyField (errors: ErrorObject[]): string | undefined {
  const err = errors.find(e => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? errors[0]
  if (err === undefined) return undefined
  const p = err.params as Record<string, unknown>
  const key = err.keyword === 'required' ? p.missingProperty : err.keyword === 'additionalProperties' ? p.additionalProperty : undefined
  const pointer = typeof key === 'string' ? `${err.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : err.instancePath
  return pointer === '' ? undefined : fieldName('', pointer).replace(/^\./, '')
}

/**
 * `errors` without those of the union branches an object plainly was not meant for: when exactly
 * one branch of an anyOf has no unknown key at the union's value (e.g. a `model` with `jumpstart`
 * and `role` is the JumpStart branch, not the container or the existing-model one), only that
 * branch's errors name what to fix; otherwise every branch's are kept.
 */
function withoutOtherBranches (errors: ErrorObject[]): ErrorObject[] {
  let out = errors
  for (const union of errors.filter(e => e.keyword === 'anyOf')) {
    const prefix = `${union.schemaPath}/`
    const branchOf = (e: ErrorObject): number | undefined => e.schemaPath.startsWith(prefix) ? Number(e.schemaPath.slice(prefix.length).split('/')[0]) : undefined
    const unknownKeys = new Map<number, number>()
    for (const e of out) {
      const b = branchOf(e)
      if (b === undefined) continue
      const unknown = e.keyword === 'additionalProperties' && e.instancePath === union.instancePath ? 1 : 0
      unknownKeys.set(b, (unknownKeys.get(b) ?? 0) + unknown)
    }
    const fitting = [...unknownKeys].filter(([, n]) => n === 0).map(([b]) => b)
    if (fitting.length !== 1 || unknownKeys.size < 2) continue
    out = out.filter(e => { const b = branchOf(e); return b === undefined || b === fitting[0] })
  }
  return out
}

/**
 * One message for a failed validation, naming each offending field and value. Union
 * (anyOf) failures collapse to "must be string or array" unless a branch matched the
 * value's type and failed on something more specific (e.g. an empty array); an object that
 * fits one branch's keys gets that branch's messages only.
 */
export function describeValidation (all: ErrorObject[], context: string, data: unknown): { message: string, paths: string[] } {
  const errors = withoutOtherBranches(all)
  const unionPaths = new Set(errors.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf').map(e => e.instancePath))
  const messages: string[] = []
  const paths: string[] = []
  const seen = new Set<string>()
  for (const path of unionPaths) {
    const specific = errors.filter(e => e.instancePath.startsWith(path) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf' &&
      !(e.instancePath === path && e.keyword === 'type'))
    if (specific.length === 0) {
      const types = errors.filter(e => e.instancePath === path && e.keyword === 'type').map(e => String(e.params.type))
      messages.push(`${fieldName(context, path)} must be ${types.join(' or ')} (got ${show(valueAt(data, path))})`)
      paths.push(path)
    }
  }
  for (const err of errors) {
    // the key's own error (carrying propertyName) says it better
    if (err.keyword === 'anyOf' || err.keyword === 'oneOf' || err.keyword === 'propertyNames') continue
    if (unionPaths.has(err.instancePath) && err.keyword === 'type') continue
    const message = describe(err, context, data)
    if (seen.has(message)) continue
    seen.add(message)
    messages.push(message)
    paths.push(err.instancePath)
  }
  return { message: messages.slice(0, 5).join('; '), paths }
}
