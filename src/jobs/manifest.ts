/**
 * A job's manifest: the gateway-side facts SageMaker does not keep (prompt, parameters as the
 * caller sent them, references, record count, idempotency key, request fingerprint). It is
 * written next to the job's input before CreateTransformJob and never changed afterwards, so
 * any replica (or a restarted gateway) answers for any job from DescribeTransformJob + this.
 */
import { createHash } from 'node:crypto'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { GenerationParameters } from '../../schemas/params.js'

/** Bumped when the manifest's shape changes incompatibly; readers reject other versions. */
export const MANIFEST_VERSION = 1

export const Manifest = Type.Object({
  version: Type.Literal(MANIFEST_VERSION),
  name: Type.String(),
  model: Type.String(),
  /** The tenant that submitted the job; absent in manifests from before tenants (the default tenant's). */
  owner: Type.Optional(Type.String()),
  /** ISO time the gateway accepted the submission. */
  createdAt: Type.String(),
  idempotencyKey: Type.Optional(Type.String()),
  /** sha256 of the canonical request body: a repeat must match it. */
  requestHash: Type.String(),
  prompt: Type.Optional(Type.String()),
  parameters: GenerationParameters,
  /** The job's `truncate` (TGI), when asked. */
  truncate: Type.Optional(Type.Integer({ minimum: 1 })),
  input: Type.Object({
    s3Uri: Type.String(),
    /** 'records' when the gateway wrote the input from the body. */
    source: Type.Enum(['records', 's3Uri']),
    recordCount: Type.Optional(Type.Integer({ minimum: 0 }))
  }),
  references: Type.Optional(Type.Object({ s3Uri: Type.String(), source: Type.Enum(['records', 's3Uri']) })),
  output: Type.Object({ s3Uri: Type.String() })
})
export type Manifest = Static<typeof Manifest>

/** The manifest as stored: pretty JSON (humans read these in the console). */
export function encodeManifest (manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n'
}

/** Parses and checks a stored manifest; throws naming the first problem. */
export function decodeManifest (text: string): Manifest {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Error(`manifest is not JSON: ${(err as Error).message}`)
  }
  if (!Value.Check(Manifest, value)) {
    const first = [...Value.Errors(Manifest, value)][0]
    throw new Error(`manifest does not match version ${MANIFEST_VERSION}: ${first === undefined ? 'invalid' : `${first.instancePath || '/'} ${first.message}`}`)
  }
  return value
}

/** JSON with object keys sorted at every level, so equal requests hash equally. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']'
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v)).join(',') + '}'
  }
  return JSON.stringify(value) ?? 'null'
}

/** sha256 (hex) of the canonical form of a request body. */
export function requestHash (body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex')
}
