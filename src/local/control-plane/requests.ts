// Reading AWS JSON 1.1 requests and writing errors in the words AWS uses, for every resource of
// the local control plane:
//   - a wrong JSON type is a SerializationException, as AWS's front end answers;
//   - broken constraints are collected and thrown as one ValidationException, the message as
//     Coral writes it: "1 validation error detected: Value 'x' at 'transformJobName' failed to
//     satisfy constraint: ...";
//   - timestamps are epoch seconds as JSON numbers (ms precision, e.g. 1718000000.123).

import { SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN, SAGEMAKER_NAME_PATTERN_TEXT } from '../../sagemaker/rules.js'
import { AwsServiceError } from '../wire.js'

/** A ValidationException with AWS's lower-case `message` member. */
export function validationError (message: string): AwsServiceError {
  return new AwsServiceError(400, 'ValidationException', { message })
}

export function serializationError (path: string, expected: string): AwsServiceError {
  return new AwsServiceError(400, 'SerializationException', { Message: `Cannot deserialize '${path}': expected ${expected}` })
}

function formatValue (value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'object') return `'${JSON.stringify(value)}'`
  return `'${String(value)}'`
}

/** Collects constraint violations and throws them as one ValidationException, as Coral does. */
export class Violations {
  private readonly items: string[] = []

  add (path: string, value: unknown, constraint: string): void {
    this.items.push(`Value ${formatValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`)
  }

  required (path: string, value: unknown): boolean {
    if (value !== undefined && value !== null) return true
    this.add(path, value, 'Member must not be null')
    return false
  }

  string (path: string, value: string | undefined, rules: { min?: number, max?: number, pattern?: RegExp, patternText?: string, values?: readonly string[] }): void {
    if (value === undefined) return
    if (rules.min !== undefined && value.length < rules.min) this.add(path, value, `Member must have length greater than or equal to ${rules.min}`)
    if (rules.max !== undefined && value.length > rules.max) this.add(path, value, `Member must have length less than or equal to ${rules.max}`)
    if (rules.pattern !== undefined && !rules.pattern.test(value)) {
      this.add(path, value, `Member must satisfy regular expression pattern: ${rules.patternText ?? rules.pattern.source}`)
    }
    if (rules.values !== undefined && !rules.values.includes(value)) {
      this.add(path, value, `Member must satisfy enum value set: [${rules.values.join(', ')}]`)
    }
  }

  number (path: string, value: number | undefined, min?: number, max?: number): void {
    if (value === undefined) return
    if (min !== undefined && value < min) this.add(path, value, `Member must have value greater than or equal to ${min}`)
    if (max !== undefined && value > max) this.add(path, value, `Member must have value less than or equal to ${max}`)
  }

  throwIfAny (): void {
    const n = this.items.length
    if (n === 0) return
    throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.items.join('; ')}`)
  }
}

export type Json = Record<string, unknown>

export function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type StringRules = Parameters<Violations['string']>[2]

/**
 * Reads the members of one request structure. A wrong JSON type is a SerializationException,
 * as AWS's front end answers; a broken constraint is recorded in `v`. Every message names the
 * member by its path, which AWS derives from the member names: the parent's path, a dot, and
 * the member with a lower-case first letter (`transformInput.dataSource.s3DataSource.s3Uri`).
 */
export class Reader {
  constructor (private readonly v: Violations, readonly input: Json, private readonly path = '') {}

  pathOf (member: string): string {
    const name = member.charAt(0).toLowerCase() + member.slice(1)
    return this.path === '' ? name : `${this.path}.${name}`
  }

  #value (member: string, required: boolean): unknown {
    const value = this.input[member]
    if (value !== undefined && value !== null) return value
    if (required) this.v.required(this.pathOf(member), value)
    return undefined
  }

  string (member: string, rules: StringRules = {}, required = false): string | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw serializationError(this.pathOf(member), 'a string')
    this.v.string(this.pathOf(member), value, rules)
    return value
  }

  integer (member: string, bounds: { min?: number, max?: number } = {}, required = false): number | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(this.pathOf(member), 'an integer')
    this.v.number(this.pathOf(member), value, bounds.min, bounds.max)
    return value
  }

  /** A nested structure as raw JSON (stored as given). */
  json (member: string, required = false): Json | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (!isObject(value)) throw serializationError(this.pathOf(member), 'a structure')
    return value
  }

  /** A nested structure to read members from. */
  struct (member: string, required = false): Reader | undefined {
    const value = this.json(member, required)
    return value === undefined ? undefined : new Reader(this.v, value, this.pathOf(member))
  }

  timestamp (member: string): number | undefined {
    const value = this.#value(member, false)
    if (value === undefined) return undefined
    // JSON 1.1 timestamps are epoch seconds; the SDK sends numbers, other clients may send strings.
    const seconds = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
    if (!Number.isFinite(seconds)) throw serializationError(this.pathOf(member), 'a timestamp (epoch seconds)')
    return seconds * 1000
  }
}

/** Drops undefined members so the stored spec and the wire shape hold only what was given. */
export function compact<T extends Json> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** ms since the epoch → JSON 1.1 timestamp (epoch seconds, ms precision). */
export function seconds (ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms) / 1000
}

/** SageMaker's resource name rule (jobs, models, endpoint configs, endpoints): 1..63 characters. */
export const NAME_RULES: StringRules = { min: 1, max: SAGEMAKER_NAME_MAX, pattern: SAGEMAKER_NAME_PATTERN, patternText: SAGEMAKER_NAME_PATTERN_TEXT }

/** Validates a request that carries only one name member (`TransformJobName`, `ModelName`, ...). */
export function parseName (input: Json, member: string): string {
  const v = new Violations()
  const name = new Reader(v, input).string(member, NAME_RULES, true)
  v.throwIfAny()
  return name ?? ''
}
