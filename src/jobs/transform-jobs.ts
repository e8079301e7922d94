/**
 * Batch transform jobs, gateway side. Stateless: SageMaker owns a job's status; the job's
 * manifest in S3 (see manifest.ts, layout.ts) owns what the gateway added. Any replica can
 * answer for any job, and a restart loses nothing.
 *
 * Idempotency: the job name is the key. It comes from `name`, or from the Idempotency-Key
 * (`t2t-` + sha256), or is generated. SageMaker refuses a second job with a name
 * (ResourceInUse), so a repeat, even one racing the first, can never create a second job; it
 * gets the existing job back, provided its request fingerprint matches (else 409).
 */
import {
  CreateTransformJobCommand, DescribeTransformJobCommand, ListTransformJobsCommand, StopTransformJobCommand,
  type DescribeTransformJobResponse, type SageMakerClient, type TransformJobSummary
} from '@aws-sdk/client-sagemaker'
import type { S3Client } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import type { CreateJobBody, JobList, JobReferences, JobStatus, TransformJob } from '../../schemas/jobs.js'
import type { GenerationParameters } from '../../schemas/params.js'
import { catalogError, type CatalogError } from '../errors.js'
import type { PriceTable } from '../endpoints/prices.js'
import { awsMessage, awsName, awsStatus, controlPlaneError, isResourceNotFound } from '../sagemaker/aws-errors.js'
import { SAGEMAKER_NAME_PATTERN } from '../sagemaker/rules.js'
import { deletePrefix, getText, putText } from '../sagemaker/s3-io.js'
import { formatS3Uri, parseS3Uri, type S3AllowList, type S3Location } from '../sagemaker/s3-uri.js'
import { canSee, DEFAULT_TENANT_ID, type Tenant } from '../tenants.js'
import { show } from '../util/json-bounds.js'
import { redactAws } from '../util/redact-aws.js'
import type { Datasets } from './datasets.js'
import type { S3Layout, Submission } from './layout.js'
import { decodeManifest, encodeManifest, requestHash, type Manifest } from './manifest.js'
import { BESIDE_PARAMETERS, modelContract, parameterLimits, translateParameters, truncateExtra, type ParameterPath } from '../sagemaker/contracts/index.js'
import { recordLines, rewriteDataset, type JobContract } from './contract-input.js'
import { readReferences, requireObjects, type Reference } from './references.js'
import type { InstanceLimits } from '../instance-limits.js'
import { allowedLocation, checkJobRequest, createJobRequest, exactlyOne, jobConcurrency, jobNameFor, type RequestChecks } from './requests.js'
import { jobResults, type JoinStats, type ResultLine } from './results.js'
import { jobView, type OwnedJob } from './view.js'
import { mapLimit } from '../util/map-limit.js'

/** Jobs described at once while listing. */
const LIST_CONCURRENCY = 8
// completed jobs whose output record count is kept (a number and a key each)
const PROCESSED_CACHE = 10_000
/** ListTransformJobs calls per page of ours, at most (others' jobs are skipped). */
const LIST_ROUNDS = 5

const TERMINAL: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Stopped'])

/** What the service needs; built once by the plugin. */
export interface TransformJobsOptions {
  control: SageMakerClient
  s3: S3Client
  layout: S3Layout
  allowList: S3AllowList
  datasets: Datasets
  /** Model used when the body names none; undefined = `model` is required. */
  defaultModel?: string
  log: FastifyBaseLogger
  /** Prices for each job's `usage` (instance time and estimated cost); none = no `usage`. */
  prices?: PriceTable
  /** The instances each tenant may choose; none = SageMaker's own limits only. */
  instances?: InstanceLimits
}

/** The result of a submission: the job and whether it already existed (a repeat). */
export interface Submitted {
  job: TransformJob
  replayed: boolean
}

/** Predictions and references for a job evaluation. */
export interface EvaluationInputs {
  predictions: Array<{ id: string | number, text: string }>
  references: Array<{ id: string | number, text: string }>
}

/** The transform-job service behind /v1/transform-jobs. */
export class TransformJobs {
  private readonly control: SageMakerClient
  private readonly s3: S3Client
  private readonly layout: S3Layout
  private readonly datasets: Datasets
  /** What a body is checked against: the default model, the allow-list, the tenants' datasets. */
  private readonly checks: RequestChecks
  private readonly log: FastifyBaseLogger
  private readonly prices: PriceTable | undefined
  /** Output record counts of completed jobs (or the count under way, shared by concurrent views), by submission (see processedOf), oldest first. */
  private readonly processed = new Map<string, Promise<number | undefined>>()

  constructor (opts: TransformJobsOptions) {
    this.prices = opts.prices
    this.control = opts.control
    this.s3 = opts.s3
    this.layout = opts.layout
    this.datasets = opts.datasets
    this.checks = { defaultModel: opts.defaultModel, allowList: opts.allowList, layout: opts.layout, ...(opts.instances !== undefined ? { instances: opts.instances } : {}) }
    this.log = opts.log
  }

  /** Submits `tenant`'s job, or returns the existing one for a repeat. Nothing is left behind on a 4xx. */
  /**
   * Checks `parameters` against `model`'s contract as `create` would, naming each field by `at`
   * (400 INVALID_PARAMETERS or INVALID_REQUEST), without creating anything: for a caller that
   * submits several jobs and must refuse before the first (OpenAI batches).
   */
  async checkParameters (model: string, parameters: GenerationParameters, at: ParameterPath): Promise<void> {
    const target = await this.contractOf(model)
    translateParameters(target.contract, parameters, at, {}, target.limits)
  }

  async create (tenant: Tenant, body: CreateJobBody, idempotencyKey?: string): Promise<Submitted> {
    const plan = checkJobRequest(body, tenant, this.checks)
    const name = jobNameFor({ name: body.name, idempotencyKey, tenant: tenant.id })
    const hash = requestHash(body)

    const existing = await this.describe(name)
    if (existing !== undefined) return { job: await this.replay(name, existing, hash, tenant), replayed: true }

    const jobParameters = body.parameters ?? {}
    const contract = await this.contractOf(plan.model)
    // `truncate` only where the container can (TGI); elsewhere a 400 naming body.truncate
    if (body.truncate !== undefined) translateParameters(contract.contract, jobParameters, BESIDE_PARAMETERS, truncateExtra(body.truncate), contract.limits)
    const perInstance = contract.contract.maxConcurrentPerInstance
    const concurrency = jobConcurrency(body.resources, contract.contract)
    if (perInstance !== undefined && concurrency > perInstance) {
      // MaxConcurrentTransforms is per instance, as is the container's bound: past it TGI answers
      // 429 "Model is overloaded" and the job fails
      const setting = contract.contract.name === 'tgi' ? 'MAX_CONCURRENT_REQUESTS' : 'OPTION_MAX_ROLLING_BATCH_SIZE'
      throw catalogError('INVALID_REQUEST', `body.resources.maxConcurrentTransforms ${concurrency} is more than model ${show(plan.model)}'s container serves at once (${perInstance}: its ${contract.contract.name} ${setting})`)
    }
    // existence checks before anything is written
    let recordCount = plan.records?.length
    const list = contract.contract.name === 'jumpstart-list'
    if (plan.inputLocation !== undefined) {
      await requireObjects(this.s3, plan.inputLocation, 'body.input.s3Uri')
      const info = await this.datasets.storedInfo(plan.inputLocation)
      recordCount = info?.records
      const own = info?.recordsWithParameters ?? 0
      // JumpStart: with HYPER_PARAMS set, records' own parameters are not used. The lines are
      // sent as stored, so this combination would drop them in silence, on AWS as locally.
      // (A single-input contract's lines are rewritten with both, the record's own winning.)
      if (list && Object.keys(jobParameters).length > 0 && own > 0) {
        throw catalogError('INVALID_PARAMETERS', `body.parameters ${show(jobParameters)} cannot be combined with body.input.s3Uri ${show(formatS3Uri(plan.inputLocation))}: ` +
          `${own} of ${info?.records ?? own} records carry their own parameters, and with job-wide parameters (HYPER_PARAMS) JumpStart does not use a record's own. ` +
          'Drop body.parameters (each record keeps its own), or upload the dataset with the parameters in every line')
      }
    }
    // inline records with parameters of their own: the job-wide ones go into every line (the
    // record's own value wins) and no HYPER_PARAMS is sent, which JumpStart would let override them
    const perRecord = plan.records?.some(r => Object.keys(r.parameters ?? {}).length > 0) ?? false
    const inputLines = plan.records === undefined ? undefined : recordLines(contract, plan.records, body, perRecord)
    if (plan.referencesLocation !== undefined) await requireObjects(this.s3, plan.referencesLocation, 'body.references.s3Uri')

    const submission = this.layout.newSubmission(name)
    const bucket = this.layout.bucket
    const inputUri = plan.inputLocation !== undefined ? formatS3Uri(plan.inputLocation) : formatS3Uri({ bucket, key: submission.input })
    // a dataset for a single-input contract is rewritten into the submission: the job reads that
    const rewritten = plan.inputLocation !== undefined && !list
    const jobInputUri = rewritten ? formatS3Uri({ bucket, key: submission.input }) : inputUri
    const outputUri = formatS3Uri({ bucket, key: submission.output })
    const referencesUri = plan.referencesLocation !== undefined
      ? formatS3Uri(plan.referencesLocation)
      : body.references?.records !== undefined ? formatS3Uri({ bucket, key: submission.references }) : undefined
    const manifest: Manifest = {
      version: 1,
      name,
      model: plan.model,
      owner: tenant.id,
      createdAt: new Date().toISOString(),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      requestHash: hash,
      ...(body.prompt !== undefined ? { prompt: body.prompt } : {}),
      parameters: jobParameters,
      ...(body.truncate !== undefined ? { truncate: body.truncate } : {}),
      input: { s3Uri: inputUri, source: plan.records !== undefined ? 'records' : 's3Uri', ...(recordCount !== undefined ? { recordCount } : {}) },
      ...(referencesUri !== undefined ? { references: { s3Uri: referencesUri, source: plan.referencesLocation !== undefined ? 's3Uri' : 'records' } } : {}),
      output: { s3Uri: outputUri }
    }

    try {
      if (rewritten && plan.inputLocation !== undefined) {
        recordCount = await rewriteDataset(this.s3, contract, plan.inputLocation, jobParameters, truncateExtra(body.truncate), { bucket, key: submission.input })
        manifest.input.recordCount = recordCount
      }
      if (inputLines !== undefined) {
        await putText(this.s3, bucket, submission.input, inputLines.map(l => l + '\n').join(''), 'application/jsonlines')
      }
      if (body.references?.records !== undefined) {
        const lines = body.references.records.map(r => JSON.stringify({ id: r.id, text: r.text }) + '\n')
        await putText(this.s3, bucket, submission.references, lines.join(''), 'application/jsonlines')
      }
      // the manifest goes last: a submission with a manifest is complete
      await putText(this.s3, bucket, submission.manifest, encodeManifest(manifest), 'application/json')
    } catch (err) {
      await this.discard(submission)
      throw err
    }

    const request = createJobRequest(name, plan, body, { input: jobInputUri, output: outputUri }, perRecord, contract.contract, concurrency)
    try {
      await this.control.send(new CreateTransformJobCommand(request))
    } catch (err) {
      return await this.afterCreateFailed(err, { name, hash, submission, manifest, model: plan.model, tenant })
    }
    this.log.info({ job: name, model: plan.model, records: recordCount, submission: submission.base }, 'transform job created')
    return { job: await this.ownJob(name, manifest, submission), replayed: false }
  }

  /**
   * Sorts out a CreateTransformJob that did not answer success. The job may exist anyway: an
   * SDK retry of a create that had succeeded gets ResourceInUse, and a lost response leaves
   * it unknown. So the submission's objects are removed only once SageMaker's answer shows the
   * job is not built on them; when that cannot be known they stay (harmless, unreferenced).
   */
  private async afterCreateFailed (err: unknown, ctx: { name: string, hash: string, submission: Submission, manifest: Manifest, model: string, tenant: Tenant }): Promise<Submitted> {
    const { name, submission } = ctx
    const existing = await this.describe(name).catch(() => undefined)
    const ours = existing?.TransformOutput?.S3OutputPath === ctx.manifest.output.s3Uri
    if (existing !== undefined && ours) {
      this.log.info({ job: name, err: awsName(err) }, 'transform job created (confirmed after an unclear answer)')
      return { job: await this.toJob({ description: existing, manifest: ctx.manifest, submission }), replayed: false }
    }
    const status = awsStatus(err)
    const definite = existing !== undefined || (status !== undefined && status >= 400 && status < 500)
    if (definite) await this.discard(submission)
    if (existing !== undefined) {
      // lost a race with a twin submission: theirs is the job
      return { job: await this.replay(name, existing, ctx.hash, ctx.tenant), replayed: true }
    }
    throw this.createError(err, ctx.model)
  }

  /** Describes a job this gateway has just created (its manifest is already known). */
  private async ownJob (name: string, manifest: Manifest, submission: Submission): Promise<TransformJob> {
    const description = await this.describe(name)
    if (description === undefined) throw catalogError('UPSTREAM_ERROR', `SageMaker does not describe job ${JSON.stringify(name)} it has just created`)
    return await this.toJob({ description, manifest, submission })
  }

  /** One job (404 JOB_NOT_FOUND when SageMaker has none by that name, the gateway did not make it, or `tenant` may not see it). */
  async get (tenant: Tenant, name: string): Promise<TransformJob> {
    return await this.toJob(await this.owned(name, tenant))
  }

  /**
   * A page of the gateway's jobs, newest first. SageMaker lists every job in the account; a
   * job is ours when its S3OutputPath is a submission under `<prefix>/jobs/<name>/` holding a
   * manifest for that name. Others' jobs (and other tenants', unless `tenant` is an admin) are
   * skipped, so a page may hold fewer than `limit`.
   */
  async list (tenant: Tenant, query: { status?: JobStatus, limit: number, nextToken?: string }): Promise<JobList> {
    const jobs: TransformJob[] = []
    let token = query.nextToken
    for (let round = 0; round < LIST_ROUNDS; round++) {
      let page
      try {
        page = await this.control.send(new ListTransformJobsCommand({
          StatusEquals: query.status,
          MaxResults: query.limit - jobs.length,
          NextToken: token,
          SortBy: 'CreationTime',
          SortOrder: 'Descending'
        }))
      } catch (err) {
        if (awsName(err) === 'ValidationException' && token !== undefined) {
          throw catalogError('INVALID_REQUEST', `querystring.nextToken ${show(token)} is not a token from this listing`, { cause: err })
        }
        throw controlPlaneError('ListTransformJobs', err)
      }
      const summaries = page.TransformJobSummaries ?? []
      const found = await mapLimit(summaries, LIST_CONCURRENCY, async (s: TransformJobSummary) => await this.ownedOrUndefined(s.TransformJobName ?? '', tenant))
      jobs.push(...await mapLimit(found.filter((j): j is OwnedJob => j !== undefined), LIST_CONCURRENCY, async (job) => await this.toJob(job)))
      token = page.NextToken
      if (token === undefined || token === '' || jobs.length >= query.limit) break
    }
    return { jobs, ...(token !== undefined && token !== '' ? { nextToken: token } : {}) }
  }

  /** Stops a running job; a job already stopping or stopped is returned as is, an ended one is a 409. */
  async stop (tenant: Tenant, name: string): Promise<TransformJob> {
    let job = await this.owned(name, tenant)
    const status = job.description.TransformJobStatus
    if (status === 'Completed' || status === 'Failed') {
      throw catalogError('CONFLICT', `transform job ${show(name)} has already ended (${status}); there is nothing to stop`)
    }
    if (status === 'InProgress') {
      try {
        await this.control.send(new StopTransformJobCommand({ TransformJobName: job.description.TransformJobName }))
      } catch (err) {
        if (isResourceNotFound(err)) throw this.notFound(name)
        // it may have ended between Describe and Stop; the re-read below tells
        if (awsName(err) !== 'ValidationException') throw controlPlaneError('StopTransformJob', err)
      }
      job = await this.owned(name, tenant)
      const now = job.description.TransformJobStatus
      if (now === 'Completed' || now === 'Failed') {
        throw catalogError('CONFLICT', `transform job ${show(name)} has already ended (${now}); there is nothing to stop`)
      }
    }
    this.log.info({ job: name, status: job.description.TransformJobStatus }, 'transform job stop requested')
    return await this.toJob(job)
  }

  /**
   * The job's results as a stream of lines in input order; 409 JOB_NOT_COMPLETE while it
   * runs. The generator reads S3 lazily: the caller's pace is the only buffer.
   */
  async results (tenant: Tenant, name: string, stats?: JoinStats): Promise<{ job: TransformJob, lines: AsyncGenerator<ResultLine> }> {
    const owned = await this.owned(name, tenant)
    return { job: await this.toJob(owned), lines: this.resultsOf(owned, stats) }
  }

  /**
   * Predictions (generated_texts[0] of each record that has output) and references (`given`,
   * else those of the submission) for evaluating a finished job.
   */
  async evaluationInputs (tenant: Tenant, name: string, given?: JobReferences): Promise<EvaluationInputs> {
    const owned = await this.owned(name, tenant)
    const lines = this.resultsOf(owned)
    let references: Reference[]
    if (given !== undefined) {
      if (exactlyOne(given, 'body.references') === 'records') {
        references = (given.records ?? []).map(r => ({ id: r.id, text: r.text }))
      } else {
        const location = allowedLocation(given.s3Uri as string, 'body.references.s3Uri', tenant, this.checks)
        await requireObjects(this.s3, location, 'body.references.s3Uri')
        references = await readReferences(this.s3, location, 'body.references.s3Uri')
      }
    } else {
      if (owned.manifest.references === undefined) {
        throw catalogError('INVALID_REQUEST', `transform job ${show(name)} was submitted without references; send body.references`)
      }
      const stored = owned.manifest.references
      // a caller's s3Uri is checked again: a job submitted under an older, looser allow-list may name one no longer allowed
      const location = stored.source === 's3Uri' ? allowedLocation(stored.s3Uri, 'the job\'s references.s3Uri', tenant, this.checks) : parseS3Uri(stored.s3Uri)
      references = await readReferences(this.s3, location, 'the job\'s references')
    }
    const predictions: EvaluationInputs['predictions'] = []
    const seen = new Set<string>()
    let records = 0
    for await (const line of lines) {
      records++
      // a record without output has no prediction: the evaluation lists it as missing
      if (!('generated_texts' in line) || seen.has(String(line.id))) continue
      seen.add(String(line.id))
      predictions.push({ id: line.id, text: line.generated_texts[0] ?? '' })
    }
    if (predictions.length === 0) {
      // ROUGE 0 over nothing would read as a model that scored 0: it is a job with no output
      const status = owned.description.TransformJobStatus ?? 'ended'
      throw catalogError('NO_PREDICTIONS', `transform job ${show(name)} is ${status} but its output holds no prediction for any of its ${records} records; there is nothing to evaluate`)
    }
    return { predictions, references }
  }

  // ---- internals ---------------------------------------------------------------------------

  /** The contract of the job's model (DescribeModel); 400 naming the model when there is none or it cannot be told. */
  private async contractOf (model: string): Promise<JobContract> {
    const detection = await modelContract(this.control, model)
    if (detection === undefined) throw catalogError('INVALID_REQUEST', `body.model ${show(model)}: SageMaker has no such model`)
    if (!detection.known) throw catalogError('INVALID_REQUEST', `body.model ${show(model)}: the gateway cannot tell which container contract the model speaks: ${detection.reason}`)
    return { contract: detection.contract, limits: parameterLimits(detection.tgi) }
  }

  private async toJob (job: OwnedJob): Promise<TransformJob> {
    return jobView(job, this.prices, await this.processedOf(job))
  }

  /**
   * How many input records a Completed job's output holds (records joined to an output line),
   * counted by reading it: SageMaker (and moto) can report Completed with output missing. A
   * completed job's output no longer changes, so it is counted once: the count is stored next
   * to the manifest (any replica, or this one after a restart, reads that instead of the
   * output), and kept here for the last PROCESSED_CACHE jobs, concurrent first views sharing
   * one count. Undefined (no `progress`, and a log line) when it cannot be read or counted:
   * a view never fails for want of it.
   */
  private async processedOf (job: OwnedJob): Promise<number | undefined> {
    if (job.description.TransformJobStatus !== 'Completed') return undefined
    const key = job.submission.base
    const cached = this.processed.get(key)
    if (cached !== undefined) return await cached
    const pending = this.countProcessed(job).catch((err: unknown) => {
      this.processed.delete(key) // the next view tries again
      this.log.warn({ err, job: job.manifest.name }, 'could not count a completed job\'s output; its progress is left out')
      return undefined
    })
    this.processed.set(key, pending)
    if (this.processed.size > PROCESSED_CACHE) this.processed.delete(this.processed.keys().next().value as string)
    return await pending
  }

  /** The stored count of a completed job's output records, else counted (joined to its input) and stored. */
  private async countProcessed (job: OwnedJob): Promise<number> {
    const key = job.submission.processed
    const stored = await getText(this.s3, this.layout.bucket, key)
    if (stored !== undefined) {
      const count = parseProcessed(stored)
      if (count !== undefined) return count
      this.log.warn({ job: job.manifest.name, key }, 'a stored output count is unreadable; counting again')
    }
    let count = 0
    for await (const line of this.resultsOf(job)) if ('generated_texts' in line) count++
    try {
      await putText(this.s3, this.layout.bucket, key, JSON.stringify({ processed: count }) + '\n', 'application/json')
    } catch (err) {
      this.log.warn({ err, job: job.manifest.name }, 'could not store a completed job\'s output count; another replica counts it again')
    }
    return count
  }

  /** 409 unless the job has ended; then its results joined to its input, lazily. */
  private resultsOf (owned: OwnedJob, stats?: JoinStats): AsyncGenerator<ResultLine> {
    const name = owned.description.TransformJobName ?? owned.manifest.name
    const status = owned.description.TransformJobStatus ?? 'InProgress'
    if (!TERMINAL.has(status)) {
      throw catalogError('JOB_NOT_COMPLETE', `transform job ${show(name)} is ${status}; results are available once it has ended`)
    }
    const reason = owned.description.FailureReason
    const missing = (): { code: string, message: string } => {
      if (status === 'Failed') return { code: 'JOB_FAILED', message: `the job failed before writing output for this record${reason !== undefined && reason !== '' ? `: ${reason}` : ''}` }
      if (status === 'Stopped') return { code: 'JOB_STOPPED', message: 'the job was stopped before writing output for this record' }
      return { code: 'NO_OUTPUT', message: 'the job wrote no output line for this record' }
    }
    const input = parseS3Uri(owned.description.TransformInput?.DataSource?.S3DataSource?.S3Uri ?? owned.manifest.input.s3Uri)
    const output = parseS3Uri(owned.description.TransformOutput?.S3OutputPath ?? owned.manifest.output.s3Uri)
    return jobResults({ s3: this.s3, input, output, missing, ...(stats !== undefined ? { stats } : {}) })
  }

  /** Answers a repeat: the existing job when the request (and the tenant) matches, else 409. */
  private async replay (name: string, description: DescribeTransformJobResponse, hash: string, tenant: Tenant): Promise<TransformJob> {
    const owned = await this.ownedFrom(description)
    if (owned === undefined) {
      throw catalogError('CONFLICT', `a transform job named ${show(name)} already exists and was not created by this gateway; choose another name`)
    }
    // SageMaker's job names are the account's: another tenant's job holds the name, and the
    // answer says no more of it than that
    if ((owned.manifest.owner ?? DEFAULT_TENANT_ID) !== tenant.id) {
      throw catalogError('CONFLICT', `a transform job named ${show(name)} already exists; choose another name`)
    }
    if (owned.manifest.requestHash !== hash) {
      const via = owned.manifest.idempotencyKey !== undefined ? 'Idempotency-Key' : 'name'
      throw catalogError('CONFLICT', `transform job ${show(name)} already exists for a different request (same ${via}); use a new ${via} for a new job`)
    }
    this.log.info({ job: name }, 'transform job repeat: returning the existing job')
    return await this.toJob(owned)
  }

  /** Best-effort removal of a submission's objects (the job was not created). */
  private async discard (submission: Submission): Promise<void> {
    try {
      await deletePrefix(this.s3, this.layout.bucket, submission.base + '/')
    } catch (err) {
      this.log.warn({ err, submission: submission.base }, 'could not remove an abandoned submission')
    }
  }

  private createError (err: unknown, model: string): CatalogError {
    const name = awsName(err)
    const message = awsMessage(err)
    // AWS answers an unknown model with ValidationException "Could not find model <arn>"
    if (name === 'ResourceNotFound' || /could not find model/i.test(message)) {
      return catalogError('INVALID_REQUEST', `body.model ${show(model)}: SageMaker has no such model`, { cause: err })
    }
    // SageMaker's validation messages are about the caller's request (model, instance type)
    if (name === 'ValidationException') {
      // ARNs carry the account id: keep them out of what the client sees
      const safe = redactAws(message).slice(0, 300)
      return catalogError('INVALID_REQUEST', `SageMaker rejected the job: ${safe}`, { cause: err })
    }
    return controlPlaneError('CreateTransformJob', err)
  }

  private notFound (name: string): CatalogError {
    return catalogError('JOB_NOT_FOUND', `no transform job named ${show(name)}`)
  }

  /** DescribeTransformJob; undefined when there is no such job. */
  private async describe (name: string): Promise<DescribeTransformJobResponse | undefined> {
    // SageMaker's job name rule (the API's `name` is the same, capped at 40)
    if (!SAGEMAKER_NAME_PATTERN.test(name)) return undefined
    try {
      return await this.control.send(new DescribeTransformJobCommand({ TransformJobName: name }))
    } catch (err) {
      if (isResourceNotFound(err)) return undefined
      throw controlPlaneError('DescribeTransformJob', err)
    }
  }

  /** The job and its manifest, or 404 (also when `tenant` may not see it: 404, never 403, so names do not leak). */
  private async owned (name: string, tenant: Tenant): Promise<OwnedJob> {
    const job = await this.ownedOrUndefined(name, tenant)
    if (job === undefined) throw this.notFound(name)
    return job
  }

  private async ownedOrUndefined (name: string, tenant: Tenant): Promise<OwnedJob | undefined> {
    const description = await this.describe(name)
    const job = description === undefined ? undefined : await this.ownedFrom(description)
    return job !== undefined && canSee(tenant, job.manifest.owner) ? job : undefined
  }

  /** The manifest of a described job, when the job is one the gateway made. */
  private async ownedFrom (description: DescribeTransformJobResponse): Promise<OwnedJob | undefined> {
    const name = description.TransformJobName ?? ''
    const outputPath = description.TransformOutput?.S3OutputPath
    if (outputPath === undefined) return undefined
    let location: S3Location
    try {
      location = parseS3Uri(outputPath)
    } catch {
      return undefined
    }
    const submission = this.layout.submissionOf(name, location)
    if (submission === undefined) return undefined
    const text = await getText(this.s3, this.layout.bucket, submission.manifest)
    if (text === undefined) return undefined
    let manifest: Manifest
    try {
      manifest = decodeManifest(text)
    } catch (err) {
      this.log.warn({ err, job: name }, 'unreadable transform job manifest; treating the job as foreign')
      return undefined
    }
    if (manifest.name.toLowerCase() !== name.toLowerCase()) return undefined
    return { description, manifest, submission }
  }
}

/** The count in a job's `processed.json`, or undefined when it is not one. */
function parseProcessed (text: string): number | undefined {
  try {
    const value = (JSON.parse(text) as { processed?: unknown }).processed
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
  } catch {
    return undefined
  }
}
