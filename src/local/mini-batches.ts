// Mini-batch planning for the local job runner: which consecutive records of a transform job
// share one model call. Pure (no S3, no clock, no I/O), so it is tested on its own.

import type { ContainerRecord } from './container.js'

/** Records that share one model call. */
export interface Batch<R extends ContainerRecord = ContainerRecord> {
  paramsKey: string
  params: Record<string, unknown>
  records: R[]
  /** Payload bytes the batch's inputs add to `{"text_inputs": [...]}`. */
  bytes: number
  /** Absolute input offset just past the batch's last record: where a resumed read starts. */
  endOffset: number
  endLine: number
  /** Set when the batch stands for a record that failed before reaching the model. */
  failure?: string
}

/** The bounds of one mini-batch: HYPER_PARAMS batch_size and MaxPayloadInMB, in bytes. */
export interface BatchLimits {
  batchSize: number
  maxPayloadBytes: number
}

/** Keys sorted, so two parameter objects with the same content share a mini-batch. */
export function canonical (params: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]))
}

/** A batch standing for a record that failed before reaching the model (its commit fails the job). */
export function failedBatch<R extends ContainerRecord> (failure: string, endOffset: number, endLine: number): Batch<R> {
  return { paramsKey: '', params: {}, records: [], bytes: 0, endOffset, endLine, failure }
}

/**
 * Groups consecutive records into mini-batches, in input order: records with the same
 * effective parameters, at most `batchSize` of them and `maxPayloadBytes` of inputs. A record
 * whose text_inputs is a list is a whole request of its own.
 */
export class MiniBatchPlanner<R extends ContainerRecord = ContainerRecord> {
  private current: Batch<R> | undefined

  constructor (private readonly limits: BatchLimits) {}

  /**
   * Adds `record`, which ends at absolute input offset `end`. Returns the batch it closed, if
   * any: that one goes to the model before the record's own.
   */
  add (record: R, end: number): Batch<R> | undefined {
    const paramsKey = canonical(record.params)
    const bytes = Buffer.byteLength(JSON.stringify(record.input)) + 1
    const batchable = typeof record.input === 'string'
    let closed: Batch<R> | undefined
    const open = this.current
    if (open !== undefined && (open.paramsKey !== paramsKey || !batchable ||
        typeof open.records[0].input !== 'string' ||
        open.records.length >= this.limits.batchSize ||
        open.bytes + bytes > this.limits.maxPayloadBytes)) {
      closed = open
      this.current = undefined
    }
    const batch: Batch<R> = this.current ?? { paramsKey, params: record.params, records: [], bytes: 0, endOffset: end, endLine: record.line }
    this.current = batch
    batch.records.push(record)
    batch.bytes += bytes
    batch.endOffset = end
    batch.endLine = record.line
    return closed
  }

  /** The batch still open, if any; the planner forgets it. */
  take (): Batch<R> | undefined {
    const open = this.current
    this.current = undefined
    return open
  }
}
