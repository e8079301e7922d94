// `text2text-gateway jobs submit <file.jsonl>`: uploads the file (and references) with
// POST /v1/datasets, streamed from disk, then submits a transform job on the uploaded dataset.
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TransformJob } from '../../schemas/jobs.js'
import { Gateway, isJob } from './client.js'
import { ConnectionError, EXIT_OK, HttpError, retryDelayMs, UsageError } from './errors.js'
import { bytes } from './format.js'
import { DEFAULT_POLL_INTERVAL_MS, requireCompleted, waitForJob, type WaitOptions } from './job-wait.js'
import { CLIENT_OPTIONS_HELP, connection, integerOption, isTTY, parseClientArgs, parseParams, secondsOption, type CliContext } from './options.js'

const COMMAND = 'jobs submit'

/** Attempts at POST /v1/transform-jobs when it fails in transit (the Idempotency-Key makes them safe). */
const CREATE_ATTEMPTS = 3
/** First delay between those attempts (ms), doubled each time; a Retry-After may lengthen it. */
const CREATE_RETRY_BASE_MS = 500

/** Attempts at an upload the gateway turned away as UPLOADS_BUSY (before reading any of it). */
const UPLOAD_BUSY_ATTEMPTS = 5

/** Help text of `jobs submit`. */
export const SUBMIT_USAGE = `usage: text2text-gateway jobs submit <file.jsonl> [options]

Uploads file.jsonl to the gateway (POST /v1/datasets, streamed from disk as
application/x-ndjson), then submits a batch transform job on it (POST /v1/transform-jobs)
and prints the job's name. Each line is {"id","text"} (optional "parameters"), or the
JumpStart form {"id","text_inputs",...parameters}. A bad line fails the upload with the
gateway's message, and no job is submitted. A gateway busy with other uploads (503
UPLOADS_BUSY) is asked again after its Retry-After, up to ${UPLOAD_BUSY_ATTEMPTS} attempts.

options:
  --references FILE      reference summaries, one {"id","text"} per line, uploaded too and
                         kept with the job for evaluation
  --prompt TEXT          prepended to each "text" line (sent as the upload's prompt)
  --name NAME            job name (letters, digits, inner hyphens; at most 40); default: generated.
                         If a job of that name exists, nothing is uploaded and that job is used
  --model NAME           model (default: the gateway's)
  --param KEY=VALUE      job-wide parameter (generation parameters and batch_size), repeatable;
                         numbers and true/false are typed
  --truncate N           tgi models only: keep the last N tokens of each input (TGI's truncate),
                         so inputs over the container's MAX_INPUT_LENGTH do not fail the job
  --idempotency-key KEY  sent with the submission (default: a random key), so that the CLI's
                         own retries of a submission that failed in transit never make a
                         second job; a later submit uploads the file again, so reusing a key
                         there is a 409 (use --name to make a submit re-runnable)
  --wait                 wait for the job to end, showing progress on stderr; exit 0 only
                         if it Completed
  --interval SECONDS     longest gap between polls with --wait (default ${DEFAULT_POLL_INTERVAL_MS / 1000})
  --timeout SECONDS      with --wait, give up (exit 1) if the job is still running by then
  --json                 print the job as JSON (with --wait, the final job) instead of its name
${CLIENT_OPTIONS_HELP}`

/** Checks that a path is a readable regular file; returns its size in bytes. */
async function fileSize (path: string, flag: string): Promise<number> {
  try {
    const s = await stat(path)
    if (!s.isFile()) throw new UsageError(`${flag}${path} is not a file`, COMMAND)
    await access(path, constants.R_OK)
    return s.size
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read ${flag}${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`, COMMAND)
  }
}

/**
 * Streams one file to POST /v1/datasets; resolves with its s3 URI. A 503 UPLOADS_BUSY is
 * answered before the gateway reads the body, so the file is sent again from the start after
 * Retry-After, a few times.
 */
async function upload (gateway: Gateway, path: string, size: number, prompt: string | undefined, ctx: CliContext): Promise<string> {
  const tty = isTTY(ctx.err)
  if (tty) ctx.err.write(`uploading ${path} (${bytes(size)})...`)
  for (let attempt = 1; ; attempt++) {
    try {
      const created = await gateway.uploadDataset(createReadStream(path), prompt, `uploading ${path}`)
      if (tty) ctx.err.write(` ${created.records} records\n`)
      return created.s3Uri
    } catch (error) {
      if (error instanceof HttpError && error.code === 'UPLOADS_BUSY' && attempt < UPLOAD_BUSY_ATTEMPTS) {
        await sleep(retryDelayMs(attempt, CREATE_RETRY_BASE_MS, error))
        continue
      }
      if (tty) ctx.err.write('\n')
      throw error
    }
  }
}

/** Runs `jobs submit`; resolves with the exit code (errors are thrown to main). */
export async function submitCommand (argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseClientArgs(COMMAND, argv, {
    references: { type: 'string' },
    prompt: { type: 'string' },
    name: { type: 'string' },
    model: { type: 'string' },
    param: { type: 'string', multiple: true },
    truncate: { type: 'string' },
    'idempotency-key': { type: 'string' },
    wait: { type: 'boolean', default: false },
    interval: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false }
  })
  if (values.help) {
    ctx.out.write(SUBMIT_USAGE + '\n')
    return EXIT_OK
  }
  const [file, ...extra] = positionals
  if (file === undefined) throw new UsageError('the input file is missing: jobs submit <file.jsonl>', COMMAND)
  if (extra.length > 0) throw new UsageError(`expected one input file, got ${positionals.length}`, COMMAND)
  const parameters = parseParams(values.param, COMMAND)
  const truncate = integerOption(values.truncate, '--truncate', 1, Number.MAX_SAFE_INTEGER, COMMAND)
  const intervalMs = secondsOption(values.interval, '--interval', COMMAND) ?? DEFAULT_POLL_INTERVAL_MS
  const timeoutMs = secondsOption(values.timeout, '--timeout', COMMAND)
  if (!values.wait && (values.interval !== undefined || values.timeout !== undefined)) {
    throw new UsageError('--interval and --timeout apply only with --wait', COMMAND)
  }
  const gateway = new Gateway(connection(values.url, ctx.env, COMMAND))

  // check both files before uploading either, so a typo costs no upload
  const inputSize = await fileSize(file, '')
  const referencesSize = values.references === undefined ? undefined : await fileSize(values.references, '--references ')

  // a re-run with the same --name: that job, without uploading anything again
  if (values.name !== undefined) {
    const existing = await existingJob(gateway, values.name)
    if (existing !== undefined) {
      ctx.err.write(`job ${existing.name} exists already (${existing.status}); nothing uploaded or submitted\n`)
      return await afterSubmit(gateway, existing, values.wait, values.json, { intervalMs, timeoutMs }, ctx)
    }
  }

  const inputUri = await upload(gateway, file, inputSize, values.prompt, ctx)
  const referencesUri = values.references === undefined || referencesSize === undefined
    ? undefined
    : await upload(gateway, values.references, referencesSize, undefined, ctx)

  // the parameters are checked by the gateway, which names the offending key and value
  const body = {
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.model === undefined ? {} : { model: values.model }),
    input: { s3Uri: inputUri },
    ...(Object.keys(parameters).length === 0 ? {} : { parameters }),
    ...(truncate === undefined ? {} : { truncate }),
    ...(referencesUri === undefined ? {} : { references: { s3Uri: referencesUri } })
  }
  const key = values['idempotency-key'] ?? randomUUID()
  const { value: job, headers } = await createJob(gateway, body, key, values['idempotency-key'] !== undefined)
  if (headers.get('idempotent-replayed') === 'true') {
    ctx.err.write(`job ${job.name} was already submitted (same ${values.name === undefined ? 'idempotency key' : 'name'}); not submitted again\n`)
  }
  return await afterSubmit(gateway, job, values.wait, values.json, { intervalMs, timeoutMs }, ctx)
}

/** Prints the job (name or JSON) and, with --wait, follows it; resolves with the exit code. */
async function afterSubmit (gateway: Gateway, job: TransformJob, wait: boolean, json: boolean, options: WaitOptions, ctx: CliContext): Promise<number> {
  if (!wait) {
    ctx.out.write(json ? JSON.stringify(job, null, 2) + '\n' : job.name + '\n')
    return EXIT_OK
  }
  // the name first, so a script has it even if the wait is interrupted
  if (!json) ctx.out.write(job.name + '\n')
  const final = await waitForJob(gateway, job.name, ctx.err, options)
  if (json) ctx.out.write(JSON.stringify(final, null, 2) + '\n')
  requireCompleted(final)
  return EXIT_OK
}

/**
 * POST /v1/transform-jobs with an Idempotency-Key, retried on failures in transit (network,
 * 5xx, 429): the key makes a retry return the job a lost response had created, never a second.
 */
async function createJob (gateway: Gateway, body: unknown, key: string, keyGiven: boolean): Promise<{ value: TransformJob, headers: Headers }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await gateway.json('POST', 'v1/transform-jobs', isJob, { json: body, headers: { 'idempotency-key': key } })
    } catch (error) {
      const transient = error instanceof ConnectionError ? error.code !== 'ECONNREFUSED' : error instanceof HttpError && error.transient
      if (transient && attempt < CREATE_ATTEMPTS) {
        await sleep(retryDelayMs(attempt, CREATE_RETRY_BASE_MS, error))
        continue
      }
      if (keyGiven && error instanceof HttpError && error.status === 409) {
        // datasets are named by their content, so a re-run with the same files and options
        // replays the job; a 409 means something in this submission differs
        throw new HttpError(error.status, error.code, `${error.detail}; this --idempotency-key was used for a submission with other files or options`, error.context, error.retryAfterSeconds)
      }
      throw error
    }
  }
}

/** The job named `name`, or undefined when there is none. */
async function existingJob (gateway: Gateway, name: string): Promise<TransformJob | undefined> {
  try {
    return await gateway.job(name)
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined
    throw error
  }
}
