// The emulated JumpStart text2text container, shared by the local runtime (one InvokeEndpoint
// payload) and the job runner (the mini-batches of a transform job): how it reads a request or
// a record, the injected fault (LOCAL_FAULT_MODEL_ERROR_PATTERN), one model call through the
// extractive engine, and the bounded record of batch sizes both report in their stats. It knows
// nothing of the front doors: the runtime and the job runner turn its refusals into their own
// AWS answers (a ModelError, a job's FailureReason).

import { setTimeout as sleep } from 'node:timers/promises'
import { countInputs, generate, generateSequences, ModelInputError, parseGenerateRequest, summarize } from './engine.js'
import { toPythonLiteral } from '../sagemaker/python-literal.js'

/** Most recent batch sizes kept by the stats; bounds memory of a long-running local gateway. */
export const MAX_RECORDED_BATCHES = 100_000

/** FailureReason's limit in SageMaker. */
const MAX_FAILURE_REASON = 1024

/** The prefix SageMaker puts on failures caused by the customer's data or container. */
const CLIENT_ERROR = 'ClientError: See job logs for more information.'

// ---- the fault, the counters ---------------------------------------------------------------

/** The fault pattern from its regex source; undefined when none is set. */
export function faultPattern (source: string | undefined): RegExp | undefined {
  // No flags: a 'g' or 'y' regex would carry lastIndex between inputs.
  return source === undefined || source === '' ? undefined : new RegExp(source)
}

/** Why an input that matches the fault pattern fails, in the words both front doors use. */
export function faultMatchText (pattern: RegExp): string {
  return `it matches the fault pattern /${pattern.source}/ (LOCAL_FAULT_MODEL_ERROR_PATTERN)`
}

/** Items per model call in call order, the last MAX_RECORDED_BATCHES of them. */
export class BatchSizeLog {
  private sizes: number[] = []

  /** Records one call of `n` items. */
  push (n: number): void {
    this.sizes.push(n)
    // Trim in bulk (amortised O(1) per push); list() shows the last MAX_RECORDED_BATCHES.
    if (this.sizes.length >= 2 * MAX_RECORDED_BATCHES) this.sizes = this.sizes.slice(-MAX_RECORDED_BATCHES)
  }

  /** A copy of the last MAX_RECORDED_BATCHES sizes. */
  list (): number[] {
    return this.sizes.slice(-MAX_RECORDED_BATCHES)
  }

  clear (): void {
    this.sizes = []
  }
}

// ---- real time: one InvokeEndpoint payload -------------------------------------------------

/**
 * The container refused a request: the status and message SageMaker wraps in a ModelError.
 * `body` is the container's own body when it is not the toolkit's `{"code","type","message"}`
 * (TGI's `{"error","error_type"}`, axum's plain text).
 */
export class ContainerRefusal extends Error {
  override readonly name = 'ContainerRefusal'
  constructor (readonly status: number, message: string, readonly body?: string) {
    super(message)
  }
}

/** One payload as the runtime hands it to the container. */
export interface ContainerRequest {
  contentType: string | undefined
  accept: string | undefined
  body: Buffer
}

/** The container's answer to one payload. */
export interface ContainerAnswer {
  body: Buffer
  contentType: string
}

/** The media type of a Content-Type/Accept entry, lower-cased, without parameters. */
export function mediaType (value: string): string {
  return value.split(';')[0].trim().toLowerCase()
}

/** Content-Type of the answer for an Accept header, or undefined if the container cannot produce it. */
function negotiate (accept: string | undefined): string | undefined {
  if (accept === undefined || accept.trim() === '') return 'application/json'
  for (const range of accept.split(',')) {
    const type = mediaType(range)
    if (type === 'application/json') return range.trim()
    if (type === '*/*' || type === 'application/*') return 'application/json'
  }
  return undefined
}

/**
 * Reads one payload: content negotiation, parsing, poisoned inputs, generation. Split in two so
 * the item count (which sets the emulated latency) is known before the answer is produced;
 * `run` throws ContainerRefusal for what the container answers 4xx.
 */
export function readPayload (input: ContainerRequest, fault: RegExp | undefined): { items: number, run: () => ContainerAnswer } {
  const type = input.contentType === undefined ? '' : mediaType(input.contentType)
  const answerType = negotiate(input.accept)
  const text = input.body.toString('utf8')
  let payload: unknown
  let n = 0
  let parseProblem: string | undefined
  if (type === 'application/json') {
    try {
      payload = JSON.parse(text)
      n = countInputs(payload)
    } catch (err) {
      parseProblem = `Request body is not valid JSON: ${(err as Error).message}`
    }
  } else if (type === 'application/x-text') {
    payload = text
    n = 1
  }
  const run = (): ContainerAnswer => {
    if (type !== 'application/json' && type !== 'application/x-text') {
      throw new ContainerRefusal(415, `Content type ${input.contentType ?? '(none)'} is not supported; use application/json or application/x-text`)
    }
    if (answerType === undefined) {
      throw new ContainerRefusal(406, `Accept type ${input.accept ?? ''} is not supported; use application/json`)
    }
    if (parseProblem !== undefined) throw new ContainerRefusal(400, parseProblem)
    const inputs = typeof payload === 'string'
      ? [payload]
      : (() => {
          const raw = (payload as { text_inputs?: unknown } | null)?.text_inputs
          return typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : []
        })()
    if (fault !== undefined) {
      const hit = inputs.findIndex((item) => typeof item === 'string' && fault.test(item))
      if (hit >= 0) throw new ContainerRefusal(400, `text_inputs[${hit}] cannot be processed: ${faultMatchText(fault)}`)
    }
    try {
      const answer = typeof payload === 'string'
        ? { generated_text: text.trim() === '' ? '' : summarize(text)[0] }
        : generate(payload)
      return { body: Buffer.from(JSON.stringify(answer)), contentType: answerType }
    } catch (err) {
      if (err instanceof ModelInputError) throw new ContainerRefusal(err.statusCode, err.message)
      throw err
    }
  }
  return { items: n, run }
}

// ---- batch transform: records and mini-batches ---------------------------------------------

/** A `ClientError` FailureReason, trimmed to SageMaker's 1024 characters. */
export function clientFailure (detail: string): string {
  return truncateReason(`${CLIENT_ERROR} ${detail}`)
}

/** A FailureReason cut to SageMaker's 1024 characters. */
export function truncateReason (text: string): string {
  return text.length <= MAX_FAILURE_REASON ? text : text.slice(0, MAX_FAILURE_REASON - 3) + '...'
}

/** An error's name for a FailureReason (`NoSuchKey: ...`). */
export function errorName (err: unknown): string {
  return err instanceof Error ? err.name : 'Error'
}

/** One record of a transform job's input, as the container read it. */
export interface ContainerRecord {
  id: unknown
  hasId: boolean
  input: string | string[]
  params: Record<string, unknown>
  line: number
}

/** Which parameters a record is generated with (the job's HYPER_PARAMS, JumpStart's rule). */
export interface RecordParameters {
  /** HYPER_PARAMS minus batch_size: generation parameters for every record. */
  hyper: Record<string, unknown>
  /** HYPER_PARAMS is set: then the parameters inside individual records are not used. */
  hyperSet: boolean
}

/** How one model call ended: a line per record, or the job's FailureReason. */
export type Outcome = { lines: string[] } | { failure: string }

function describeId (record: ContainerRecord): string {
  if (!record.hasId) return 'without id'
  try {
    return `id ${toPythonLiteral(record.id)}`
  } catch {
    return `id ${String(record.id)}`
  }
}

/** A record, or a FailureReason for a line the container cannot read. */
export function parseRecord (text: string, line: number, uri: string, settings: RecordParameters): ContainerRecord | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return clientFailure(`Line ${line} of ${uri} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return clientFailure(`Line ${line} of ${uri} is not a JSON object.`)
  }
  const { id, text_inputs: input, ...own } = value as Record<string, unknown>
  // JumpStart's rule: with HYPER_PARAMS set, a record's own parameters are not used
  const params: Record<string, unknown> = settings.hyperSet ? { ...settings.hyper } : own
  const record: ContainerRecord = { id, hasId: Object.hasOwn(value, 'id'), input: input as string | string[], params, line }
  try {
    // The container's own validation, one record at a time, so a bad record is named.
    parseGenerateRequest({ text_inputs: input, ...params })
  } catch (err) {
    if (err instanceof ModelInputError) {
      return clientFailure(`Record ${describeId(record)} (line ${line} of ${uri}): ${err.message}`)
    }
    throw err
  }
  return record
}

/**
 * One model call over records that share `params`: `delayMs` of emulated latency, then the
 * fault pattern, then the engine; a Python-literal output line per record. Rejects only on abort.
 */
export async function callModel (batch: { params: Record<string, unknown>, records: ContainerRecord[] }, uri: string, options: {
  delayMs: number
  fault: RegExp | undefined
  signal: AbortSignal
}): Promise<Outcome> {
  const { signal, fault } = options
  if (options.delayMs > 0) await sleep(options.delayMs, undefined, { signal })
  signal.throwIfAborted()
  if (fault !== undefined) {
    const hit = batch.records.find((r) => (typeof r.input === 'string' ? [r.input] : r.input).some((t) => fault.test(t)))
    if (hit !== undefined) {
      return { failure: clientFailure(`Record ${describeId(hit)} (line ${hit.line} of ${uri}): the model failed on this input: ${faultMatchText(fault)}.`) }
    }
  }
  const single = typeof batch.records[0].input !== 'string'
  const payload = { ...batch.params, text_inputs: single ? batch.records[0].input : batch.records.map((r) => r.input as string) }
  // per record: its generated texts (a record whose text_inputs is a list: one list per input)
  let texts: Array<string[] | string[][]>
  try {
    const answer = generateSequences(payload)
    texts = single ? [answer] : answer
  } catch (err) {
    if (!(err instanceof ModelInputError)) throw err
    const index = /text_inputs\[(\d+)\]/.exec(err.message)
    const record = batch.records[index === null ? 0 : Number(index[1])] ?? batch.records[0]
    return { failure: clientFailure(`Record ${describeId(record)} (line ${record.line} of ${uri}): ${err.message}`) }
  }
  const lines = batch.records.map((r, i) => {
    const generated = texts[i]
    return toPythonLiteral(r.hasId ? { id: r.id, generated_texts: generated } : { generated_texts: generated })
  })
  return { lines }
}
