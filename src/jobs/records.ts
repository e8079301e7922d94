/**
 * Records in the two shapes users send and the one shape the transform job reads:
 * `{"id","text","parameters"?}` or JumpStart `{"id","text_inputs",...params}` in, JumpStart
 * JSON Lines out (`{"id","text_inputs",...params}`, the prompt already prepended).
 */
import type { ValidateFunction } from 'ajv'
import { Type } from 'typebox'
import { RecordId } from '../../schemas/datasets.js'
import { crossCheckParameters, GENERATION_PARAMETER_NAMES, GenerationParameterProperties, GenerationParameters } from '../../schemas/params.js'
import { describeValidation, validatorCompiler } from '../util/validation.js'
import type { Params } from '../batching/payload.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'
import { show } from '../util/json-bounds.js'

/** A record ready for the job: its id and the JumpStart line (no newline). */
export interface JumpStartLine {
  id: string | number
  line: string
}

const TextLine = Type.Object({
  id: RecordId,
  text: Type.String({ minLength: 1 }),
  parameters: Type.Optional(GenerationParameters)
}, { additionalProperties: false })

const JumpStartLineSchema = Type.Object({
  id: RecordId,
  text_inputs: Type.String({ minLength: 1 }),
  ...GenerationParameterProperties
}, { additionalProperties: false })

const ReferenceLine = Type.Object({
  id: RecordId,
  text: Type.Optional(Type.String()),
  text_inputs: Type.Optional(Type.String())
})

/** Compiles a schema with the app's strict body validator (no coercion, no key stripping). */
function compile (schema: object): ValidateFunction {
  return validatorCompiler({ schema, method: 'POST', url: '', httpPart: 'body' }) as ValidateFunction
}
const checkText = compile(TextLine)
const checkJumpStart = compile(JumpStartLineSchema)
const checkReference = compile(ReferenceLine)

/** One line's verdict: its JumpStart form, or a message naming the field and value. */
export type LineVerdict = { ok: true, record: JumpStartLine } | { ok: false, message: string }

/** One dataset line read in either shape: its id, its text (the prompt prepended to `text`) and its own parameters. */
export type RecordVerdict = { ok: true, id: string | number, text: string, params: Record<string, unknown> } | { ok: false, message: string }

/**
 * Checks one parsed dataset line in either shape. `context` prefixes field names in messages
 * (`line` -> `line.parameters.num_beams`). `prompt` is prepended to `text` (JumpStart lines are
 * model-ready and taken as written).
 */
export function readDatasetRecord (value: unknown, prompt: string, context = 'line'): RecordVerdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `${context} must be a JSON object (got ${show(value)})` }
  }
  const obj = value as Record<string, unknown>
  if ('text' in obj && 'text_inputs' in obj) return { ok: false, message: `${context} has both text and text_inputs; send one` }
  const jumpStart = 'text_inputs' in obj
  const check = jumpStart ? checkJumpStart : checkText
  if (!check(obj)) {
    return { ok: false, message: describeValidation(check.errors ?? [], context, obj).message }
  }
  const id = obj.id as string | number
  if (jumpStart) {
    const params: Record<string, unknown> = {}
    for (const name of GENERATION_PARAMETER_NAMES) if (obj[name] !== undefined) params[name] = obj[name]
    const cross = crossCheckParameters(params, context)
    if (cross !== undefined) return { ok: false, message: cross }
    return { ok: true, id, text: obj.text_inputs as string, params }
  }
  const params = (obj.parameters ?? {}) as GenerationParameters
  const cross = crossCheckParameters(params, `${context}.parameters`)
  if (cross !== undefined) return { ok: false, message: cross }
  return { ok: true, id, text: prompt + (obj.text as string), params }
}

/** Checks one parsed dataset line and converts it to JumpStart form (see readDatasetRecord). */
export function toJumpStartRecord (value: unknown, prompt: string, context = 'line'): LineVerdict {
  const read = readDatasetRecord(value, prompt, context)
  if (!read.ok) return read
  return { ok: true, record: { id: read.id, line: jumpStartLine(read.id, read.text, read.params) } }
}

/** The JumpStart JSON line for one record: id first, then text_inputs, then its parameters. */
export function jumpStartLine (id: string | number, textInputs: string, params: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, text_inputs: textInputs, ...params })
}

/**
 * The JSON line of one record for a single-input contract (TGI, LMI): the id, then the request
 * body the contract builds (`{"inputs", "parameters"}`), so DataProcessing's InputFilter can
 * hand the container exactly that body and JoinSource can give the id back.
 */
export function contractLine (contract: Pick<ContainerContract, 'buildPayload'>, id: string | number, text: string, params: Params): string {
  const body = contract.buildPayload([text], params)
  // a payload is a JSON object with at least `inputs`: its members follow the id's
  return `{"id":${JSON.stringify(id)},${body.slice(1)}`
}

/** True when a valid dataset line (either shape) carries parameters of its own. */
export function hasOwnParameters (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const obj = value as Record<string, unknown>
  const nested = obj.parameters
  if (typeof nested === 'object' && nested !== null && Object.keys(nested).length > 0) return true
  return GENERATION_PARAMETER_NAMES.some(name => obj[name] !== undefined)
}

/** Tracks ids seen (as strings: 7 and "7" collide); the only state that grows with a dataset. */
export class IdSet {
  private readonly seen = new Map<string, number>()

  /** Records `id` at `position`; returns where it was first seen when it is a duplicate. */
  add (id: string | number, position: number): number | undefined {
    const key = String(id)
    const first = this.seen.get(key)
    if (first !== undefined) return first
    this.seen.set(key, position)
    return undefined
  }

  get size (): number {
    return this.seen.size
  }
}

/** A reference read back from S3: `text`, else `text_inputs` (datasets store JumpStart form). */
export function toReference (value: unknown): { id: string | number, text: string } | undefined {
  if (!checkReference(value)) return undefined
  const obj = value as { id: string | number, text?: string, text_inputs?: string }
  const text = obj.text ?? obj.text_inputs
  return text === undefined ? undefined : { id: obj.id, text }
}
