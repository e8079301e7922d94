/**
 * A batch's output and error lines, assembled from its transform jobs' results: pure over
 * async iterables, so it is tested without S3. Lines come in input order: each input line
 * takes the next result of its group's job (a job's results are in its input order, which is
 * the group's order in the file), so memory is one pending result per group.
 */
import { createHash } from 'node:crypto'
import type { ResultLine } from '../jobs/results.js'
import { chatCompletionObject, completionObject, toChoices, usageOf, type GenerationRequest } from './requests.js'
import type { BatchUrl } from './batch-lines.js'

/** One input line as the batch keeps it (lines.jsonl). */
export interface BatchLineRecord {
  custom_id: string
  /** Index of its group (and so of its transform job). */
  group: number
  request: GenerationRequest
}

/** A line of the output file. */
export interface OutputLine {
  id: string
  custom_id: string
  response: { status_code: number, request_id: string, body: Record<string, unknown> }
  error: null
}

/** A line of the error file. */
export interface ErrorLine {
  id: string
  custom_id: string
  response: null
  error: { code: string, message: string }
}

/** What a group contributes: its job's results in order and when they were made (s). */
export interface GroupResults {
  lines: AsyncIterator<ResultLine>
  created: number
}

const hash = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)

/** OpenAI's code for a results error code: a stopped job's lines were cancelled. */
export function errorCode (code: string): string {
  return code === 'JOB_STOPPED' ? 'batch_cancelled' : code.toLowerCase()
}

/**
 * Yields, for each line in input order, its output line or its error line. Ids are derived
 * from the batch id and custom_id, so every assembly of one batch (any replica, a retry) writes
 * the same bytes.
 */
export async function * assembleBatch (batchId: string, url: BatchUrl, lines: AsyncIterable<BatchLineRecord>, groups: readonly GroupResults[]): AsyncGenerator<OutputLine | ErrorLine> {
  const build = url === '/v1/chat/completions' ? chatCompletionObject : completionObject
  const prefix = url === '/v1/chat/completions' ? 'chatcmpl-' : 'cmpl-'
  for await (const line of lines) {
    const group = groups[line.group]
    const id = `batch_req_${hash(batchId, line.custom_id)}`
    if (group === undefined) throw new Error(`batch ${batchId}: line ${line.custom_id} names group ${line.group}, which has no job`)
    const next = await group.lines.next()
    if (next.done === true) {
      yield { id, custom_id: line.custom_id, response: null, error: { code: 'no_output', message: 'the transform job has no result for this request' } }
      continue
    }
    const result = next.value
    if (String(result.id) !== line.custom_id) {
      throw new Error(`batch ${batchId}: the job of group ${line.group} answered ${JSON.stringify(result.id)} where ${JSON.stringify(line.custom_id)} was expected`)
    }
    if ('error' in result) {
      yield { id, custom_id: line.custom_id, response: null, error: { code: errorCode(result.error.code), message: result.error.message } }
      continue
    }
    const requestId = `req_${hash(batchId, line.custom_id, 'request')}`
    const { request } = line
    let body: Record<string, unknown>
    try {
      // the real-time routes' builders: n choices, stop applied, usage
      const choices = toChoices([result.generated_texts], request.n, request.stop)
      body = { ...build({ id: prefix + hash(batchId, line.custom_id, 'body'), created: group.created, model: request.model }, choices, usageOf(request.inputs, choices)) }
    } catch (err) {
      yield { id, custom_id: line.custom_id, response: null, error: { code: 'invalid_output', message: (err as Error).message } }
      continue
    }
    yield { id, custom_id: line.custom_id, response: { status_code: 200, request_id: requestId, body }, error: null }
  }
}

/** OpenAI's batch statuses. */
export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled'

/** The job states SageMaker reports. */
export type JobState = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped'

/**
 * A batch's status from what is stored: the final status once its result is written; while any
 * job runs, in_progress (cancelling once cancelled); once every job has ended and until the
 * output files are written, finalizing.
 */
export function batchStatus (jobs: readonly JobState[], cancelled: boolean, final: 'completed' | 'cancelled' | 'failed' | undefined): BatchStatus {
  if (final !== undefined) return final
  const running = jobs.some(s => s === 'InProgress' || s === 'Stopping')
  if (running) return cancelled ? 'cancelling' : 'in_progress'
  return 'finalizing'
}

/** The final status once every job has ended: cancelled when asked, failed when no job completed, else completed. */
export function finalStatus (jobs: readonly JobState[], cancelled: boolean): 'completed' | 'cancelled' | 'failed' {
  if (cancelled) return 'cancelled'
  return jobs.length > 0 && jobs.every(s => s === 'Failed') ? 'failed' : 'completed'
}
