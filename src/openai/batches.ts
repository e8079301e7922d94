/**
 * OpenAI batches on SageMaker Batch Transform. A batch's input file is split into groups of
 * lines with equal model and normalised parameters (batch-lines.ts); each group runs as one
 * transform job through the transform-job service, exactly as POST /v1/transform-jobs runs one
 * (records with id = custom_id, the group's parameters as HYPER_PARAMS).
 *
 * State lives in S3 and SageMaker only (layout.ts: batches/<id>/...): the manifest (owner,
 * input, jobs) and lines.jsonl are written once at creation, cancel.json once on cancel,
 * result.json last once the output files exist. The status is derived when asked (see
 * batchStatus), so any replica answers and a restart loses nothing. The first read that finds
 * every job ended assembles the output and error files in the background (deterministic ids
 * and bytes: two replicas doing it at once write the same objects) and writes result.json.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import type { S3Client } from '@aws-sdk/client-s3'
import type { TransformJob } from '../../schemas/jobs.js'
import { catalogError, isCatalogError } from '../errors.js'
import { canSee, type Tenant } from '../tenants.js'
import type { S3Layout } from '../jobs/layout.js'
import { splitLines } from '../sagemaker/lines.js'
import { show } from '../util/json-bounds.js'
import { MAX_RECORD_BYTES } from '../jobs/results.js'
import { deleteObject, getStream, getText, listObjects, putText, namesIn } from '../sagemaker/s3-io.js'
import { firstMatching } from '../util/first-matching.js'
import type { TransformJobs } from '../jobs/transform-jobs.js'
import { BATCH_URLS, groupLines, readBatchLine, type BatchUrl } from './batch-lines.js'
import { openAiField } from './requests.js'
import { assembleBatch, batchStatus, finalStatus, type BatchLineRecord, type BatchStatus, type ErrorLine, type JobState, type OutputLine } from './batch-output.js'
import { FILE_ID, type Files, newestFirstId } from './files.js'

/** The only completion window OpenAI offers (s): 24 h. */
export const COMPLETION_WINDOW_S = 24 * 3600

const BatchManifest = Type.Object({
  version: Type.Literal(1),
  id: Type.String(),
  owner: Type.String(),
  endpoint: Type.Enum([...BATCH_URLS]),
  input_file_id: Type.String(),
  completion_window: Type.Literal('24h'),
  metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  model: Type.String(),
  created_at: Type.Integer(),
  total: Type.Integer({ minimum: 0 }),
  /** One per group, in group order: the job's name and how many lines it runs. */
  jobs: Type.Array(Type.Object({ name: Type.String(), requests: Type.Integer({ minimum: 0 }) }))
})
type BatchManifest = Static<typeof BatchManifest>

const BatchResult = Type.Object({
  status: Type.Enum(['completed', 'cancelled', 'failed']),
  finished_at: Type.Integer(),
  finalizing_at: Type.Integer(),
  output_file_id: Type.Optional(Type.String()),
  error_file_id: Type.Optional(Type.String()),
  completed: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  errors: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), line: Type.Union([Type.Integer(), Type.Null()]), param: Type.Union([Type.String(), Type.Null()]) }))
})
type BatchResult = Static<typeof BatchResult>

/** OpenAI's batch object (plus `transform_jobs`: the jobs that run it). */
export interface BatchObject {
  id: string
  object: 'batch'
  endpoint: BatchUrl
  model: string
  errors: { object: 'list', data: BatchResult['errors'] } | null
  input_file_id: string
  completion_window: '24h'
  status: BatchStatus
  output_file_id: string | null
  error_file_id: string | null
  created_at: number
  in_progress_at: number | null
  expires_at: number
  finalizing_at: number | null
  completed_at: number | null
  failed_at: number | null
  expired_at: number | null
  cancelling_at: number | null
  cancelled_at: number | null
  request_counts: { total: number, completed: number, failed: number }
  metadata: Record<string, string> | null
  transform_jobs: string[]
}

/** A page of batches, OpenAI's list shape. */
export interface BatchList {
  object: 'list'
  data: BatchObject[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

/** POST /v1/batches' body (validated by its schema). */
export interface CreateBatch {
  input_file_id: string
  endpoint: string
  completion_window: string
  metadata?: Record<string, string> | null
}

/** Batch ids this gateway makes. */
export const BATCH_ID = /^batch_[0-9a-f]{32}$/

const seconds = (iso: string | undefined): number | undefined => iso === undefined ? undefined : Math.floor(Date.parse(iso) / 1000)

/** The batches service behind /v1/batches. */
export class Batches {
  /** Assemblies running in this process, by batch id (one at a time per batch). */
  private readonly finalizing = new Map<string, Promise<void>>()
  /** The batch index migration of this process (see indexed); undefined until a list needs it, or after it failed. */
  private migration: Promise<void> | undefined

  constructor (private readonly opts: {
    s3: S3Client
    layout: S3Layout
    files: Files
    jobs: TransformJobs
    log: FastifyBaseLogger
    /**
     * The SageMaker model behind an endpoint (OpenAI's `model` is an endpoint name; a transform
     * job runs a model, whose name may differ); 404 ENDPOINT_NOT_FOUND for none.
     */
    modelOf: (tenant: Tenant, endpoint: string) => Promise<string>
  }) {}

  /** Creates the batch: one transform job per group of lines with equal parameters. */
  async create (tenant: Tenant, body: CreateBatch): Promise<BatchObject> {
    const { s3, layout, files, jobs } = this.opts
    if (!(BATCH_URLS as readonly string[]).includes(body.endpoint)) {
      throw catalogError('INVALID_REQUEST', `body.endpoint ${show(body.endpoint)} is not supported; use one of ${BATCH_URLS.join(', ')}`, { param: 'endpoint' })
    }
    const file = await files.stored(tenant, body.input_file_id, 'input_file_id')
    if (file.purpose !== 'batch') {
      throw catalogError('INVALID_REQUEST', `body.input_file_id ${show(file.id)} has purpose ${show(file.purpose)}; a batch reads a file uploaded with purpose "batch"`, { param: 'input_file_id' })
    }
    if (file.url !== body.endpoint) {
      throw catalogError('INVALID_REQUEST', `body.endpoint ${show(body.endpoint)} differs from the url of the requests in ${show(file.id)} (${show(file.url)}); they must be equal`, { param: 'endpoint' })
    }
    // the lines, as checked at upload (re-read: the file is the single source)
    const records: BatchLineRecord[] = []
    // each record's line in the file, for a refusal to name it
    const lineNumbers: number[] = []
    const content = await files.content(tenant, file.id)
    try {
      for await (const line of splitLines(content, MAX_RECORD_BYTES)) {
        if (line.text === undefined || line.text.trim() === '') continue
        const verdict = readBatchLine(JSON.parse(line.text))
        if (!verdict.ok) throw catalogError('INVALID_REQUEST', `body.input_file_id ${show(file.id)} line ${line.number}: ${verdict.message}`, { param: 'input_file_id' })
        records.push({ custom_id: verdict.line.customId, group: 0, request: verdict.line.request })
        lineNumbers.push(line.number)
      }
    } finally {
      content.destroy()
    }
    // one model per file (checked at upload): resolved before anything is written
    const sageMakerModel = await this.opts.modelOf(tenant, file.model ?? records[0]?.request.model ?? '')
    const groups = groupLines(records.map(r => r.request))
    groups.forEach((g, i) => { for (const p of g.positions) (records[p] as BatchLineRecord).group = i })
    // every group against the model's contract before anything is written or run: a batch is
    // refused whole, naming a line's OpenAI field, never half-submitted
    for (const group of groups) {
      const position = group.positions[0] as number
      const first = records[position] as BatchLineRecord
      await jobs.checkParameters(sageMakerModel, group.parameters, (name) => `body.input_file_id ${show(file.id)} line ${lineNumbers[position] ?? position + 1} (custom_id ${show(first.custom_id)}): body.${openAiField(first.request, name)}`)
    }

    const id = newestFirstId('batch_')
    const keys = layout.batch(id)
    const manifest: BatchManifest = {
      version: 1,
      id,
      owner: tenant.id,
      endpoint: body.endpoint as BatchUrl,
      input_file_id: file.id,
      completion_window: '24h',
      metadata: body.metadata ?? null,
      model: file.model ?? records[0]?.request.model ?? '',
      created_at: Math.floor(Date.now() / 1000),
      total: records.length,
      // 2 + 32 + 1 + up to 5 digits: within the API's 40 characters
      jobs: groups.map((g, i) => ({ name: `b-${id.slice('batch_'.length)}-${i}`, requests: g.positions.length }))
    }
    await putText(s3, layout.bucket, keys.lines, records.map(r => JSON.stringify(r) + '\n').join(''), 'application/jsonlines')
    // the index entry before the manifest: an entry whose manifest never came is skipped by list
    await putText(s3, layout.bucket, layout.batchIndexRoot(tenant.id) + id, '', 'application/octet-stream')
    await putText(s3, layout.bucket, keys.manifest, JSON.stringify(manifest, null, 2) + '\n', 'application/json')

    for (const [i, group] of groups.entries()) {
      const job = manifest.jobs[i] as BatchManifest['jobs'][number]
      try {
        await jobs.create(tenant, {
          name: job.name,
          model: sageMakerModel,
          input: { records: group.positions.map(p => { const r = records[p] as BatchLineRecord; return { id: r.custom_id, text: r.request.inputs[0] as string } }) },
          parameters: group.parameters
        })
      } catch (err) {
        if (i === 0) {
          // nothing runs yet: no batch at all, the caller hears why
          await deleteObject(s3, layout.bucket, keys.manifest).catch(() => {})
          await deleteObject(s3, layout.bucket, keys.lines).catch(() => {})
          await deleteObject(s3, layout.bucket, layout.batchIndexRoot(tenant.id) + id).catch(() => {})
          throw err
        }
        // some jobs run: the batch fails as a whole, and those are stopped
        this.opts.log.error({ err, batch: id, job: job.name }, 'transform job submission failed; stopping the OpenAI batch')
        await this.stopJobs(tenant, manifest.jobs.slice(0, i).map(j => j.name))
        const message = isCatalogError(err) ? err.message : 'the transform job could not be submitted'
        const result: BatchResult = { status: 'failed', finished_at: Math.floor(Date.now() / 1000), finalizing_at: Math.floor(Date.now() / 1000), completed: 0, failed: records.length, errors: [{ code: 'job_submission_failed', message: `group ${i} (${job.name}): ${message}`, line: null, param: null }] }
        await putText(s3, layout.bucket, keys.result, JSON.stringify(result) + '\n', 'application/json')
        break
      }
    }
    this.opts.log.info({ batch: id, requests: records.length, jobs: manifest.jobs.length }, 'batch created')
    return await this.view(tenant, manifest)
  }

  /** One batch (404 BATCH_NOT_FOUND when there is none, or `tenant` may not see it). */
  async get (tenant: Tenant, id: string): Promise<BatchObject> {
    return await this.view(tenant, await this.manifest(tenant, id))
  }

  /** Cancels: every job still running is stopped; the status is cancelling until they have, then cancelled with partial output. */
  async cancel (tenant: Tenant, id: string): Promise<BatchObject> {
    const { s3, layout } = this.opts
    const manifest = await this.manifest(tenant, id)
    const keys = layout.batch(id)
    const result = await this.result(id)
    if (result !== undefined) {
      if (result.status === 'cancelled') return await this.view(tenant, manifest)
      throw catalogError('CONFLICT', `batch ${show(id)} has already ended (${result.status}); there is nothing to cancel`)
    }
    if (await getText(s3, layout.bucket, keys.cancel) === undefined) {
      await putText(s3, layout.bucket, keys.cancel, JSON.stringify({ cancelling_at: Math.floor(Date.now() / 1000) }) + '\n', 'application/json')
    }
    await this.stopJobs(tenant, manifest.jobs.map(j => j.name))
    this.opts.log.info({ batch: id }, 'batch cancel requested')
    return await this.view(tenant, manifest)
  }

  /**
   * `tenant`'s batches newest first (cursor pagination as OpenAI's). A tenant's list reads its
   * own keys only (batch-index/<tenant>/, then the manifests it shows); an admin's reads batches/,
   * every tenant's.
   */
  async list (tenant: Tenant, query: { limit: number, after?: string }): Promise<BatchList> {
    const { s3, layout } = this.opts
    let ids: AsyncIterable<string>
    if (tenant.admin) {
      const root = layout.batchRoot
      // '~' sorts after every key of the `after` batch
      const startAfter = query.after !== undefined ? `${root}${query.after}/~` : undefined
      ids = namesIn(listObjects(s3, layout.bucket, root, startAfter), root, '/manifest.json', BATCH_ID)
    } else {
      await this.indexed()
      const root = layout.batchIndexRoot(tenant.id)
      ids = namesIn(listObjects(s3, layout.bucket, root, query.after !== undefined ? root + query.after : undefined, query.limit + 1), root, '', BATCH_ID)
    }
    const found = await firstMatching(ids, query.limit + 1, async (id) => {
      const manifest = await this.readManifest(id)
      return manifest !== undefined && canSee(tenant, manifest.owner) ? manifest : undefined
    })
    const data = await Promise.all(found.slice(0, query.limit).map(async (manifest) => await this.view(tenant, manifest)))
    return { object: 'list', data, has_more: found.length > query.limit, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }
  }

  /**
   * Migration of batches stored before the per-tenant index (batch-index/<tenant>/<id>): once,
   * every batch without an entry gets one under its manifest's owner, then batch-index.done is
   * written; later processes read that one object and list nothing. Idempotent, so replicas
   * racing through it write the same entries. A failure is a 502 for this list and is tried
   * again by the next.
   */
  private async indexed (): Promise<void> {
    this.migration ??= this.migrateIndex().catch((err: unknown) => { this.migration = undefined; throw err })
    await this.migration
  }

  private async migrateIndex (): Promise<void> {
    const { s3, layout } = this.opts
    if (await getText(s3, layout.bucket, layout.batchIndexDone) !== undefined) return
    const entered = new Set<string>()
    for await (const obj of listObjects(s3, layout.bucket, layout.batchIndexAll)) entered.add(obj.key.slice(obj.key.lastIndexOf('/') + 1))
    let added = 0
    for await (const id of namesIn(listObjects(s3, layout.bucket, layout.batchRoot), layout.batchRoot, '/manifest.json', BATCH_ID)) {
      if (entered.has(id)) continue
      const manifest = await this.readManifest(id)
      if (manifest === undefined) continue
      await putText(s3, layout.bucket, layout.batchIndexRoot(manifest.owner) + id, '', 'application/octet-stream')
      added++
    }
    await putText(s3, layout.bucket, layout.batchIndexDone, JSON.stringify({ version: 1, added, at: new Date().toISOString() }) + '\n', 'application/json')
    if (added > 0) this.opts.log.info({ added }, 'batch index: entries added for batches stored before it')
  }

  /** Resolves once this process's assemblies have ended (shutdown, tests). */
  async drain (): Promise<void> {
    while (this.finalizing.size > 0) await Promise.allSettled([...this.finalizing.values()])
  }

  // ---- internals ---------------------------------------------------------------------------

  private async stopJobs (tenant: Tenant, names: readonly string[]): Promise<void> {
    await Promise.all(names.map(async name => {
      try {
        await this.opts.jobs.stop(tenant, name)
      } catch (err) {
        // an ended job keeps what it did: its results go into the output
        if (isCatalogError(err) && err.code === 'CONFLICT') return
        throw err
      }
    }))
  }

  private async manifest (tenant: Tenant, id: string): Promise<BatchManifest> {
    const manifest = BATCH_ID.test(id) ? await this.readManifest(id) : undefined
    if (manifest === undefined || !canSee(tenant, manifest.owner)) throw catalogError('BATCH_NOT_FOUND', `no batch with id ${show(id)}`, { param: 'batch_id' })
    return manifest
  }

  private async readManifest (id: string): Promise<BatchManifest | undefined> {
    return await this.readJson(this.opts.layout.batch(id).manifest, BatchManifest)
  }

  private async result (id: string): Promise<BatchResult | undefined> {
    return await this.readJson(this.opts.layout.batch(id).result, BatchResult)
  }

  private async readJson<T extends typeof BatchManifest | typeof BatchResult> (key: string, schema: T): Promise<Static<T> | undefined> {
    const text = await getText(this.opts.s3, this.opts.layout.bucket, key)
    if (text === undefined) return undefined
    let value: unknown
    try { value = JSON.parse(text) } catch { return undefined }
    if (!Value.Check(schema, value)) {
      this.opts.log.warn({ key }, 'unreadable batch state object; ignored')
      return undefined
    }
    return value as Static<T>
  }

  /** The batch object from its stored state and its jobs' states; starts the assembly once every job has ended. */
  private async view (tenant: Tenant, manifest: BatchManifest): Promise<BatchObject> {
    const { s3, layout } = this.opts
    const keys = layout.batch(manifest.id)
    const [result, cancelText] = await Promise.all([this.result(manifest.id), getText(s3, layout.bucket, keys.cancel)])
    const cancellingAt = cancelText === undefined ? undefined : (JSON.parse(cancelText) as { cancelling_at?: number }).cancelling_at
    let jobs: TransformJob[] = []
    let status: BatchStatus
    let finalizingAt: number | undefined
    let counts = { total: manifest.total, completed: 0, failed: 0 }
    if (result !== undefined) {
      status = result.status
      finalizingAt = result.finalizing_at
      counts = { total: manifest.total, completed: result.completed, failed: result.failed }
    } else {
      jobs = await Promise.all(manifest.jobs.map(async j => await this.opts.jobs.get(tenant, j.name)))
      const states = jobs.map(j => j.status as JobState)
      status = batchStatus(states, cancellingAt !== undefined, undefined)
      jobs.forEach((job, i) => {
        const requests = manifest.jobs[i]?.requests ?? 0
        // a completed job's requests without output (it can complete without writing any) have
        // failed: counted now as the assembled result will count them
        const done = job.status === 'Completed' ? Math.min(requests, job.progress?.processed ?? requests) : 0
        counts.completed += done
        if (job.status === 'Completed' || job.status === 'Failed') counts.failed += requests - done
      })
      if (status === 'finalizing') {
        finalizingAt = Math.max(manifest.created_at, ...jobs.map(j => seconds(j.endedAt) ?? manifest.created_at))
        this.startAssembly(tenant, manifest, jobs, cancellingAt !== undefined, finalizingAt)
      }
    }
    const finished = result?.finished_at ?? null
    return {
      id: manifest.id,
      object: 'batch',
      endpoint: manifest.endpoint,
      model: manifest.model,
      errors: result !== undefined && result.errors.length > 0 ? { object: 'list', data: result.errors } : null,
      input_file_id: manifest.input_file_id,
      completion_window: '24h',
      status,
      output_file_id: result?.output_file_id ?? null,
      error_file_id: result?.error_file_id ?? null,
      created_at: manifest.created_at,
      // the input was validated at upload: a batch is in progress as soon as its jobs are submitted
      in_progress_at: manifest.created_at,
      expires_at: manifest.created_at + COMPLETION_WINDOW_S,
      finalizing_at: finalizingAt ?? null,
      completed_at: status === 'completed' ? finished : null,
      failed_at: status === 'failed' ? finished : null,
      expired_at: null,
      cancelling_at: cancellingAt ?? null,
      cancelled_at: status === 'cancelled' ? finished : null,
      request_counts: counts,
      metadata: manifest.metadata,
      transform_jobs: manifest.jobs.map(j => j.name)
    }
  }

  private startAssembly (tenant: Tenant, manifest: BatchManifest, jobs: TransformJob[], cancelled: boolean, finalizingAt: number): void {
    if (this.finalizing.has(manifest.id)) return
    const run = this.assemble(tenant, manifest, jobs, cancelled, finalizingAt)
      .catch((err: unknown) => { this.opts.log.error({ err, batch: manifest.id }, 'batch output assembly failed; the next read retries') })
      .finally(() => { this.finalizing.delete(manifest.id) })
    this.finalizing.set(manifest.id, run)
  }

  /** Writes the output and error files, then result.json (the commit point). */
  private async assemble (tenant: Tenant, manifest: BatchManifest, jobs: TransformJob[], cancelled: boolean, finalizingAt: number): Promise<void> {
    const { s3, layout, files } = this.opts
    const started = Date.now()
    const counts = { completed: 0, failed: 0 }
    // one pass per file; each pass reads the jobs' results afresh
    const pass = (keep: 'output' | 'error'): AsyncGenerator<string> => {
      const self = this
      return (async function * () {
        const groups = await Promise.all(manifest.jobs.map(async (j, i) => {
          const { lines } = await self.opts.jobs.results(tenant, j.name)
          return { lines, created: seconds(jobs[i]?.endedAt) ?? finalizingAt }
        }))
        try {
          for await (const line of assembleBatch(manifest.id, manifest.endpoint, self.batchLines(manifest.id), groups)) {
            const isOutput = line.error === null
            if (keep === 'output' && isOutput) { counts.completed++; yield JSON.stringify(line as OutputLine) + '\n' }
            if (keep === 'error' && !isOutput) { counts.failed++; yield JSON.stringify(line as ErrorLine) + '\n' }
          }
        } finally {
          await Promise.all(groups.map(async g => await g.lines.return?.(undefined)))
        }
      })()
    }
    const ms = finalizingAt * 1000
    // deterministic ids: sorted as files made at finalizing_at, unique to this batch
    const outputId = `file-${newestFirstId('', ms).slice(0, 12)}${manifest.id.slice(-20)}`
    const errorId = `file-${newestFirstId('', ms).slice(0, 12)}${manifest.id.slice(-20).split('').reverse().join('')}`
    if (!FILE_ID.test(outputId) || !FILE_ID.test(errorId)) throw new Error(`batch ${manifest.id}: bad output file ids`)
    const output = await files.writeOutput(manifest.owner, outputId, `${manifest.id}_output.jsonl`, pass('output'), finalizingAt)
    const errors = await files.writeOutput(manifest.owner, errorId, `${manifest.id}_error.jsonl`, pass('error'), finalizingAt)
    const states = jobs.map(j => j.status as JobState)
    const status = finalStatus(states, cancelled)
    const failures = jobs.filter(j => j.status === 'Failed').map(j => ({ code: 'job_failed', message: `transform job ${j.name} failed: ${j.failureReason ?? 'no reason given'}`, line: null, param: null }))
    const result: BatchResult = {
      status,
      finished_at: Math.floor(Date.now() / 1000),
      finalizing_at: finalizingAt,
      ...(counts.completed > 0 ? { output_file_id: output.id } : {}),
      ...(counts.failed > 0 ? { error_file_id: errors.id } : {}),
      completed: counts.completed,
      failed: counts.failed,
      errors: status === 'failed' ? failures : []
    }
    // an empty file is not offered (OpenAI sets only the ids of files with lines)
    if (counts.completed === 0) await files.remove(output.id, manifest.owner)
    if (counts.failed === 0) await files.remove(errors.id, manifest.owner)
    await putText(s3, layout.bucket, layout.batch(manifest.id).result, JSON.stringify(result) + '\n', 'application/json')
    this.opts.log.info({ batch: manifest.id, status, completed: counts.completed, failed: counts.failed, ms: Date.now() - started }, 'batch finalized')
  }

  /** lines.jsonl, streamed. */
  private async * batchLines (id: string): AsyncGenerator<BatchLineRecord> {
    const body = await getStream(this.opts.s3, this.opts.layout.bucket, this.opts.layout.batch(id).lines)
    if (body === undefined) throw new Error(`batch ${id} has no lines.jsonl`)
    try {
      for await (const line of splitLines(body, MAX_RECORD_BYTES)) {
        if (line.text === undefined || line.text.trim() === '') continue
        yield JSON.parse(line.text) as BatchLineRecord
      }
    } finally {
      body.destroy()
    }
  }
}
