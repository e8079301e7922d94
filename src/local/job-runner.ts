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

import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { BatchSizeLog, callModel, clientFailure, faultPattern, parseRecord, truncateReason, type ContainerRecord, type Outcome } from './container.js'
import {
  countRecords, isBlank, listInputObjects, ManifestError, openInput, outputKey, RecordTooLargeError, splitResumableLines
} from './job-input.js'
import { parseSageMakerS3Uri } from '../sagemaker/s3-uri.js'
import { CoalescingWriter, type JobCheckpoint, type JobRecord, type JobStore, type PlannedFile } from './job-store.js'
import { parsePythonLiteral, toPythonLiteral, type PyValue } from '../sagemaker/python-literal.js'
import { DEFAULT_MAX_PAYLOAD_MB, MAX_PAYLOAD_MB } from '../sagemaker/rules.js'

/** How long a stopped job stays Stopping before it is Stopped (ms): AWS shows both states. */
export const DEFAULT_STOPPING_MS = 1000

/**
 * Content types JumpStart's text2text container reads in a transform job: each record a JSON
 * object (`{"text_inputs", ...}`). An absent ContentType is taken as application/json (an
 * assumption: the notebook and the gateway always set it).
 */
export const JOB_CONTENT_TYPES: readonly string[] = ['application/json', 'application/jsonlines']

/** Records per model call when HYPER_PARAMS has no batch_size. */
export const DEFAULT_BATCH_SIZE = 1

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

/** A job failure with SageMaker's FailureReason text. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure'
}

type AbortReason = 'stop' | 'close' | 'crash'

interface Run {
  key: string
  controller: AbortController
  reason?: AbortReason
  done: Promise<void>
}

/** Job-wide settings derived from the job definition. */
interface Settings {
  splitWhole: boolean
  gzip: boolean
  batchSize: number
  maxPayloadBytes: number
  concurrency: number
  separator: string
  accept: string
  /** HYPER_PARAMS minus batch_size: generation parameters for every record. */
  hyper: Record<string, PyValue>
  /**
   * HYPER_PARAMS is set: then, as in JumpStart's container, the parameters inside individual
   * records are not used; only without it are they (one example at a time).
   */
  hyperSet: boolean
}

/** Records that share one model call. */
interface Batch {
  paramsKey: string
  params: Record<string, unknown>
  records: ContainerRecord[]
  /** Payload bytes the batch's inputs add to `{"text_inputs": [...]}`. */
  bytes: number
  endOffset: number
  endLine: number
  /** Set when the batch stands for a record that failed before reaching the model. */
  failure?: string
}

/** Everything one run of one job shares. */
interface RunContext {
  name: string
  cp: JobCheckpoint
  settings: Settings
  signal: AbortSignal
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

function errorName (err: unknown): string {
  return err instanceof Error ? err.name : 'Error'
}

/** Keys sorted, so two parameter objects with the same content share a mini-batch. */
function canonical (params: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]))
}

/** Parses HYPER_PARAMS and the other settings; throws JobFailure for what the container would reject. */
function jobSettings (record: JobRecord): Settings {
  const spec = record.spec
  const input = spec.TransformInput
  const splitType = input.SplitType ?? 'None'
  if (splitType !== 'Line' && splitType !== 'None') {
    throw new JobFailure(clientFailure(`SplitType ${splitType} is not supported by this model container; use Line (JSON lines) or None.`))
  }
  const contentType = (input.ContentType ?? 'application/json').split(';')[0].trim().toLowerCase()
  if (!JOB_CONTENT_TYPES.includes(contentType)) {
    // the container's own answer to the first mini-batch, as its log shows it
    throw new JobFailure(clientFailure(`The model container refused the input: Content type ${input.ContentType ?? ''} is not supported; ` +
      `use ${JOB_CONTENT_TYPES.join(' or ')} (one JSON object per line, {"text_inputs": ...}).`))
  }
  if (input.DataSource.S3DataSource.S3DataType === 'AugmentedManifestFile') {
    throw new JobFailure(clientFailure('AugmentedManifestFile input is not supported by this model container.'))
  }
  let hyper: Record<string, PyValue> = {}
  const raw = spec.Environment?.HYPER_PARAMS
  const hyperSet = raw !== undefined && raw.trim() !== ''
  if (hyperSet) {
    let parsed: PyValue
    try {
      parsed = parsePythonLiteral(raw)
    } catch (err) {
      throw new JobFailure(clientFailure(`Environment HYPER_PARAMS is not a Python literal: ${(err as Error).message}.`))
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new JobFailure(clientFailure('Environment HYPER_PARAMS must be a dict, e.g. "{\'batch_size\': 8, \'max_length\': 50}".'))
    }
    hyper = parsed
  }
  const { batch_size: batchSizeValue, ...generation } = hyper
  let batchSize = DEFAULT_BATCH_SIZE
  if (batchSizeValue !== undefined) {
    if (typeof batchSizeValue !== 'number' || !Number.isSafeInteger(batchSizeValue) || batchSizeValue < 1) {
      throw new JobFailure(clientFailure(`HYPER_PARAMS batch_size must be a positive integer, got ${toPythonLiteral(batchSizeValue)}.`))
    }
    batchSize = batchSizeValue
  }
  if ((spec.BatchStrategy ?? 'MultiRecord') === 'SingleRecord') batchSize = 1
  const mb = spec.MaxPayloadInMB ?? DEFAULT_MAX_PAYLOAD_MB
  return {
    splitWhole: splitType === 'None',
    gzip: input.CompressionType === 'Gzip',
    batchSize,
    maxPayloadBytes: (mb === 0 ? MAX_PAYLOAD_MB : mb) * 1024 * 1024,
    concurrency: Math.max(1, spec.MaxConcurrentTransforms ?? 1),
    separator: spec.TransformOutput.AssembleWith === 'Line' ? '\n' : '',
    accept: spec.TransformOutput.Accept ?? 'application/octet-stream',
    hyper: generation,
    hyperSet
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
      checkpoint = await this.plan(record, settings, signal)
      signal.throwIfAborted()
      await this.store.writeCheckpoint(name, checkpoint)
    }
    const cp = checkpoint
    expose(cp)
    const cpWriter = new CoalescingWriter(async () => { await this.store.writeCheckpoint(name, cp) })
    const ctx: RunContext = { name, cp, settings, signal, cpWriter }
    try {
      while (cp.phase === 'running' && cp.fileIndex < cp.files.length) {
        await this.processFile(ctx)
        signal.throwIfAborted()
        cp.fileIndex++
        cp.inputOffset = 0
        cp.inputLine = 0
        cp.outputOffset = 0
        cp.fileRecords = 0
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

  /** Lists the input objects and counts their records: the checkpoint a fresh job starts from. */
  private async plan (record: JobRecord, settings: Settings, signal: AbortSignal): Promise<JobCheckpoint> {
    const source = record.spec.TransformInput.DataSource.S3DataSource
    const inputUri = parseSageMakerS3Uri(source.S3Uri)
    const outputUri = parseSageMakerS3Uri(record.spec.TransformOutput.S3OutputPath)
    if (inputUri === undefined || outputUri === undefined) {
      throw new JobFailure(clientFailure('Only s3:// URIs are supported by the local stack.'))
    }
    let objects: Awaited<ReturnType<typeof listInputObjects>>
    try {
      objects = await listInputObjects(this.s3, source.S3DataType, inputUri, signal)
    } catch (err) {
      signal.throwIfAborted()
      if (err instanceof ManifestError) throw new JobFailure(clientFailure(err.message))
      throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err)}: ${(err as Error).message} (${source.S3Uri})`))
    }
    if (objects.length === 0) {
      throw new JobFailure(truncateReason(`ClientError: No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. ` +
        `Please ensure that the bucket exists in the selected region, that objects exist under that S3 prefix, and that the role has "s3:ListBucket" permissions on bucket "${inputUri.bucket}".`))
    }
    const files: PlannedFile[] = []
    let total = 0
    for (const obj of objects) {
      let records: number
      try {
        records = await countRecords(this.s3, obj, { gzip: settings.gzip, whole: settings.splitWhole, signal })
      } catch (err) {
        signal.throwIfAborted()
        throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err)}: ${(err as Error).message} (s3://${obj.bucket}/${obj.key})`))
      }
      total += records
      files.push({ bucket: obj.bucket, key: obj.key, size: obj.size, records, outKey: outputKey(obj.relativeTo, obj.key, outputUri.key) })
    }
    return {
      phase: 'running',
      outBucket: outputUri.bucket,
      files,
      total,
      fileIndex: 0,
      inputOffset: 0,
      inputLine: 0,
      outputOffset: 0,
      fileRecords: 0,
      processed: 0
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
        cp.processed -= cp.fileRecords
        cp.fileRecords = 0
        cp.inputOffset = 0
        cp.inputLine = 0
        cp.outputOffset = 0
      }
      if (!this.store.isFrozen) await spool.truncate(cp.outputOffset)

      // Dispatched mini-batches in input order; at most `concurrency` of them are in flight.
      const queue: Array<{ batch: Batch, outcome: Promise<Outcome> }> = []
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
        cp.outputOffset += data.length
        cp.inputOffset = head.batch.endOffset
        cp.inputLine = head.batch.endLine
        cp.fileRecords += head.batch.records.length
        cp.processed += head.batch.records.length
        ctx.cpWriter.flush().catch((err: unknown) => { ctx.checkpointError ??= err })
      }
      const dispatch = async (batch: Batch): Promise<void> => {
        const outcome = batch.failure !== undefined ? Promise.resolve({ failure: batch.failure }) : this.callModel(batch, uri, signal)
        // Later entries are awaited only once they reach the head; mark them handled meanwhile.
        outcome.catch(() => {})
        queue.push({ batch, outcome })
        while (queue.length >= settings.concurrency) await commit()
      }
      const failed = (failure: string, line: number): Batch =>
        ({ paramsKey: '', params: {}, records: [], bytes: 0, endOffset: cp.inputOffset, endLine: line, failure })

      const input = await this.openFile(file, cp, settings, signal)
      const onAbort = (): void => { input.destroy() }
      signal.addEventListener('abort', onAbort, { once: true })
      let current: Batch | undefined
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
          const parsed = parseRecord(line.text, line.line, uri, settings)
          if (typeof parsed === 'string') {
            if (current !== undefined) await dispatch(current)
            current = failed(parsed, line.line)
            break
          }
          const paramsKey = canonical(parsed.params)
          const bytes = Buffer.byteLength(JSON.stringify(parsed.input)) + 1
          // A record whose text_inputs is a list is a whole request of its own.
          const batchable = typeof parsed.input === 'string'
          if (current !== undefined && (current.paramsKey !== paramsKey || !batchable ||
              typeof current.records[0].input !== 'string' ||
              current.records.length >= settings.batchSize ||
              current.bytes + bytes > settings.maxPayloadBytes)) {
            await dispatch(current)
            current = undefined
          }
          current ??= { paramsKey, params: parsed.params, records: [], bytes: 0, endOffset: line.end, endLine: line.line }
          current.records.push(parsed)
          current.bytes += bytes
          current.endOffset = line.end
          current.endLine = line.line
        }
      } catch (err) {
        signal.throwIfAborted()
        if (err instanceof RecordTooLargeError) {
          if (current !== undefined) await dispatch(current)
          current = failed(truncateReason(`ClientError: Too much data for max payload size: line ${err.line} of ${uri} is larger than ` +
            `MaxPayloadInMB (${settings.maxPayloadBytes / (1024 * 1024)} MB). Split the record or raise MaxPayloadInMB.`), err.line)
        } else if (err instanceof InputReadError) {
          throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err.original)}: ${err.message} (${uri})`))
        } else {
          throw err
        }
      } finally {
        signal.removeEventListener('abort', onAbort)
        input.destroy()
      }
      if (current !== undefined) await dispatch(current)
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
  private async callModel (batch: Batch, uri: string, signal: AbortSignal): Promise<Outcome> {
    const n = batch.records.length
    this.counters.modelCalls++
    this.counters.records += n
    this.batchSizes.push(n)
    this.inFlight++
    if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight
    try {
      return await callModel(batch, uri, { delayMs: this.latencyBaseMs + this.latencyPerItemMs * n, fault: this.poison, signal })
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
