// What every client command shares: its I/O context, the connection options (--url, T2T_URL,
// T2T_API_KEY), argument parsing that turns mistakes into UsageErrors, and typed --param values.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js'

/** Gateway URL when neither --url nor T2T_URL is given. */
export const DEFAULT_URL = 'http://127.0.0.1:3000'

/** The streams and environment a command runs with (injected so tests need no process state). */
export interface CliContext {
  out: NodeJS.WritableStream
  err: NodeJS.WritableStream
  stdin: NodeJS.ReadableStream
  env: Record<string, string | undefined>
}

/** A client command: the arguments after its name; resolves with the exit code. */
export type Command = (argv: string[], ctx: CliContext) => Promise<number>

/** The options every client command accepts (parseClientArgs adds them to the command's own). */
const CLIENT_OPTIONS = {
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false }
} as const

/** Help lines for CLIENT_OPTIONS, appended to each client command's usage. */
export const CLIENT_OPTIONS_HELP = `  --url URL              gateway base URL (default $T2T_URL, else ${DEFAULT_URL})
  -h, --help             this help

environment: T2T_URL (gateway URL), T2T_API_KEY (sent as "Authorization: Bearer <key>")`

/** Where to reach the gateway and how to authenticate. */
export interface Connection {
  url: URL
  apiKey: string | undefined
}

/** Resolves --url over T2T_URL over the default; the key comes from T2T_API_KEY. */
export function connection (urlOption: string | undefined, env: CliContext['env'], command: string): Connection {
  const nonEmpty = (s: string | undefined): string | undefined => s === undefined || s.trim() === '' ? undefined : s.trim()
  const raw = nonEmpty(urlOption) ?? nonEmpty(env.T2T_URL) ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL (expected e.g. ${DEFAULT_URL})`, command)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url ${JSON.stringify(raw)} must be http:// or https://`, command)
  }
  return { url, apiKey: nonEmpty(env.T2T_API_KEY) }
}

/** parseArgs' option declarations. */
type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>

/** A client command's parseArgs config: its own options plus CLIENT_OPTIONS, positionals allowed. */
interface ClientArgsConfig<O extends ParseArgsOptionsConfig> {
  args: string[]
  strict: true
  allowPositionals: true
  options: typeof CLIENT_OPTIONS & O
}

/**
 * Parses a client command's arguments (CLIENT_OPTIONS plus `options`, unknown options
 * refused) with node's parseArgs, turning its errors into a UsageError pointing at
 * `command --help`.
 */
export function parseClientArgs<const O extends ParseArgsOptionsConfig> (command: string, argv: string[], options: O): ReturnType<typeof parseArgs<ClientArgsConfig<O>>> {
  try {
    return parseArgs<ClientArgsConfig<O>>({ args: argv, strict: true, allowPositionals: true, options: { ...CLIENT_OPTIONS, ...options } })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    // parseArgs appends a long hint about "--"; keep the first sentence
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), command)
  }
}

/** A generation or job parameter value as typed on the command line. */
export type ParamValue = string | number | boolean

/** Numbers as JSON writes them (no hex, no Infinity, no leading "+"). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** Types one value: JSON numbers and true/false become numbers and booleans; "…" forces a string. */
export function typedValue (raw: string): ParamValue {
  if (raw === 'true') return true
  if (raw === 'false') return false
  if (JSON_NUMBER.test(raw)) return Number(raw)
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw)
      if (typeof parsed === 'string') return parsed
    } catch { /* not JSON after all: keep it verbatim */ }
  }
  return raw
}

/** Parses repeatable `--param key=value` options into an object (a later key wins). */
export function parseParams (params: string[] | undefined, command: string): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {}
  for (const param of params ?? []) {
    const eq = param.indexOf('=')
    const key = eq < 0 ? '' : param.slice(0, eq).trim()
    if (eq < 0 || key === '') {
      throw new UsageError(`--param expects key=value (e.g. num_beams=4), got ${JSON.stringify(param)}`, command)
    }
    out[key] = typedValue(param.slice(eq + 1).trim())
  }
  return out
}

/** Parses an optional integer option within [min, max]. */
export function integerOption (value: string | undefined, flag: string, min: number, max: number, command: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, command)
  }
  return n
}

/** Parses an optional duration option given in seconds (decimals allowed); returns milliseconds. */
export function secondsOption (value: string | undefined, flag: string, command: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive number of seconds, got ${JSON.stringify(value)}`, command)
  }
  return Math.round(n * 1000)
}

/** Whether a stream is an interactive terminal (only tty streams carry `isTTY`). */
export function isTTY (stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

/** Terminal width of a stream, or 80 when it is not a terminal. */
export function columns (stream: NodeJS.WritableStream): number {
  const c = (stream as { columns?: number }).columns
  return typeof c === 'number' && c > 0 ? c : 80
}

/**
 * Runs `<group> <subcommand> ...`: no subcommand prints the group's usage (exit 2), `help
 * [subcommand]` prints that help, an unknown one is a usage error naming the known ones.
 */
export async function dispatchSubcommand (group: string, usage: string, subcommands: Record<string, Command>, help: Record<string, string>, argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined) {
    ctx.err.write(usage + '\n')
    return EXIT_USAGE
  }
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    const topic = rest[0] === undefined ? undefined : help[rest[0]]
    ctx.out.write((topic ?? usage) + '\n')
    return EXIT_OK
  }
  const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined
  if (run === undefined) {
    throw new UsageError(`unknown ${group} subcommand ${JSON.stringify(sub)}; expected one of ${Object.keys(subcommands).join(', ')}`, group)
  }
  return await run(rest, ctx)
}
