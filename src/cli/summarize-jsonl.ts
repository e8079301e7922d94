// `text2text-gateway summarize --jsonl FILE|-`: many texts, each its own POST /v1/summarize, a
// bounded number in flight so the gateway's micro-batcher coalesces them, the answers written
// in input order. The reorder window is the concurrency itself: line k+N is not sent before
// line k has been written, so memory stays bounded however long the input and however
// completions interleave.
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SummarizeResponse } from '../../schemas/realtime.js'
import { type Gateway, isRecord } from './client.js'
import { CliError, ConnectionError, EXIT_FAILURE, EXIT_OK, HttpError, retryDelayMs, UsageError } from './errors.js'
import { jsonLines, openJsonl, textRecord, type RecordId } from './jsonl.js'
import { isTTY, type CliContext, type ParamValue } from './options.js'

/** Default of --concurrency: enough to fill a batch or two without queueing much. */
export const DEFAULT_CONCURRENCY = 16
/** Largest --concurrency (the reorder window holds this many items). */
export const MAX_CONCURRENCY = 256

/** Attempts of one item refused with 429 / 503 (rate limit, full queue, shedding), which pass. */
const MAX_ATTEMPTS = 5
/** First delay before such a retry (ms), doubled each time; a Retry-After may lengthen it. */
const RETRY_BASE_MS = 250
/** Statuses worth asking again: the gateway is busy, not refusing this text. */
const RETRIED_STATUSES = new Set([429, 503])
/**
 * Statuses that cannot depend on the line (auth, wrong URL, wrong media type): every other
 * line would get the same answer, so the run stops at the first instead of writing N errors.
 */
const RUN_WIDE_STATUSES = new Set([401, 403, 404, 405, 415])

/** Whether a response is POST /v1/summarize's 200 body. */
export function isSummary (value: unknown): value is SummarizeResponse {
  return isRecord(value) && typeof value.summary === 'string' && Array.isArray(value.generated_texts) && typeof value.model === 'string'
}

/** What every request of the run carries besides its text. */
export interface SummarizeRequest {
  model?: string
  prompt?: string
  parameters?: Record<string, ParamValue>
}

export interface JsonlOptions {
  /** A path, or "-" for stdin. */
  source: string
  concurrency: number
  request: SummarizeRequest
  command: string
}

/** How one line ended: a summary, an error line (the run goes on), or the end of the run. */
type Outcome =
  | { kind: 'summary', summary: string }
  | { kind: 'failed', code: string, message: string }
  | { kind: 'abort', error: unknown }

/** A line sent (or answered) and not yet written. */
interface Slot {
  id: RecordId
  line: number
  outcome: Promise<Outcome>
}

/**
 * Whether a refusal would be the same for every line: the options the CLI sends on each request
 * (--param, --max-length, --model, --prompt) are wrong, or the gateway refuses the caller.
 * The gateway's messages name the offending field (API.md), which is what tells them apart.
 */
function runWide (error: HttpError): boolean {
  return RUN_WIDE_STATUSES.has(error.status) || error.code === 'INVALID_PARAMETERS' ||
    /\bbody\.(model|prompt|parameters)\b/.test(error.detail)
}

/** One line through POST /v1/summarize; never rejects (a rejected slot would go unhandled while an earlier one is awaited). */
async function summarizeOne (gateway: Gateway, body: Record<string, unknown>): Promise<Outcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { value } = await gateway.json('POST', 'v1/summarize', isSummary, { json: body })
      return { kind: 'summary', summary: value.summary }
    } catch (error) {
      if (!(error instanceof HttpError) || runWide(error)) return { kind: 'abort', error }
      if (RETRIED_STATUSES.has(error.status) && attempt < MAX_ATTEMPTS) {
        await sleep(retryDelayMs(attempt, RETRY_BASE_MS, error))
        continue
      }
      return { kind: 'failed', code: error.code, message: error.detail }
    }
  }
}

/** Writes lines to a stream the CLI does not own, honouring backpressure; notes when the reader went away. */
class LineWriter {
  failure: NodeJS.ErrnoException | undefined
  private readonly onError = (error: NodeJS.ErrnoException): void => { this.failure = error }

  constructor (private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError)
  }

  async write (line: string): Promise<void> {
    if (this.failure !== undefined) return
    if (!this.out.write(line)) await once(this.out, 'drain').catch(() => {})
  }

  close (): void {
    this.out.off('error', this.onError)
  }
}

/** The error that ends the run at `slot`, saying where, and what was written before it. */
function abortError (error: unknown, slot: Slot, written: number): unknown {
  const where = `line ${slot.line}, id ${JSON.stringify(slot.id)}${written === 0 ? '' : `; the ${written} results before it were written`}`
  if (error instanceof HttpError) return new HttpError(error.status, error.code, error.detail, where, error.retryAfterSeconds)
  if (error instanceof ConnectionError) return new ConnectionError(`${error.message} (${where})`, error.code)
  if (error instanceof CliError) return new CliError(`${error.message} (${where})`, error.exitCode)
  return error
}

/** Runs `summarize --jsonl`; resolves with the exit code (errors are thrown to main). */
export async function summarizeJsonl (gateway: Gateway, options: JsonlOptions, ctx: CliContext): Promise<number> {
  const { command, concurrency, request } = options
  const input = await openJsonl(options.source, '--jsonl', ctx.stdin, command)
  if (options.source === '-' && isTTY(ctx.stdin)) ctx.err.write('reading {"id","text"} lines from stdin; end with Ctrl-D\n')

  const writer = new LineWriter(ctx.out)
  const window: Slot[] = []
  let lines = 0
  let written = 0
  let failed = 0
  const started = performance.now()

  /** Waits for the oldest slot and writes its line (or ends the run). */
  const writeOldest = async (): Promise<void> => {
    const slot = window.shift()
    if (slot === undefined) return
    const outcome = await slot.outcome
    if (outcome.kind === 'abort') throw abortError(outcome.error, slot, written)
    const line = outcome.kind === 'summary'
      ? { id: slot.id, summary: outcome.summary }
      : { id: slot.id, error: { code: outcome.code, message: outcome.message } }
    if (outcome.kind === 'failed') failed++
    written++
    await writer.write(JSON.stringify(line) + '\n')
  }

  try {
    try {
      for await (const item of jsonLines(input, command)) {
        const record = textRecord(item, input.label, command)
        lines++
        while (window.length >= concurrency) await writeOldest()
        if (writer.failure !== undefined) break
        const body = { text: record.text, ...request }
        window.push({ id: record.id, line: record.line, outcome: summarizeOne(gateway, body) })
      }
    } catch (error) {
      // A bad input line: the lines before it were sent, so their results are written first
      // (the output stays a prefix of the input) unless one of them ends the run itself.
      if (!(error instanceof UsageError)) throw error
      while (window.length > 0 && writer.failure === undefined) await writeOldest()
      throw error
    }
    while (window.length > 0 && writer.failure === undefined) await writeOldest()
  } finally {
    // nothing in flight outlives the command (slot outcomes never reject)
    await Promise.all(window.map(async (slot) => await slot.outcome))
    writer.close()
  }

  // a closed stdout (`| head`) ends a pipeline; anything else was already reported by main's guard
  if (writer.failure !== undefined) return writer.failure.code === 'EPIPE' ? (failed > 0 ? EXIT_FAILURE : EXIT_OK) : EXIT_FAILURE
  if (lines === 0) throw new UsageError(`${input.label} has no lines to summarize`, command)

  const seconds = (performance.now() - started) / 1000
  const summaries = written - failed
  const rate = seconds > 0 ? summaries / seconds : 0
  ctx.err.write(`${summaries} summaries in ${seconds.toFixed(1)} s (${rate.toFixed(1)}/s), ${failed} failed\n`)
  return failed > 0 ? EXIT_FAILURE : EXIT_OK
}
