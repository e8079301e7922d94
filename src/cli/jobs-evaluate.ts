// `text2text-gateway jobs evaluate <name>`: ROUGE of a finished job's results, scored by the
// gateway (POST /v1/transform-jobs/{name}/evaluation), printed as the offline `evaluate`
// command prints its scores.
import { CREATE_JOB_BODY_LIMIT, MAX_INLINE_RECORDS } from '../../schemas/jobs.js'
import type { EvaluationResult } from '../evaluation/evaluate.js'
import { Gateway, isRecord } from './client.js'
import { EXIT_OK, HttpError, UsageError } from './errors.js'
import { formatTable } from './evaluate.js'
import { jsonLines, openJsonl, textRecord, type RecordId } from './jsonl.js'
import { CLIENT_OPTIONS_HELP, parseClientArgs, connection, type CliContext } from './options.js'

const COMMAND = 'jobs evaluate'

/** Help text of `jobs evaluate`. */
export const EVALUATE_USAGE = `usage: text2text-gateway jobs evaluate <name> [options]

Scores a finished job's results with ROUGE (POST /v1/transform-jobs/{name}/evaluation): each
record's first generated text against the reference of the same id, scored as the offline
"evaluate" command scores, and prints the same table. A record without output is scored
against "" and listed as missing. References default to those given at submission
("jobs submit --references"); a job submitted without them needs --references.

options:
  --references FILE      reference summaries, one {"id","text"} per line ("-" = stdin), sent
                         inline (at most ${MAX_INLINE_RECORDS}) instead of those of the submission
  --rouge-types LIST     comma-separated ROUGE types, e.g. rouge1,rougeL
                         (default rouge1,rouge2,rougeL,rougeLsum)
  --use-stemmer          Porter-stem tokens longer than 3 characters (rouge-score's use_stemmer)
  --json                 print the gateway's evaluation as JSON
${CLIENT_OPTIONS_HELP}`

/** References read from a file, with where each came from (to point a gateway error at its line). */
interface References {
  label: string
  records: Array<{ id: RecordId, text: string }>
  lines: number[]
}

function isScore (value: unknown): boolean {
  return isRecord(value) && typeof value.precision === 'number' && typeof value.recall === 'number' && typeof value.fmeasure === 'number'
}

/** Whether a response is an evaluation (what the table needs of it). */
function isEvaluation (value: unknown): value is EvaluationResult {
  return isRecord(value) && typeof value.count === 'number' && Array.isArray(value.missing) && Array.isArray(value.unmatched) &&
    isRecord(value.scores) && Object.values(value.scores).every(isScore) &&
    (value.records === undefined || Array.isArray(value.records))
}

/** Reads a references file, streamed and checked line by line, within what one request may carry. */
async function readReferences (path: string, ctx: CliContext): Promise<References> {
  const input = await openJsonl(path, '--references', ctx.stdin, COMMAND)
  const refs: References = { label: input.label, records: [], lines: [] }
  // the JSON body is about the size of the lines; stopping here beats a 413 after the upload
  let bytes = 0
  for await (const item of jsonLines(input, COMMAND)) {
    const { id, text, line } = textRecord(item, input.label, COMMAND)
    bytes += Buffer.byteLength(item.text) + 1
    if (refs.records.length >= MAX_INLINE_RECORDS || bytes > CREATE_JOB_BODY_LIMIT) {
      throw new UsageError(`${input.label} holds more references than one request carries (${MAX_INLINE_RECORDS} lines, ${CREATE_JOB_BODY_LIMIT / 1024 / 1024} MB); give large reference sets at submission ("jobs submit --references")`, COMMAND)
    }
    refs.records.push({ id, text })
    refs.lines.push(line)
  }
  if (refs.records.length === 0) throw new UsageError(`${input.label} has no references`, COMMAND)
  return refs
}

/** A gateway error with what the user can do about it, or pointing at the references line it names. */
function explain (error: unknown, name: string, refs: References | undefined): unknown {
  if (!(error instanceof HttpError)) return error
  const again = (detail: string, context = error.context): HttpError => new HttpError(error.status, error.code, detail, context, error.retryAfterSeconds)
  if (error.code === 'JOB_NOT_COMPLETE') return again(`${error.detail}; run "jobs wait ${name}" first`)
  if (error.status === 400 && refs === undefined && /\breferences\b/.test(error.detail)) {
    return again(`${error.detail}; give them with --references FILE`)
  }
  const m = /^body\.references\.records\[(\d+)\]|^body\.references\[(\d+)\]/.exec(error.detail)
  const line = m === null || refs === undefined ? undefined : refs.lines[Number(m[1] ?? m[2])]
  if (line !== undefined && refs !== undefined) return again(error.detail, `${refs.label}:${line}`)
  return error
}

/** Runs `jobs evaluate`; resolves with the exit code (errors are thrown to main). */
export async function evaluateJobCommand (argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseClientArgs(COMMAND, argv, {
    references: { type: 'string' },
    'rouge-types': { type: 'string' },
    'use-stemmer': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false }
  })
  if (values.help) {
    ctx.out.write(EVALUATE_USAGE + '\n')
    return EXIT_OK
  }
  const [name, ...extra] = positionals
  if (name === undefined || name === '') throw new UsageError('the job name is missing', COMMAND)
  if (extra.length > 0) throw new UsageError(`expected one job name, got ${positionals.length}`, COMMAND)
  const rougeTypes = values['rouge-types']?.split(',').map((t) => t.trim()).filter((t) => t !== '')
  if (rougeTypes?.length === 0) throw new UsageError('--rouge-types needs at least one type, e.g. rouge1,rougeL', COMMAND)
  const useStemmer = values['use-stemmer']
  const gateway = new Gateway(connection(values.url, ctx.env, COMMAND))

  // the file is checked before anything is sent, so a bad line costs no request
  const refs = values.references === undefined ? undefined : await readReferences(values.references, ctx)
  // the types are checked by the gateway, which names the offending one
  const body = {
    ...(refs === undefined ? {} : { references: { records: refs.records } }),
    ...(rougeTypes === undefined ? {} : { rougeTypes }),
    ...(useStemmer ? { useStemmer } : {})
  }
  let result: EvaluationResult
  try {
    result = (await gateway.json('POST', `v1/transform-jobs/${encodeURIComponent(name)}/evaluation`, isEvaluation, { json: body })).value
  } catch (error) {
    throw explain(error, name, refs)
  }
  ctx.out.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatTable(result, useStemmer, null))
  return EXIT_OK
}
