// Durable state of the local control plane's transform jobs, under `<dataDir>/jobs/`:
//
//   jobs/<name, lower-cased>/job.json         the job record (definition, status, times)
//   jobs/<name, lower-cased>/checkpoint.json  the runner's progress (see JobCheckpoint)
//   jobs/<name, lower-cased>/spool/<i>.out    output of input object i, appended in input order
//
// Every JSON file is replaced atomically (write a temp file, fsync, rename), so a crash leaves
// either the old or the new content, never a torn one. Names are keyed lower-cased because
// SageMaker ARNs lower-case them: "MyJob" and "myjob" are the same job.

import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContainerSpec } from '../sagemaker/contracts/detect.js'
import type { DataProcessingSpec } from './data-processing.js'

/** SageMaker's transform job statuses. */
export type TransformJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped'

/** TransformInput as CreateTransformJob takes it (validated). */
export interface TransformInputSpec {
  DataSource: { S3DataSource: { S3DataType: string, S3Uri: string } }
  ContentType?: string
  CompressionType?: string
  SplitType?: string
}

/** TransformOutput as CreateTransformJob takes it (validated). */
export interface TransformOutputSpec {
  S3OutputPath: string
  Accept?: string
  AssembleWith?: string
  KmsKeyId?: string
}

/** TransformResources as CreateTransformJob takes it (validated). */
export interface TransformResourcesSpec {
  InstanceType: string
  InstanceCount: number
  VolumeKmsKeyId?: string
  TransformAmiVersion?: string
}

/**
 * A job's definition exactly as CreateTransformJob received it (AWS member names), after
 * validation. Members the local stack only echoes are kept as plain JSON.
 */
export interface TransformJobSpec {
  TransformJobName: string
  ModelName: string
  TransformInput: TransformInputSpec
  TransformOutput: TransformOutputSpec
  TransformResources: TransformResourcesSpec
  MaxConcurrentTransforms?: number
  MaxPayloadInMB?: number
  BatchStrategy?: string
  Environment?: Record<string, string>
  ModelClientConfig?: Record<string, unknown>
  DataCaptureConfig?: Record<string, unknown>
  DataProcessing?: DataProcessingSpec
  ExperimentConfig?: Record<string, unknown>
  Tags?: Array<Record<string, unknown>>
}

/** One transform job as persisted in job.json. Times are ms since the epoch. */
export interface JobRecord {
  spec: TransformJobSpec
  /**
   * The model's container (image, environment) when the job was created: SageMaker starts the
   * job's instances from the model as it was then. Absent in records from before it was kept:
   * those ran JumpStart's list container.
   */
  container?: ContainerSpec
  arn: string
  status: TransformJobStatus
  failureReason?: string
  createdAt: number
  startedAt?: number
  endedAt?: number
  modifiedAt: number
}

/** One input object of a job and where its output goes. */
export interface PlannedFile {
  bucket: string
  key: string
  /** Object size in bytes when the job was planned. */
  size: number
  /** Records (non-blank lines, or 1 for SplitType None) in the object when planned. */
  records: number
  /** Output object key: `<S3OutputPath prefix>/<path relative to the input prefix>.out`. */
  outKey: string
}

/**
 * The runner's progress. Invariants: every byte of input before `inputOffset` of file
 * `fileIndex` has been turned into output, and the first `outputOffset` bytes of that file's
 * spool hold exactly that output (the spool may be longer after a crash: the tail is
 * truncated on resume). Files before `fileIndex` are complete in their spools.
 */
export interface JobCheckpoint {
  phase: 'running' | 'uploading'
  outBucket: string
  files: PlannedFile[]
  total: number
  fileIndex: number
  /** Bytes of the (decompressed) input object consumed. */
  inputOffset: number
  /** Lines (blank ones included) of the input object consumed, for 1-based line numbers in messages. */
  inputLine: number
  /** Bytes of the current file's spool that belong to committed records. */
  outputOffset: number
  /** Records of the current file committed. */
  fileRecords: number
  /** Records committed across all files. */
  processed: number
}

const JOB_FILE = 'job.json'
const CHECKPOINT_FILE = 'checkpoint.json'

/** Replaces `path` with `data` atomically: temp file in the same directory, fsync, rename. */
export async function writeFileAtomic (path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/**
 * Runs `write` so that calls never overlap and a burst of `flush()` calls collapses into at
 * most one extra write; each returned promise settles after a write that started after the call.
 */
export class CoalescingWriter {
  private running: Promise<void> | undefined
  private queued: Promise<void> | undefined

  constructor (private readonly write: () => Promise<void>) {}

  /** Schedules a write of the current state; resolves when it is on disk. */
  async flush (): Promise<void> {
    if (this.queued !== undefined) return await this.queued
    const previous = this.running ?? Promise.resolve()
    const next: Promise<void> = previous.catch(() => {}).then(async () => {
      this.queued = undefined
      this.running = next
      try {
        await this.write()
      } finally {
        if (this.running === next) this.running = undefined
      }
    })
    this.queued = next
    return await next
  }

  /** Resolves once no write is running or queued (errors are the flushers' to see). */
  async settled (): Promise<void> {
    while (this.queued !== undefined || this.running !== undefined) {
      await (this.queued ?? this.running)?.catch(() => {})
    }
  }
}

/** The job records, in memory and on disk. One process owns a data directory at a time. */
export class JobStore {
  private readonly jobs = new Map<string, JobRecord>()
  private readonly writers = new Map<string, CoalescingWriter>()
  /** Set by freeze(): nothing more reaches the disk, as if the process had died. */
  private frozen = false

  private constructor (readonly root: string) {}

  /** Opens (creating if needed) `<dataDir>/jobs` and loads every job record in it. */
  static async open (dataDir: string): Promise<JobStore> {
    const store = new JobStore(join(dataDir, 'jobs'))
    await mkdir(store.root, { recursive: true })
    for (const entry of await readdir(store.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const dir = join(store.root, entry.name)
      // Temp files of atomic writes a crash interrupted; the real file is intact.
      for (const name of await readdir(dir)) {
        if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true })
      }
      let text: string
      try {
        text = await readFile(join(dir, JOB_FILE), 'utf8')
      } catch {
        // A directory without job.json is a create that crashed before its first write.
        continue
      }
      let record: JobRecord
      try {
        record = JSON.parse(text) as JobRecord
      } catch (err) {
        throw new Error(`${join(dir, JOB_FILE)} is not valid JSON (${(err as Error).message}); move it away to drop that job`)
      }
      store.jobs.set(record.spec.TransformJobName.toLowerCase(), record)
    }
    return store
  }

  /** Stops all further disk writes (crash simulation); in-memory state stays readable. */
  freeze (): void {
    this.frozen = true
  }

  get isFrozen (): boolean {
    return this.frozen
  }

  /** The job called `name` (case-insensitive), if any. */
  get (name: string): JobRecord | undefined {
    return this.jobs.get(name.toLowerCase())
  }

  /** Every job, in no particular order. */
  all (): JobRecord[] {
    return [...this.jobs.values()]
  }

  /** Directory holding the job's files. */
  jobDir (name: string): string {
    return join(this.root, name.toLowerCase())
  }

  /** Path of the spool for input object `index`. */
  spoolPath (name: string, index: number): string {
    return join(this.jobDir(name), 'spool', `${index}.out`)
  }

  /** Adds a new job and persists it before resolving; the caller has checked the name is free. */
  async create (record: JobRecord): Promise<void> {
    const key = record.spec.TransformJobName.toLowerCase()
    if (this.jobs.has(key)) throw new Error(`job ${record.spec.TransformJobName} already exists`)
    this.jobs.set(key, record)
    await mkdir(join(this.jobDir(key), 'spool'), { recursive: true })
    await this.persist(key)
  }

  /** Applies `patch` to the in-memory record at once and resolves when it is persisted. */
  async update (name: string, patch: Partial<Omit<JobRecord, 'spec' | 'arn'>>): Promise<JobRecord> {
    const key = name.toLowerCase()
    const record = this.jobs.get(key)
    if (record === undefined) throw new Error(`no job ${name}`)
    Object.assign(record, { modifiedAt: Date.now() }, patch)
    await this.persist(key)
    return record
  }

  private async persist (key: string): Promise<void> {
    let writer = this.writers.get(key)
    if (writer === undefined) {
      writer = new CoalescingWriter(async () => {
        const record = this.jobs.get(key)
        if (this.frozen || record === undefined) return
        await writeFileAtomic(join(this.jobDir(key), JOB_FILE), JSON.stringify(record, null, 2) + '\n')
      })
      this.writers.set(key, writer)
    }
    await writer.flush()
  }

  /** The job's checkpoint, or undefined if none was written (or it is unreadable: start over). */
  async readCheckpoint (name: string): Promise<JobCheckpoint | undefined> {
    try {
      return JSON.parse(await readFile(join(this.jobDir(name), CHECKPOINT_FILE), 'utf8')) as JobCheckpoint
    } catch {
      return undefined
    }
  }

  /** Writes the checkpoint atomically (a no-op once frozen). */
  async writeCheckpoint (name: string, checkpoint: JobCheckpoint): Promise<void> {
    if (this.frozen) return
    await writeFileAtomic(join(this.jobDir(name), CHECKPOINT_FILE), JSON.stringify(checkpoint) + '\n')
  }

  /** Deletes the checkpoint and spools of a job that reached a terminal status. */
  async removeWorkFiles (name: string): Promise<void> {
    if (this.frozen) return
    await rm(join(this.jobDir(name), CHECKPOINT_FILE), { force: true })
    await rm(join(this.jobDir(name), 'spool'), { recursive: true, force: true })
  }

  /** Waits for every pending job.json write. */
  async settled (): Promise<void> {
    await Promise.all([...this.writers.values()].map(async (w) => { await w.settled() }))
  }
}
