// Errors of the client commands and how they reach the user: exactly one line on stderr,
// `text2text-gateway: <message>`, and an exit code (2 = the user must fix something,
// 1 = the server or the network failed, or a job did not complete).

/** The program name every error line starts with. */
export const PROGRAM = 'text2text-gateway'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** An error with a message meant for the user and the exit code it maps to. */
export class CliError extends Error {
  constructor (message: string, readonly exitCode: number = EXIT_FAILURE) {
    super(message)
  }
}

/** Bad arguments, options or input files: exit 2. `command` names the help to point at ("" = the top level). */
export class UsageError extends CliError {
  constructor (message: string, readonly command?: string) {
    super(message, EXIT_USAGE)
  }
}

/** Statuses in 4xx that are not the caller's mistake: retrying later may succeed. */
const TRANSIENT_CLIENT_STATUSES = new Set([408, 429, 499])

/** An error response from the gateway: its status, stable `code` and `message`. */
export class HttpError extends CliError {
  constructor (
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Where it happened (e.g. "uploading data.jsonl"), appended to the line. */
    readonly context?: string,
    /** Retry-After in seconds, when the gateway sent one. */
    readonly retryAfterSeconds?: number
  ) {
    const retry = retryAfterSeconds === undefined ? '' : ` (retry after ${retryAfterSeconds}s)`
    const where = context === undefined ? '' : ` (${context})`
    super(`${status} ${code}: ${detail}${retry}${where}`,
      status >= 400 && status < 500 && !TRANSIENT_CLIENT_STATUSES.has(status) ? EXIT_USAGE : EXIT_FAILURE)
  }

  /** Whether waiting and asking again may succeed (5xx, 429 and friends). */
  get transient (): boolean {
    return this.exitCode === EXIT_FAILURE
  }
}

/** Longest wait before asking the gateway again (ms), whatever Retry-After says. */
const MAX_RETRY_DELAY_MS = 10_000

/**
 * ms to wait before attempt `attempt + 1`: `baseMs` doubled per attempt made, at least the
 * Retry-After the gateway sent with `error`, at most MAX_RETRY_DELAY_MS.
 */
export function retryDelayMs (attempt: number, baseMs: number, error: unknown): number {
  const retryAfterMs = error instanceof HttpError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(retryAfterMs, baseMs * 2 ** (attempt - 1)))
}

/** The gateway could not be reached at all (refused, DNS, reset, TLS): exit 1. */
export class ConnectionError extends CliError {
  constructor (message: string, readonly code: string | undefined) {
    super(message, EXIT_FAILURE)
  }
}

/** Collapses whitespace runs (newlines included) so a message stays on one line. */
export function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/** Writes the one error line for `error` and returns its exit code. */
export function reportError (error: unknown, err: NodeJS.WritableStream): number {
  if (error instanceof CliError) {
    const help = error instanceof UsageError && error.command !== undefined
      ? ` (see "${[PROGRAM, error.command, '--help'].filter((s) => s !== '').join(' ')}")`
      : ''
    err.write(`${PROGRAM}: ${oneLine(error.message)}${help}\n`)
    return error.exitCode
  }
  // not foreseen: still one line, without a stack trace
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  err.write(`${PROGRAM}: unexpected error: ${oneLine(message)}\n`)
  return EXIT_FAILURE
}
