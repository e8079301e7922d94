// One record of a local transform job on its way through SageMaker's DataProcessing and the
// model's container: read (InputFilter applied before the container), sent (JumpStart's list
// container through container.ts, or one request body to the emulated TGI container), and its
// output line written (JoinSource and OutputFilter after). See data-processing.ts for the rules
// and the AWS pages they come from.
//
// A container's refusal of a record fails the job, naming the record: SageMaker marks a job
// Failed when an input file holds a bad record, and writes no output for that file ("Batch
// Transform Errors", https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html#batch-transform-errors).
// TGI answers 4xx for a record it cannot take (422 validation, 424 generation, 415, 400); the
// same request sent again gets the same answer, so no retry is emulated.

import { setTimeout as sleep } from 'node:timers/promises'
import { parsePythonLiteral } from '../sagemaker/python-literal.js'
import { callModel, clientFailure, parseRecord, type ContainerRecord, type Outcome } from './container.js'
import { assembleOutput, isIdentity, JsonPathError, selectPath } from './data-processing.js'
import type { Settings } from './job-settings.js'
import type { TgiContainer } from './tgi-container.js'

/** A record as the job holds it: what the container reads, and the input line it came from for JoinSource. */
export interface JobInputRecord extends ContainerRecord {
  /** The input line parsed, when DataProcessing needs it (a filter or a join). */
  source?: unknown
}

/** Longest piece of a container's error body quoted in a FailureReason (characters). */
const QUOTED_BODY = 300

function describeRecord (record: { hasId: boolean, id: unknown, line: number }, uri: string): string {
  const id = record.hasId ? `id ${JSON.stringify(record.id) ?? String(record.id)}` : 'without id'
  return `Record ${id} (line ${record.line} of ${uri})`
}

function idOf (value: unknown): { id: unknown, hasId: boolean } {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
  return isObject && Object.hasOwn(value, 'id') ? { id: (value as { id: unknown }).id, hasId: true } : { id: undefined, hasId: false }
}

/**
 * One input line as the job's container will see it, or the job's FailureReason. Lines are
 * parsed only when DataProcessing needs them: otherwise a TGI record is sent as written.
 */
export function readJobRecord (text: string, line: number, uri: string, settings: Settings): JobInputRecord | string {
  const dp = settings.dataProcessing
  let source: unknown
  let body = text
  if (!isIdentity(dp)) {
    try {
      source = JSON.parse(text)
    } catch (err) {
      return clientFailure(`Line ${line} of ${uri} is not valid JSON, which DataProcessing needs: ${(err as Error).message}`)
    }
    if (dp.inputFilter.steps.length > 0) {
      try {
        body = JSON.stringify(selectPath(dp.inputFilter, source))
      } catch (err) {
        if (!(err instanceof JsonPathError)) throw err
        return clientFailure(`${describeRecord({ ...idOf(source), line }, uri)}: InputFilter ${dp.inputFilter.source} cannot be applied: ${err.message}.`)
      }
    }
  }
  if (settings.tgi !== undefined) {
    let ids = idOf(source)
    if (source === undefined) {
      try {
        ids = idOf(JSON.parse(text))
      } catch {
        // TGI itself says what is wrong with the body
      }
    }
    return { ...ids, input: body, params: {}, line, ...(source !== undefined ? { source } : {}) }
  }
  const record = parseRecord(body, line, uri, settings)
  if (typeof record === 'string') return record
  return source !== undefined ? { ...record, source } : record
}

/** The body a container wrote, whole. */
async function collect (chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts).toString('utf8')
}

/** One output line per record: the container's answer through JoinSource and OutputFilter, as JSON; or the job's FailureReason. */
function assemble (settings: Settings, records: JobInputRecord[], outputs: unknown[], uri: string): Outcome {
  const lines: string[] = []
  for (const [i, record] of records.entries()) {
    try {
      lines.push(JSON.stringify(assembleOutput(settings.dataProcessing, record.source, outputs[i])))
    } catch (err) {
      if (!(err instanceof JsonPathError)) throw err
      return { failure: clientFailure(`${describeRecord(record, uri)}: OutputFilter ${settings.dataProcessing.outputFilter.source} cannot be applied to the joined output: ${err.message}.`) }
    }
  }
  return { lines }
}

/** Options of one model call. */
export interface CallOptions {
  delayMs: number
  fault: RegExp | undefined
  signal: AbortSignal
  /** The job's TGI container, when the model runs TGI. */
  tgi: TgiContainer | undefined
}

/** One request to the TGI container: the batch's bodies joined by newlines (SageMaker's MultiRecord for SplitType Line). */
async function callTgi (tgi: TgiContainer, batch: { records: JobInputRecord[] }, uri: string, settings: Settings, options: CallOptions): Promise<Outcome> {
  if (options.delayMs > 0) await sleep(options.delayMs, undefined, { signal: options.signal })
  const first = batch.records[0]
  const answer = await tgi.invoke(settings.contentType, Buffer.from(batch.records.map((r) => r.input as string).join('\n')), options.signal)
  const body = await collect(answer.chunks)
  options.signal.throwIfAborted()
  if (answer.status !== 200) {
    const quoted = body.length > QUOTED_BODY ? `${body.slice(0, QUOTED_BODY)}...` : body
    return { failure: clientFailure(`${describeRecord(first, uri)}: the model container answered ${answer.status}: ${quoted}`) }
  }
  if (isIdentity(settings.dataProcessing)) return { lines: [body] }
  let output: unknown
  try {
    output = JSON.parse(body)
  } catch {
    return { failure: clientFailure(`${describeRecord(first, uri)}: the model's output is not JSON, which JoinSource and OutputFilter need.`) }
  }
  return assemble(settings, batch.records, [output], uri)
}

/** One model call over a mini-batch, through the job's container and its DataProcessing. Rejects only on abort. */
export async function callJobModel (batch: { params: Record<string, unknown>, records: JobInputRecord[] }, uri: string, settings: Settings, options: CallOptions): Promise<Outcome> {
  if (options.tgi !== undefined) return await callTgi(options.tgi, batch, uri, settings, options)
  const outcome = await callModel(batch, uri, options)
  if ('failure' in outcome || isIdentity(settings.dataProcessing)) return outcome
  // the list container's own line for each record, joined as JSON
  return assemble(settings, batch.records, outcome.lines.map((l) => parsePythonLiteral(l)), uri)
}
