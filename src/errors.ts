import createError, { type FastifyErrorConstructor } from '@fastify/error'
import { ERROR_CATALOG, type CatalogEntry, type ClientErrorFields, type ErrorCode } from '../schemas/error-catalog.js'

/**
 * The error catalog's errors: every error a client can see, by stable code, built from the one
 * catalog table (schemas/error-catalog.ts: status, expected refusal, documentation). Services
 * throw these; foreign errors (AWS SDK, S3) are wrapped into one of them with `cause`, and the
 * two pure libraries' own errors (the batcher's BatcherError, evaluation's EvaluationInputError)
 * are mapped once, at the edge of the service that wraps each (src/realtime/, src/scoring/).
 * The app's error handler decides what leaves the process.
 */
export type { ErrorCode }

type Ctor = FastifyErrorConstructor<{ code: string, statusCode: number }, [string]>
const make = (code: string, status: number): Ctor => createError(code, '%s', status) as Ctor

/** One error constructor per catalog code, with the code's status. */
export const Errors = Object.fromEntries(
  Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, make(code, entry.status)])
) as Readonly<Record<ErrorCode, Ctor>>

/** A catalog error with an optional Retry-After (seconds) and the foreign error as `cause`. */
export interface CatalogError extends Error, ClientErrorFields {
  retryAfterSeconds?: number
}

/** Builds a catalog error; `cause` keeps the foreign error for logs, never for the client. */
export function catalogError (code: ErrorCode, message: string, opts: { cause?: unknown, retryAfterSeconds?: number, param?: string } = {}): CatalogError {
  const err = new Errors[code](message) as CatalogError
  if (opts.cause !== undefined) err.cause = opts.cause
  if (opts.retryAfterSeconds !== undefined) err.retryAfterSeconds = opts.retryAfterSeconds
  if (opts.param !== undefined) err.param = opts.param
  return err
}

/** True for errors this catalog produced (their message is safe to show). */
export function isCatalogError (err: unknown): err is CatalogError {
  return err instanceof Error && typeof (err as CatalogError).code === 'string' &&
    (err as CatalogError).code in Errors && typeof (err as CatalogError).statusCode === 'number'
}

/**
 * True for a refusal that is the gateway working as designed (load, limits, draining,
 * configuration): logged at warn without a stack, whatever its status (the catalog's
 * `refusal` column).
 */
export function isExpectedRefusal (err: CatalogError): boolean {
  const entry: CatalogEntry | undefined = (ERROR_CATALOG as Partial<Record<string, CatalogEntry>>)[err.code]
  return entry?.refusal === true
}
