// Runs the local stack's Batch Transform jobs: what a fleet of transform instances running a
// JumpStart text2text container would do, in-process.
//
// A job reads every input object (in key order) as a stream of JSON-lines records
// `{"id", "text_inputs", ...per-record params}` (the record's params are used only when the job
// sets no HYPER_PARAMS, JumpStart's rule), groups consecutive records with the same
// effective parameters into mini-batches (at most HYPER_PARAMS batch_size records and
// MaxPayloadInMB of payload), runs each through the extractive engine with the runtime's
// emulated latency, and appends one Python-literal line per record, in input order, to a local
// spool. After each committed mini-batch a checkpoint (input byte offset, spool byte offset)
// is persisted; once every object is done the spools are uploaded as `<input>.out` and only
// then is the job Completed. A restart resumes from the checkpoint, truncating the spool to it,
// so every record appears in the output exactly once.
//
// Nothing but `<input>.out` objects is written under S3OutputPath, as on AWS: the runner's own
// progress (records processed of the total) lives in its checkpoint, under the data directory.
//
// This file is the life cycle (run, stop, close, crash, resume; the ordered commit; the upload).
// Its parts: job-settings.ts (the job definition read as the container reads it),
// job-progress.ts (the checkpoint: the plan and its steps), mini-batches.ts (which records share
// a model call, pure), job-records.ts (a record through DataProcessing and the model's
// container) and container.ts / tgi-container.ts (the emulated containers, shared with the
// runtime). A model whose image is TGI's runs the emulated TGI container, one per job run.

import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { BatchSizeLog, errorName, faultPattern, truncateReason, type Outcome } from './container.js'
import { callJobModel, readJobRecord, type JobInputRecord } from './job-records.js'
import { TgiContainer } from './tgi-container.js'
import { isBlank, openInput, RecordTooLargeError, splitResumableLines } from './job-input.js'
import { commitBatch, initialCheckpoint, nextFile, redoFile } from './job-progress.js'
import { jobSettings, JobFailure, type Settings } from './job-settings.js'
import { CoalescingWriter, type JobCheckpoint, type JobRecord, type JobStore, type PlannedFile } from './job-store.js'
import { failedBatch, MiniBatchPlanner, type Batch } from './mini-batches.js'

/** How long a stopped job stays Stopping before it is Stopped (ms): AWS shows both states. */
export const DEFAULT_STOPPING_MS = 1000

/** Part size of the multipart upload of a `.out` (bytes); smaller outputs go up in one PutObject. */
export const DEFAULT_UPLOAD_PART_BYTES = 8 * 1024 * 1024

/** What SageMaker reports for a failure that is not the customer's. */
export const INTERNAL_FAILURE_REASON = 'InternalServerError: We encountered an internal error. Please try again.'

/** Knobs of the job runner; the latency and fault knobs are the runtime's (LOCAL_*). */
export interface JobRunnerOptions {
  store: JobStore
  s3: S3Client
  /** ms per model call. */
  latencyBaseMs?: number
  /** ms per record of a model call. */
  latencyPerItemMs?: number
  /** Regex source: a record whose text matches it fails (and so fails its job), as the runtime's ModelError. */
  faultModelErrorPattern?: string
  /** ms a stopped job stays Stopping before it is Stopped; default DEFAULT_STOPPING_MS. */
  stoppingMs?: number
  uploadPartBytes?: number
  /** Clock for job timestamps (ms since the epoch). */
  now?: () => number
}

/** Counters for tests and benchmarks. */
export interface JobRunnerStats {
  /** Model calls (mini-batches) made, whatever their outcome. */
  modelCalls: number
  /** Records sent to the model. */
  records: number
  /** Records per model call, in call order (the last 100,000). */
  batchSizes: number[]
  /** Most model calls in flight at once. */
  maxInFlight: number
}

type AbortReason = 'stop' | 'close' | 'crash'

interface Run {
  key: string
  controller: AbortController
  reason?: AbortReason
  done: Promise<void>
}

/** Everything one run of one job shares. */
interface RunContext {
  name: string
  cp: JobCheckpoint
  settings: Settings
  signal: AbortSignal
  /** The job's TGI container when its model runs TGI (its permits are the job's). */
  tgi: TgiContainer | undefined
  cpWriter: CoalescingWriter
  /** First error of a background checkpoint write; the next commit rethrows it. */
  checkpointError?: unknown
}

/** An error reading an input object (as opposed to one raised while processing its records). */
class InputReadError extends Error {
  override readonly name = 'InputReadError'
  constructor (readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original))
  }
}

/** Re-throws the source's own errors as InputReadError (RecordTooLargeError passes through). */
async function * guardInput<T> (source: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    for await (const item of source) yield item
  } catch (err) {
    throw err instanceof RecordTooLargeError ? err : new InputReadError(err)
  }
}

/** Runs, stops and resumes transform jobs over a JobStore. */
export class JobRunner {
  private readonly store: JobStore
  private readonly s3: S3Client
  private readonly latencyBaseMs: number
  private readonly latencyPerItemMs: number
  private readonly poison: RegExp | undefined
  private readonly stoppingMs: number
  /** Aborted on close or crash: a job waiting out its Stopping time stays Stopping (resumed later). */
  private readonly lifetime = new AbortController()
  private readonly uploadPartBytes: number
  private readonly now: () => number
  private readonly runs = new Map<string, Run>()
  private closed = false
  private counters: Omit<JobRunnerStats, 'batchSizes'> = { modelCalls: 0, records: 0, maxInFlight: 0 }
  private readonly batchSizes = new BatchSizeLog()
  private inFlight = 0

  constructor (options: JobRunnerOptions) {
    this.store = options.store
    this.s3 = options.s3
    this.latencyBaseMs = options.latencyBaseMs ?? 0
    this.latencyPerItemMs = options.latencyPerItemMs ?? 0
    this.poison = faultPattern(options.faultModelErrorPattern)
    this.stoppingMs = options.stoppingMs ?? DEFAULT_STOPPING_MS
    this.uploadPartBytes = options.uploadPartBytes ?? DEFAULT_UPLOAD_PART_BYTES
    this.now = options.now ?? Date.now
  }

  /** Counters since start or the last resetStats(). */
  stats (): JobRunnerStats {
    return { ...this.counters, batchSizes: this.batchSizes.list() }
  }

  /** Zeroes the counters. */
  resetStats (): void {
    this.counters = { modelCalls: 0, records: 0, maxInFlight: this.inFlight }
    this.batchSizes.clear()
  }

  /** True while the job is being worked on by this runner. */
  isRunning (name: string): boolean {
    return this.runs.has(name.toLowerCase())
  }

  /** Resolves once no job is running (tests, shutdown). */
  async idle (): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()].map(async (r) => await r.done))
  }

  /** Starts (or resumes from its checkpoint) an InProgress job in the background. */
  run (name: string): void {
    const key = name.toLowerCase()
    if (this.closed || this.runs.has(key)) return
    const run: Run = { key, controller: new AbortController(), done: Promise.resolve() }
    this.runs.set(key, run)
    // A failure to even record the outcome (disk gone) leaves the job InProgress on disk: the
    // next start resumes it, which is all a crashed process could offer either.
    run.done = this.execute(run).catch(() => {}).finally(() => { this.runs.delete(key) })
  }

  /**
   * Stops a job the control plane has marked Stopping: aborts its model calls at once and marks
   * it Stopped (no output is written). Resolves when the job is Stopped.
   */
  async stop (name: string): Promise<void> {
    const run = this.runs.get(name.toLowerCase())
    if (run === undefined) {
      if (this.store.get(name)?.status === 'Stopping') await this.finishStopped(name, undefined)
      return
    }
    run.reason ??= 'stop'
    run.controller.abort(new Error('StopTransformJob'))
    await run.done
  }

  /**
   * Shuts down: aborts every running job at its next await, persists its checkpoint and leaves
   * it InProgress, so the next runner over the same data directory resumes it.
   */
  async close (): Promise<void> {
    this.closed = true
    await this.abortAll('close')
    await this.store.settled()
  }

  /**
   * Abandons every job as a killed process would: nothing more is written to disk or S3 from
   * the moment this is called (tests of crash recovery).
   */
  async crash (): Promise<void> {
    this.closed = true
    this.store.freeze()
    await this.abortAll('crash')
  }

  private async abortAll (reason: AbortReason): Promise<void> {
    this.lifetime.abort(new Error(`runner ${reason}`))
    const runs = [...this.runs.values()]
    for (const run of runs) {
      run.reason ??= reason
      run.controller.abort(new Error(`runner ${reason}`))
    }
    await Promise.all(runs.map(async (r) => await r.done))
  }

  private async execute (run: Run): Promise<void> {
    const name = run.key
    let checkpoint: JobCheckpoint | undefined
    try {
      await this.process(run, (cp) => { checkpoint = cp })
    } catch (err) {
      if (run.reason === 'crash') return
      if (run.reason === 'close') return
      if (run.reason === 'stop') {
        await this.finishStopped(name, checkpoint)
        return
      }
      const reason = err instanceof JobFailure ? err.message : INTERNAL_FAILURE_REASON
      await this.finish(name, { status: 'Failed', failureReason: reason }, checkpoint)
    }
  }

  /**
   * Marks a job Stopped after its Stopping time, deleting any `.out` already uploaded (a stopped
   * job keeps no output). Closed or crashed meanwhile, the job stays Stopping and the next
   * runner finishes it.
   */
  private async finishStopped (name: string, checkpoint: JobCheckpoint | undefined): Promise<void> {
    if (this.stoppingMs > 0) {
      try {
        await sleep(this.stoppingMs, undefined, { signal: this.lifetime.signal })
      } catch {
        return
      }
    }
    if (checkpoint?.phase === 'uploading') {
      await Promise.all(checkpoint.files.map(async (f) => {
        await this.s3.send(new DeleteObjectCommand({ Bucket: checkpoint.outBucket, Key: f.outKey })).catch(() => {})
      }))
    }
    await this.finish(name, { status: 'Stopped' }, checkpoint)
  }

  private async finish (name: string, patch: Pick<JobRecord, 'status' | 'failureReason'>, checkpoint: JobCheckpoint | undefined): Promise<void> {
    if (this.store.isFrozen) return
    const now = this.now()
    await this.store.update(name, { ...patch, endedAt: now, modifiedAt: now })
    await this.store.removeWorkFiles(name)
  }

  /** Does the job's work; returns once it is Completed, throws on failure or abort. */
  private async process (run: Run, expose: (cp: JobCheckpoint) => void): Promise<void> {
    const name = run.key
    const signal = run.controller.signal
    const record = this.store.get(name)
    if (record === undefined) throw new Error(`no job ${name}`)
    if (record.startedAt === undefined) {
      const now = this.now()
      await this.store.update(name, { startedAt: now, modifiedAt: now })
    }
    const settings = jobSettings(record)

    let checkpoint = await this.store.readCheckpoint(name)
    if (checkpoint === undefined) {
      checkpoint = await initialCheckpoint(this.s3, record, settings, signal)
      signal.throwIfAborted()
      await this.store.writeCheckpoint(name, checkpoint)
    }
    const cp = checkpoint
    expose(cp)
    const cpWriter = new CoalescingWriter(async () => { await this.store.writeCheckpoint(name, cp) })
    const tgi = settings.tgi === undefined ? undefined : new TgiContainer({ ...settings.tgi, fault: this.poison })
    const ctx: RunContext = { name, cp, settings, signal, tgi, cpWriter }
    try {
      while (cp.phase === 'running' && cp.fileIndex < cp.files.length) {
        await this.processFile(ctx)
        signal.throwIfAborted()
        nextFile(cp)
        await cpWriter.flush()
      }
      if (cp.phase === 'running') {
        cp.phase = 'uploading'
        await cpWriter.flush()
      }
      for (let i = 0; i < cp.files.length; i++) {
        await this.upload(name, i, cp, settings, signal)
      }
      signal.throwIfAborted()
      if (this.store.isFrozen) return
      if (this.store.get(name)?.status !== 'InProgress') throw new Error('the job is no longer InProgress')
      const now = this.now()
      // No await between the checks above and this synchronous status change, so a concurrent
      // StopTransformJob either wins (Stopping) or sees Completed.
      await this.store.update(name, { status: 'Completed', endedAt: now, modifiedAt: now })
      await this.store.removeWorkFiles(name)
    } finally {
      await cpWriter.settled()
    }
  }

  private async openSpool (path: string): Promise<FileHandle> {
    try {
      return await open(path, 'r+')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      return await open(path, 'w+')
    }
  }

  /** Streams one input object from the checkpoint on, committing mini-batches in input order. */
  private async processFile (ctx: RunContext): Promise<void> {
    const { cp, settings, signal } = ctx
    const file = cp.files[cp.fileIndex]
    const uri = `s3://${file.bucket}/${file.key}`
    const spool = await this.openSpool(this.store.spoolPath(ctx.name, cp.fileIndex))
    try {
      if ((await spool.stat()).size < cp.outputOffset) {
        // The spool lost bytes the checkpoint vouched for (the host lost its page cache):
        // redo this object from its start rather than trust either.
        redoFile(cp)
      }
      if (!this.store.isFrozen) await spool.truncate(cp.outputOffset)

      // Dispatched mini-batches in input order; at most `concurrency` of them are in flight.
      const queue: Array<{ batch: Batch<JobInputRecord>, outcome: Promise<Outcome> }> = []
      const commit = async (): Promise<void> => {
        const head = queue.shift()
        if (head === undefined) return
        const outcome = await head.outcome
        if ('failure' in outcome) throw new JobFailure(outcome.failure)
        signal.throwIfAborted()
        if (ctx.checkpointError !== undefined) throw ctx.checkpointError
        if (this.store.isFrozen) throw new Error('the job store is frozen')
        const data = Buffer.from(outcome.lines.map((l) => l + settings.separator).join(''))
        if (data.length > 0) await spool.write(data, 0, data.length, cp.outputOffset)
        // One synchronous step, so a checkpoint snapshot never sees half of it.
        commitBatch(cp, head.batch, data.length)
        ctx.cpWriter.flush().catch((err: unknown) => { ctx.checkpointError ??= err })
      }
      const dispatch = async (batch: Batch<JobInputRecord>): Promise<void> => {
        const outcome = batch.failure !== undefined ? Promise.resolve({ failure: batch.failure }) : this.callModel(batch, uri, ctx)
        // Later entries are awaited only once they reach the head; mark them handled meanwhile.
        outcome.catch(() => {})
        queue.push({ batch, outcome })
        while (queue.length >= settings.concurrency) await commit()
      }

      const input = await this.openFile(file, cp, settings, signal)
      const onAbort = (): void => { input.destroy() }
      signal.addEventListener('abort', onAbort, { once: true })
      const planner = new MiniBatchPlanner<JobInputRecord>(settings)
      // a record that fails before the model: its batch goes last, after those before it
      let failure: { reason: string, line: number } | undefined
      try {
        const lines = guardInput(splitResumableLines(input.stream, {
          sourceStart: input.sourceStart,
          start: cp.inputOffset,
          startLine: cp.inputLine,
          maxLineBytes: settings.maxPayloadBytes,
          whole: settings.splitWhole
        }))
        for await (const line of lines) {
          if (isBlank(line.text)) continue
          const parsed = readJobRecord(line.text, line.line, uri, settings)
          if (typeof parsed === 'string') {
            failure = { reason: parsed, line: line.line }
            break
          }
          const closed = planner.add(parsed, line.end)
          if (closed !== undefined) await dispatch(closed)
        }
      } catch (err) {
        signal.throwIfAborted()
        if (err instanceof RecordTooLargeError) {
          failure = {
            line: err.line,
            reason: truncateReason(`ClientError: Too much data for max payload size: line ${err.line} of ${uri} is larger than ` +
            `MaxPayloadInMB (${settings.maxPayloadBytes / (1024 * 1024)} MB). Split the record or raise MaxPayloadInMB.`)
          }
        } else if (err instanceof InputReadError) {
          throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err.original)}: ${err.message} (${uri})`))
        } else {
          throw err
        }
      } finally {
        signal.removeEventListener('abort', onAbort)
        input.destroy()
      }
      const rest = planner.take()
      if (rest !== undefined) await dispatch(rest)
      if (failure !== undefined) await dispatch(failedBatch<JobInputRecord>(failure.reason, cp.inputOffset, failure.line))
      while (queue.length > 0) await commit()
      await ctx.cpWriter.flush()
    } finally {
      await spool.close()
    }
  }

  private async openFile (file: PlannedFile, cp: JobCheckpoint, settings: Settings, signal: AbortSignal): ReturnType<typeof openInput> {
    try {
      return await openInput(this.s3, file, { gzip: settings.gzip, from: cp.inputOffset, signal })
    } catch (err) {
      signal.throwIfAborted()
      throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err)}: ${(err as Error).message} (s3://${file.bucket}/${file.key})`))
    }
  }

  /** One model call, counted: the shared container does the work. Rejects only on abort. */
  private async callModel (batch: Batch<JobInputRecord>, uri: string, ctx: RunContext): Promise<Outcome> {
    const n = batch.records.length
    this.counters.modelCalls++
    this.counters.records += n
    this.batchSizes.push(n)
    this.inFlight++
    if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight
    try {
      return await callJobModel(batch, uri, ctx.settings, { delayMs: this.latencyBaseMs + this.latencyPerItemMs * n, fault: this.poison, signal: ctx.signal, tgi: ctx.tgi })
    } finally {
      this.inFlight--
    }
  }

  /** Uploads file i's spool as its `.out` (multipart past the part size). */
  private async upload (name: string, i: number, cp: JobCheckpoint, settings: Settings, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.store.isFrozen) throw new Error('store frozen')
    const file = cp.files[i]
    const body = createReadStream(this.store.spoolPath(name, i))
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: cp.outBucket, Key: file.outKey, Body: body, ContentType: settings.accept },
      partSize: this.uploadPartBytes,
      queueSize: 2
    })
    const onAbort = (): void => { void upload.abort().catch(() => {}) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await upload.done()
    } catch (err) {
      signal.throwIfAborted()
      throw new JobFailure(truncateReason(`ClientError: Failed to upload data to s3://${cp.outBucket}/${file.outKey}. ${errorName(err)}: ${(err as Error).message}`))
    } finally {
      signal.removeEventListener('abort', onAbort)
      body.destroy()
    }
  }
}
