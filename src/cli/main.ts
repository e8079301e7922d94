// `text2text-gateway <command>`: the command-line entry (package.json `bin`). Client commands
// (summarize, jobs) talk to a running gateway over HTTP; `serve` starts one; `evaluate` works
// offline. Commands write only to the streams passed in and never exit the process.
import { readFile } from 'node:fs/promises'
import { evaluateCommand } from './evaluate.js'
import { EXIT_OK, EXIT_USAGE, PROGRAM, reportError, UsageError } from './errors.js'
import { jobsCommand } from './jobs.js'
import { endpointsCommand, usageCommand } from './endpoints.js'
import { DEFAULT_URL, type CliContext, type Command } from './options.js'
import { summarizeCommand } from './summarize.js'

const USAGE = `usage: text2text-gateway <command> [options]

commands:
  serve                 start the gateway (local mode without AWS settings; see README)
  summarize [text|-]    summarise one text (argument or stdin) with a running gateway
  summarize --jsonl F   summarise each {"id","text"} line of F (or stdin for "-") in real time,
                        --concurrency N at a time; one {"id","summary"} line each, in order
  jobs <subcommand>     batch transform jobs: submit, status, list, stop, results, wait, evaluate
  endpoints <subcommand>  real-time endpoints: deploy, list, describe, scale, delete
  usage                 instance time and estimated cost of jobs and endpoints
  evaluate              ROUGE of two JSONL files of {"id","text"} without a server
  help [command]        this text, or a command's help
  --version             the package version

summarize, jobs, endpoints and usage talk to a gateway at --url (default $T2T_URL, else ${DEFAULT_URL});
if it requires an API key, set T2T_API_KEY.
Exit codes: 0 success; 1 server or network failure, or a job that did not complete;
2 a usage or input error to fix.

Run "text2text-gateway <command> --help" for a command's options.`

const SERVE_USAGE = `usage: text2text-gateway serve

Starts the gateway in this process. It is configured by environment variables (PORT, HOST,
API_KEYS, SAGEMAKER_ENDPOINT_NAME, ...; see README): with no SAGEMAKER_ENDPOINT_NAME it runs
in local mode, with an embedded SageMaker-compatible stack under LOCAL_DATA_DIR.`

/** What `main` may be given besides argv and the output streams (tests inject these). */
export interface MainOptions {
  /** Read by `summarize` (text or --jsonl) and `jobs evaluate --references -`. Default process.stdin. */
  stdin?: NodeJS.ReadableStream
  /** T2T_URL and T2T_API_KEY are read from here. Default process.env. */
  env?: Record<string, string | undefined>
}

/** Output streams that already have the write-error guard below. */
const guarded = new WeakSet<NodeJS.WritableStream>()

/**
 * A closed stdout (`... | head`) is how pipelines end: EPIPE is ignored rather than crashing with
 * an unhandled 'error'. The guard stays for the stream's life, since such errors arrive late.
 */
function guardOutput (out: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  if (guarded.has(out)) return
  guarded.add(out)
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') err.write(`${PROGRAM}: cannot write the output: ${error.message}\n`)
  })
}

const CLIENT_COMMANDS: Record<string, Command> = {
  summarize: summarizeCommand,
  jobs: jobsCommand,
  endpoints: endpointsCommand,
  usage: usageCommand
}

/** The package version, from the package.json above this file (src/cli or dist/src/cli). */
async function version (): Promise<string> {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg: unknown = JSON.parse(await readFile(new URL(up, import.meta.url), 'utf8'))
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === PROGRAM && 'version' in pkg && typeof pkg.version === 'string') {
        return pkg.version
      }
    } catch { /* not there: try one level up */ }
  }
  return 'unknown'
}

/** Dispatches a subcommand; resolves with the process exit code (-1: `serve` keeps running). */
export async function main (
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  options: MainOptions = {}
): Promise<number> {
  const [command, ...rest] = argv
  const ctx: CliContext = { out, err, stdin: options.stdin ?? process.stdin, env: options.env ?? process.env }
  guardOutput(out, err)
  try {
    switch (command) {
      case 'serve':
        if (rest.some((a) => a === '--help' || a === '-h')) {
          out.write(SERVE_USAGE + '\n')
          return EXIT_OK
        }
        if (rest.length > 0) throw new UsageError(`serve takes no arguments (got ${JSON.stringify(rest[0])}); configure it with environment variables`, 'serve')
        await import('../server.js')
        // the server keeps the process alive; its own signal handling decides the exit code
        return -1
      case 'evaluate':
        // evaluate reports its own errors (file:line messages) and exit codes
        return await evaluateCommand(rest, out, err)
      case '--version': case '-v': case 'version':
        out.write(`${await version()}\n`)
        return EXIT_OK
      case undefined:
        err.write(USAGE + '\n')
        return EXIT_USAGE
      case 'help': case '--help': case '-h':
        if (rest.length === 0 || command !== 'help') {
          out.write(USAGE + '\n')
          return EXIT_OK
        }
        if (rest[0] === 'help') throw new UsageError('"help help" has no more to say', '')
        // `help jobs submit` is `jobs submit --help`
        return await main([...rest, '--help'], out, err, options)
      default: {
        const run = Object.hasOwn(CLIENT_COMMANDS, command) ? CLIENT_COMMANDS[command] : undefined
        if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}; expected serve, summarize, jobs, endpoints, usage, evaluate or help`, '')
        return await run(rest, ctx)
      }
    }
  } catch (error) {
    return reportError(error, err)
  }
}
