// `text2text-gateway jobs <subcommand>`: batch transform jobs over the gateway's
// /v1/transform-jobs API (submit lives in jobs-submit.ts, evaluate in jobs-evaluate.ts,
// waiting in job-wait.ts).
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { JOB_STATUSES, type TransformJob } from '../../schemas/jobs.js'
import { Gateway, isJob, isRecord } from './client.js'
import { ConnectionError, EXIT_OK, UsageError } from './errors.js'
import { duration, jobDetails, jobElapsed, shortDate, table } from './format.js'
import { DEFAULT_POLL_INTERVAL_MS, requireCompleted, waitForJob } from './job-wait.js'
import { EVALUATE_USAGE, evaluateJobCommand } from './jobs-evaluate.js'
import { SUBMIT_USAGE, submitCommand } from './jobs-submit.js'
import { CLIENT_OPTIONS_HELP, connection, integerOption, dispatchSubcommand, parseClientArgs, secondsOption, type CliContext, type Command } from './options.js'

/** Jobs per page asked of the gateway when listing (its maximum). */
const LIST_PAGE_LIMIT = 100
/** Pages fetched at most by one `jobs list`, a guard against a gateway that never ends paging. */
const MAX_LIST_PAGES = 100

/** Help text of `jobs`. */
export const JOBS_USAGE = `usage: text2text-gateway jobs <subcommand> [options]

Batch transform jobs on a running gateway.

subcommands:
  submit <file.jsonl>    upload a JSONL file and submit a job on it (--wait to follow it)
  status <name>          one job: status, progress, times, locations
  list                   recent jobs, newest first (--status, --limit)
  stop <name>            ask a running job to stop
  results <name>         a finished job's results as NDJSON, in input order (--out FILE)
  wait <name>            follow a job until it ends; exit 0 only if it Completed
  evaluate <name>        ROUGE of a finished job's results against its references (--json)

Run "text2text-gateway jobs <subcommand> --help" for its options.`

const STATUS_USAGE = `usage: text2text-gateway jobs status <name> [options]

Shows one job (GET /v1/transform-jobs/{name}). Exits 0 whatever the job's status.

options:
  --json                 print the job as JSON
${CLIENT_OPTIONS_HELP}`

const LIST_USAGE = `usage: text2text-gateway jobs list [options]

Lists the gateway's jobs, newest first, as a table (GET /v1/transform-jobs).

options:
  --status STATUS        only jobs with this status: ${JOB_STATUSES.join(', ')}
  --limit N              show at most N jobs (default 20, at most 1000)
  --json                 print {"jobs": [...]} as JSON
${CLIENT_OPTIONS_HELP}`

const STOP_USAGE = `usage: text2text-gateway jobs stop <name> [options]

Asks a running job to stop (POST /v1/transform-jobs/{name}/stop) and prints its status
(usually Stopping; "jobs wait" follows it to Stopped). Stopping a Completed or Failed job is an error.

options:
  --json                 print the job as JSON
${CLIENT_OPTIONS_HELP}`

const RESULTS_USAGE = `usage: text2text-gateway jobs results <name> [options]

Streams a finished job's results (GET /v1/transform-jobs/{name}/results): one NDJSON line per
input record, in input order, {"id","generated_texts"} or {"id","error":{"code","message"}}.
A job still running is an error (409 JOB_NOT_COMPLETE); "jobs wait" first.

options:
  --out FILE             write to FILE (replaced only once the whole stream arrived) instead of
                         stdout, and report the line count on stderr
${CLIENT_OPTIONS_HELP}`

const WAIT_USAGE = `usage: text2text-gateway jobs wait <name> [options]

Follows a job until it ends, with progress on stderr (one updating line on a terminal,
a line per change otherwise). Exits 0 if it Completed, 1 if it Failed or was Stopped.

options:
  --interval SECONDS     longest gap between polls (default ${DEFAULT_POLL_INTERVAL_MS / 1000})
  --timeout SECONDS      give up (exit 1) if the job is still running by then
  --json                 print the final job as JSON
${CLIENT_OPTIONS_HELP}`

/** The one job name a subcommand takes. */
function jobName (positionals: string[], command: string): string {
  const [name, ...extra] = positionals
  if (name === undefined || name === '') throw new UsageError('the job name is missing', command)
  if (extra.length > 0) throw new UsageError(`expected one job name, got ${positionals.length}`, command)
  return name
}

function jobPath (name: string, suffix = ''): string {
  return `v1/transform-jobs/${encodeURIComponent(name)}${suffix}`
}

function printJob (job: TransformJob, json: boolean, ctx: CliContext, text: () => string): void {
  ctx.out.write(json ? JSON.stringify(job, null, 2) + '\n' : text())
}

/** `jobs status <name>`. */
async function statusCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'jobs status'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(STATUS_USAGE + '\n'); return EXIT_OK }
  const name = jobName(positionals, command)
  const job = await new Gateway(connection(values.url, ctx.env, command)).job(name)
  printJob(job, values.json, ctx, () => jobDetails(job, Date.now()))
  return EXIT_OK
}

/** Canonical spelling of a status typed in any case, or a UsageError listing the statuses. */
function statusOption (value: string | undefined, command: string): string | undefined {
  if (value === undefined) return undefined
  const found = JOB_STATUSES.find((s) => s.toLowerCase() === value.toLowerCase())
  if (found === undefined) throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(value)}`, command)
  return found
}

/** `jobs list`: pages until --limit jobs are collected (a page may hold fewer than asked). */
async function listCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'jobs list'
  const { values, positionals } = parseClientArgs(command, argv, { status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(LIST_USAGE + '\n'); return EXIT_OK }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, command)
  const status = statusOption(values.status, command)
  const limit = integerOption(values.limit, '--limit', 1, 1000, command) ?? 20
  const gateway = new Gateway(connection(values.url, ctx.env, command))

  const jobs: TransformJob[] = []
  let nextToken: string | undefined
  for (let page = 0; page < MAX_LIST_PAGES && jobs.length < limit; page++) {
    const list = await gateway.jobs({ status, limit: Math.min(LIST_PAGE_LIMIT, limit - jobs.length), nextToken })
    jobs.push(...list.jobs)
    nextToken = list.nextToken
    if (nextToken === undefined) break
  }
  const shown = jobs.slice(0, limit)
  if (values.json) {
    ctx.out.write(JSON.stringify({ jobs: shown }, null, 2) + '\n')
    return EXIT_OK
  }
  if (shown.length === 0) {
    ctx.err.write(status === undefined ? 'no jobs\n' : `no ${status} jobs\n`)
    return EXIT_OK
  }
  const now = Date.now()
  const rows = shown.map((job) => {
    const elapsed = jobElapsed(job, now)
    // the list carries progress only when the gateway has it at hand; the record count always
    const records = job.progress !== undefined
      ? `${job.progress.processed}/${job.progress.total}`
      : job.input?.recordCount === undefined ? '-' : String(job.input.recordCount)
    return [job.name, job.status, records, shortDate(job.createdAt), elapsed === undefined ? '-' : duration(elapsed)]
  })
  ctx.out.write(table([['NAME', 'STATUS', 'RECORDS', 'CREATED', 'ELAPSED'], ...rows]))
  if (nextToken !== undefined && jobs.length >= limit) ctx.err.write(`showing the first ${limit}; --limit N for more\n`)
  return EXIT_OK
}

/** `jobs stop <name>`. */
async function stopCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'jobs stop'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(STOP_USAGE + '\n'); return EXIT_OK }
  const name = jobName(positionals, command)
  const gateway = new Gateway(connection(values.url, ctx.env, command))
  const { value: job } = await gateway.json('POST', jobPath(name, '/stop'), isJob)
  printJob(job, values.json, ctx, () => `${job.name}: ${job.status}\n`)
  return EXIT_OK
}

/** `jobs wait <name>`. */
async function waitCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'jobs wait'
  const { values, positionals } = parseClientArgs(command, argv, { interval: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(WAIT_USAGE + '\n'); return EXIT_OK }
  const name = jobName(positionals, command)
  const intervalMs = secondsOption(values.interval, '--interval', command) ?? DEFAULT_POLL_INTERVAL_MS
  const timeoutMs = secondsOption(values.timeout, '--timeout', command)
  const gateway = new Gateway(connection(values.url, ctx.env, command))
  const job = await waitForJob(gateway, name, ctx.err, { intervalMs, timeoutMs })
  if (values.json) ctx.out.write(JSON.stringify(job, null, 2) + '\n')
  requireCompleted(job)
  return EXIT_OK
}

/** Counts NDJSON lines, and those carrying an `error`, as the bytes stream past. */
class LineCounter {
  lines = 0
  errors = 0
  private readonly decoder = new TextDecoder()
  private partial = ''

  /** Passes the chunks through unchanged, counting them. */
  async * tee (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.take(this.decoder.decode(chunk, { stream: true }))
      yield chunk
    }
    this.take(this.decoder.decode() + '\n')
  }

  private take (text: string): void {
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() ?? ''
    for (const line of parts) {
      if (line.trim() === '') continue
      this.lines++
      try {
        const value: unknown = JSON.parse(line)
        if (isRecord(value) && value.error !== undefined) this.errors++
      } catch { /* counted as a line; the bytes are passed on as they came */ }
    }
  }
}

/** Copies chunks to a stream the CLI does not own (stdout), honouring backpressure; a closed pipe ends the copy quietly. */
async function copyTo (source: AsyncIterable<Uint8Array>, dest: NodeJS.WritableStream): Promise<void> {
  let failure: NodeJS.ErrnoException | undefined
  const onError = (error: NodeJS.ErrnoException): void => { failure = error }
  dest.on('error', onError)
  try {
    for await (const chunk of source) {
      if (failure !== undefined) break
      if (!dest.write(chunk)) {
        await once(dest, 'drain').catch(() => {})
      }
    }
  } finally {
    dest.off('error', onError)
  }
  // EPIPE: the reader went away (`| head`), which is how pipelines end, not a failure
  if (failure !== undefined && failure.code !== 'EPIPE') throw failure
}

/** `jobs results <name> [--out FILE]`. */
async function resultsCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'jobs results'
  const { values, positionals } = parseClientArgs(command, argv, { out: { type: 'string' } })
  if (values.help) { ctx.out.write(RESULTS_USAGE + '\n'); return EXIT_OK }
  const name = jobName(positionals, command)
  const gateway = new Gateway(connection(values.url, ctx.env, command))
  const res = await gateway.send('GET', jobPath(name, '/results'), { headers: { accept: 'application/x-ndjson' } })
  const body: AsyncIterable<Uint8Array> = res.body ?? Readable.from([])
  const counter = new LineCounter()
  const broken = (error: unknown): ConnectionError => new ConnectionError(
    `the results stream from ${gateway.url} broke off after ${counter.lines} lines: ${error instanceof Error ? error.message : String(error)}`, undefined)

  if (values.out === undefined) {
    try {
      await copyTo(counter.tee(body), ctx.out)
    } catch (error) {
      if (error instanceof Error && 'code' in error) throw error // a local write failure, not the network
      throw broken(error)
    }
    return EXIT_OK
  }
  // a temp file next to the target, renamed once complete: a broken stream never leaves half a file
  const target = values.out
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.part`)
  try {
    await pipeline(Readable.from(counter.tee(body)), createWriteStream(temp))
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    const code = (error as NodeJS.ErrnoException).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new UsageError(`cannot write ${target}: ${code}`, command)
    throw broken(error)
  }
  const errors = counter.errors === 0 ? '' : ` (${counter.errors} without output)`
  ctx.err.write(`wrote ${counter.lines} results${errors} to ${target}\n`)
  return EXIT_OK
}

const SUBCOMMANDS: Record<string, Command> = {
  submit: submitCommand,
  status: statusCommand,
  list: listCommand,
  stop: stopCommand,
  results: resultsCommand,
  wait: waitCommand,
  evaluate: evaluateJobCommand
}

/** Help texts by subcommand, for `text2text-gateway help jobs <subcommand>`. */
export const JOBS_HELP: Record<string, string> = {
  submit: SUBMIT_USAGE, status: STATUS_USAGE, list: LIST_USAGE, stop: STOP_USAGE, results: RESULTS_USAGE, wait: WAIT_USAGE, evaluate: EVALUATE_USAGE
}

/** Dispatches `jobs <subcommand>`; resolves with the exit code (errors are thrown to main). */
export async function jobsCommand (argv: string[], ctx: CliContext): Promise<number> {
  return await dispatchSubcommand('jobs', JOBS_USAGE, SUBCOMMANDS, JOBS_HELP, argv, ctx)
}
