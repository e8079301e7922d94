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
import { createHash, randomBytes } from 'node:crypto'
import {
  CreateTransformJobCommand, DescribeTransformJobCommand, ListTransformJobsCommand, StopTransformJobCommand,
  type CreateTransformJobRequest, type DescribeTransformJobResponse, type SageMakerClient, type TransformInstanceType, type TransformJobSummary
} from '@aws-sdk/client-sagemaker'
import type { S3Client } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import type { CreateJobBody, JobList, JobReferences, JobStatus, TransformJob } from '../../schemas/jobs.js'
import { crossCheckParameters, type GenerationParameters } from '../../schemas/params.js'
import { catalogError, type CatalogError } from '../errors.js'
import { canSee, DEFAULT_TENANT_ID, type Tenant } from '../tenants.js'
import type { Datasets } from './datasets.js'
import type { S3Layout, Submission } from './layout.js'
import { decodeManifest, encodeManifest, requestHash, type Manifest } from './manifest.js'
import { toPythonLiteral } from './python-literal.js'
import { IdSet, jumpStartLine, toReference } from './records.js'
import { jobResults, MAX_RECORD_BYTES, type JoinStats, type ResultLine } from './results.js'
import { deletePrefix, getStream, getText, listObjects, putText } from './s3-io.js'
import { formatS3Uri, parseS3Uri, S3UriError, type S3AllowList, type S3Location } from './s3-uri.js'
import { splitLines } from './lines.js'
import { DEFAULT_MAX_PAYLOAD_MB, MAX_PAYLOAD_TIMES_CONCURRENCY_MB, SAGEMAKER_NAME_PATTERN } from './rules.js'
import { exceedsJsonDepth, show } from '../util/json-bounds.js'
import { redactAws } from '../util/redact-aws.js'
import type { PriceTable } from '../endpoints/prices.js'
import { jobUsage } from '../endpoints/usage.js'

/** Defaults of `resources`. */
export const DEFAULT_INSTANCE_TYPE = 'ml.g5.2xlarge'
export const DEFAULT_INSTANCE_COUNT = 1
export const DEFAULT_MAX_CONCURRENT_TRANSFORMS = 1

/** HYPER_PARAMS keys that must print as Python floats even when whole (1 -> 1.0). */
const FLOAT_PARAMETERS: ReadonlySet<string> = new Set(['temperature', 'top_p'])

/** Jobs described at once while listing. */
const LIST_CONCURRENCY = 8
/** ListTransformJobs calls per page of ours, at most (others' jobs are skipped). */
const LIST_ROUNDS = 5

const TERMINAL: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Stopped'])

/**
 * The job name for a submission: `name` as given, else derived from the Idempotency-Key
 * and the tenant (`t2t-` + 32 hex of a sha256, so any replica derives the same), else generated
 * (`t2t-<UTC yyyymmddhhmmss>-<8 hex>`, sortable by time).
 */
export function jobNameFor (opts: { name?: string, idempotencyKey?: string, tenant?: string, now?: Date, random?: () => string }): string {
  if (opts.name !== undefined) return opts.name
  if (opts.idempotencyKey !== undefined) {
    // scoped per tenant: two tenants' equal keys are two jobs. The default tenant's names are
    // derived as before tenants existed, so its earlier submissions still replay
    const scope = opts.tenant === undefined || opts.tenant === DEFAULT_TENANT_ID ? '' : `${opts.tenant}\u0000`
    return 't2t-' + createHash('sha256').update(scope + opts.idempotencyKey, 'utf8').digest('hex').slice(0, 32)
  }
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return `t2t-${stamp}-${opts.random?.() ?? randomBytes(4).toString('hex')}`
}

/** Job-wide parameters as HYPER_PARAMS: Python's `str(dict)`, temperature/top_p as floats. */
export function hyperParams (params: GenerationParameters): string {
  return toPythonLiteral(params, FLOAT_PARAMETERS)
}

interface AwsLikeError { name?: string, message?: string, $metadata?: { httpStatusCode?: number } }

function awsName (err: unknown): string {
  return (err as AwsLikeError | undefined)?.name ?? 'Error'
}

/** True for "no such job": ResourceNotFound, or the ValidationException older APIs send. */
export function isJobNotFound (err: unknown): boolean {
  const name = awsName(err)
  return name === 'ResourceNotFound' || (name === 'ValidationException' && /not (be )?found|could not find|does not exist/i.test((err as AwsLikeError).message ?? ''))
}

/** Wraps a SageMaker control-plane error for the client (operation named, AWS details in `cause`). */
export function controlPlaneError (operation: string, err: unknown): CatalogError {
  const name = awsName(err)
  if (name === 'ThrottlingException' || name === 'ResourceLimitExceeded' || name === 'ServiceUnavailable' || (err as AwsLikeError).$metadata?.httpStatusCode === 429) {
    const why = name === 'ResourceLimitExceeded' ? 'an account limit (e.g. the instance quota) is reached' : 'it is throttling or unavailable'
    return catalogError('SAGEMAKER_UNAVAILABLE', `SageMaker ${operation} was refused: ${why}; retry later`, { cause: err, retryAfterSeconds: name === 'ResourceLimitExceeded' ? 60 : 5 })
  }
  return catalogError('UPSTREAM_ERROR', `SageMaker ${operation} failed`, { cause: err })
}

const iso = (d: Date | undefined): string | undefined => d === undefined ? undefined : new Date(d).toISOString()

/** A job SageMaker knows and the gateway made: its description and its manifest. */
interface OwnedJob {
  description: DescribeTransformJobResponse
  manifest: Manifest
  submission: Submission
}

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
  private readonly allowList: S3AllowList
  private readonly datasets: Datasets
  private readonly defaultModel: string | undefined
  private readonly log: FastifyBaseLogger
  private readonly prices: PriceTable | undefined

  constructor (opts: TransformJobsOptions) {
    this.prices = opts.prices
    this.control = opts.control
    this.s3 = opts.s3
    this.layout = opts.layout
    this.allowList = opts.allowList
    this.datasets = opts.datasets
    this.defaultModel = opts.defaultModel
    this.log = opts.log
  }

  /** Submits `tenant`'s job, or returns the existing one for a repeat. Nothing is left behind on a 4xx. */
  async create (tenant: Tenant, body: CreateJobBody, idempotencyKey?: string): Promise<Submitted> {
    const plan = this.validate(body, tenant)
    const name = jobNameFor({ name: body.name, idempotencyKey, tenant: tenant.id })
    const hash = requestHash(body)

    const existing = await this.describe(name)
    if (existing !== undefined) return { job: await this.replay(name, existing, hash, tenant), replayed: true }

    const jobParameters = body.parameters ?? {}
    // existence checks before anything is written
    let recordCount = plan.records?.length
    if (plan.inputLocation !== undefined) {
      await this.requireObjects(plan.inputLocation, 'body.input.s3Uri')
      const info = await this.datasets.storedInfo(plan.inputLocation)
      recordCount = info?.records
      const own = info?.recordsWithParameters ?? 0
      // JumpStart: with HYPER_PARAMS set, records' own parameters are not used. The lines are
      // sent as stored, so this combination would drop them in silence, on AWS as locally.
      if (Object.keys(jobParameters).length > 0 && own > 0) {
        throw catalogError('INVALID_PARAMETERS', `body.parameters ${show(jobParameters)} cannot be combined with body.input.s3Uri ${show(formatS3Uri(plan.inputLocation))}: ` +
          `${own} of ${info?.records ?? own} records carry their own parameters, and with job-wide parameters (HYPER_PARAMS) JumpStart does not use a record's own. ` +
          'Drop body.parameters (each record keeps its own), or upload the dataset with the parameters in every line')
      }
    }
    // inline records with parameters of their own: the job-wide ones go into every line (the
    // record's own value wins) and no HYPER_PARAMS is sent, which JumpStart would let override them
    const perRecord = plan.records?.some(r => Object.keys(r.parameters ?? {}).length > 0) ?? false
    if (plan.referencesLocation !== undefined) await this.requireObjects(plan.referencesLocation, 'body.references.s3Uri')

    const submission = this.layout.newSubmission(name)
    const bucket = this.layout.bucket
    const inputUri = plan.inputLocation !== undefined ? formatS3Uri(plan.inputLocation) : formatS3Uri({ bucket, key: submission.input })
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
      input: { s3Uri: inputUri, source: plan.records !== undefined ? 'records' : 's3Uri', ...(recordCount !== undefined ? { recordCount } : {}) },
      ...(referencesUri !== undefined ? { references: { s3Uri: referencesUri, source: plan.referencesLocation !== undefined ? 's3Uri' : 'records' } } : {}),
      output: { s3Uri: outputUri }
    }

    try {
      if (plan.records !== undefined) {
        const prompt = body.prompt ?? ''
        const lines = plan.records.map(r => jumpStartLine(r.id, prompt + r.text, perRecord ? { ...jobParameters, ...r.parameters } : {}) + '\n')
        await putText(this.s3, bucket, submission.input, lines.join(''), 'application/jsonlines')
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

    const resources = body.resources ?? {}
    const request: CreateTransformJobRequest = {
      TransformJobName: name,
      ModelName: plan.model,
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: resources.maxPayloadMB ?? DEFAULT_MAX_PAYLOAD_MB,
      MaxConcurrentTransforms: resources.maxConcurrentTransforms ?? DEFAULT_MAX_CONCURRENT_TRANSFORMS,
      ...(!perRecord && Object.keys(jobParameters).length > 0 ? { Environment: { HYPER_PARAMS: hyperParams(jobParameters) } } : {}),
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: inputUri } },
        ContentType: 'application/jsonlines',
        SplitType: 'Line'
      },
      TransformOutput: { S3OutputPath: outputUri, Accept: 'application/jsonlines', AssembleWith: 'Line' },
      TransformResources: {
        // the schema checks the shape; SageMaker knows which types exist
        InstanceType: (resources.instanceType ?? DEFAULT_INSTANCE_TYPE) as TransformInstanceType,
        InstanceCount: resources.instanceCount ?? DEFAULT_INSTANCE_COUNT
      },
      Tags: [{ Key: 'created-by', Value: 'text2text-gateway' }]
    }
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
    const status = (err as AwsLikeError).$metadata?.httpStatusCode
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
      for (const job of found) if (job !== undefined) jobs.push(await this.toJob(job))
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
        if (isJobNotFound(err)) throw this.notFound(name)
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
    let references: EvaluationInputs['references']
    if (given !== undefined) {
      if (exactlyOne(given, 'body.references') === 'records') {
        references = (given.records ?? []).map(r => ({ id: r.id, text: r.text }))
      } else {
        const location = this.allowed(given.s3Uri as string, 'body.references.s3Uri', tenant)
        await this.requireObjects(location, 'body.references.s3Uri')
        references = await this.readReferences(location, 'body.references.s3Uri')
      }
    } else {
      if (owned.manifest.references === undefined) {
        throw catalogError('INVALID_REQUEST', `transform job ${show(name)} was submitted without references; send body.references`)
      }
      const stored = owned.manifest.references
      // a caller's s3Uri is checked again: a job submitted under an older, looser allow-list may name one no longer allowed
      const location = stored.source === 's3Uri' ? this.allowed(stored.s3Uri, 'the job\'s references.s3Uri', tenant) : parseS3Uri(stored.s3Uri)
      references = await this.readReferences(location, 'the job\'s references')
    }
    const predictions: EvaluationInputs['predictions'] = []
    const seen = new Set<string>()
    for await (const line of lines) {
      // a record without output has no prediction: the evaluation lists it as missing
      if (!('generated_texts' in line) || seen.has(String(line.id))) continue
      seen.add(String(line.id))
      predictions.push({ id: line.id, text: line.generated_texts[0] ?? '' })
    }
    return { predictions, references }
  }

  // ---- internals ---------------------------------------------------------------------------

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

  /** Checks a body beyond its schema; throws a 400 naming the field and value. */
  private validate (body: CreateJobBody, tenant: Tenant): { model: string, records?: CreateJobBody['input']['records'], inputLocation?: S3Location, referencesLocation?: S3Location } {
    const model = body.model ?? this.defaultModel
    if (model === undefined) throw catalogError('INVALID_REQUEST', 'body.model is required: SAGEMAKER_MODEL_NAME is not set')
    const inputKind = exactlyOne(body.input, 'body.input')
    let records: CreateJobBody['input']['records']
    let inputLocation: S3Location | undefined
    if (inputKind === 'records') {
      records = body.input.records
      const ids = new IdSet()
      records?.forEach((r, i) => {
        const first = ids.add(r.id, i)
        if (first !== undefined) throw catalogError('INVALID_REQUEST', `body.input.records[${i}].id ${show(r.id)} is duplicated (first at body.input.records[${first}])`)
        const cross = crossCheckParameters(r.parameters ?? {}, `body.input.records[${i}].parameters`)
        if (cross !== undefined) throw catalogError('INVALID_PARAMETERS', cross)
        // the record's line will carry the job-wide parameters under its own (see create)
        if (r.parameters !== undefined && Object.keys(r.parameters).length > 0) {
          const merged = crossCheckParameters({ ...body.parameters, ...r.parameters }, 'parameters')
          if (merged !== undefined) throw catalogError('INVALID_PARAMETERS', `body.input.records[${i}].parameters over body.parameters: ${merged}`)
        }
      })
    } else {
      // the objects are sent as they are: a prompt could only be applied by rewriting them
      if (body.prompt !== undefined && body.prompt !== '') {
        throw catalogError('INVALID_REQUEST', 'body.prompt applies to input.records only; for an input.s3Uri, upload the dataset with POST /v1/datasets?prompt=...')
      }
      inputLocation = this.allowed(body.input.s3Uri as string, 'body.input.s3Uri', tenant)
    }
    const cross = crossCheckParameters(body.parameters ?? {}, 'body.parameters')
    if (cross !== undefined) throw catalogError('INVALID_PARAMETERS', cross)
    let referencesLocation: S3Location | undefined
    if (body.references !== undefined) {
      if (exactlyOne(body.references, 'body.references') === 'records') {
        const ids = new IdSet()
        body.references.records?.forEach((r, i) => {
          const first = ids.add(r.id, i)
          if (first !== undefined) throw catalogError('INVALID_REQUEST', `body.references.records[${i}].id ${show(r.id)} is duplicated (first at body.references.records[${first}])`)
        })
      } else {
        referencesLocation = this.allowed(body.references.s3Uri as string, 'body.references.s3Uri', tenant)
      }
    }
    const payload = body.resources?.maxPayloadMB ?? DEFAULT_MAX_PAYLOAD_MB
    const concurrency = body.resources?.maxConcurrentTransforms ?? DEFAULT_MAX_CONCURRENT_TRANSFORMS
    if (payload * concurrency > MAX_PAYLOAD_TIMES_CONCURRENCY_MB) {
      throw catalogError('INVALID_REQUEST', `body.resources.maxPayloadMB (${payload}) x body.resources.maxConcurrentTransforms (${concurrency}) must be <= ${MAX_PAYLOAD_TIMES_CONCURRENCY_MB}`)
    }
    return { model, ...(records !== undefined ? { records } : {}), ...(inputLocation !== undefined ? { inputLocation } : {}), ...(referencesLocation !== undefined ? { referencesLocation } : {}) }
  }

  /**
   * Parses an s3:// URI from the body and checks it against ALLOWED_S3_PREFIXES and, inside the
   * gateway's own prefix, against `tenant`: only its own datasets (admins: anything).
   */
  private allowed (uri: string, field: string, tenant: Tenant): S3Location {
    let location: S3Location
    try {
      location = parseS3Uri(uri)
    } catch (err) {
      if (err instanceof S3UriError) throw catalogError('INVALID_S3_URI', `${field}: ${err.message}`)
      throw err
    }
    if (!this.allowList.allows(location)) {
      const folder = this.allowList.folderFor(location)
      // read as a key prefix, the folder's name without its slash also matches its siblings
      if (folder !== undefined) throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is read as a key prefix and would also match keys outside the allowed folder (every key starting with ${show(location.key)}); write the folder with its slash: ${show(folder)}`)
      throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is outside the allowed S3 prefixes: ${this.allowList.describe()}`)
    }
    const owner = this.layout.ownerOf(location)
    if (!tenant.admin && owner.kind !== 'outside' && !(owner.kind === 'tenant' && owner.tenant === tenant.id)) {
      throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is not one of your datasets: inside ${this.layout.rootUri} a job may read only datasets its own tenant uploaded (POST /v1/datasets)`)
    }
    return location
  }

  /** 400 when no object lies under `location` (a job over it would fail at once). */
  private async requireObjects (location: S3Location, field: string): Promise<void> {
    for await (const obj of listObjects(this.s3, location.bucket, location.key)) {
      if (!obj.key.endsWith('/')) return
    }
    throw catalogError('S3_OBJECT_NOT_FOUND', `${field} ${show(formatS3Uri(location))} matches no S3 object`)
  }

  /** Reads reference lines (`{"id","text"}` or `{"id","text_inputs"}`) from every object under `location`. */
  private async readReferences (location: S3Location, what: string): Promise<EvaluationInputs['references']> {
    const out: EvaluationInputs['references'] = []
    for await (const obj of listObjects(this.s3, location.bucket, location.key)) {
      if (obj.key.endsWith('/')) continue
      const body = await getStream(this.s3, location.bucket, obj.key)
      if (body === undefined) continue
      try {
        for await (const line of splitLines(body, MAX_RECORD_BYTES)) {
          if (line.text !== undefined && line.text.trim() === '') continue
          let value: unknown
          try { value = line.text === undefined || exceedsJsonDepth(line.text) ? undefined : JSON.parse(line.text) } catch { value = undefined }
          const reference = toReference(value)
          if (reference === undefined) {
            throw catalogError('INVALID_REQUEST', `${what}: ${formatS3Uri({ bucket: location.bucket, key: obj.key })} line ${line.number} is not {"id","text"} JSON`)
          }
          out.push(reference)
        }
      } finally {
        body.destroy()
      }
    }
    return out
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
    const message = (err as AwsLikeError).message ?? ''
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
      if (isJobNotFound(err)) return undefined
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

  /**
   * Progress where it can be honestly known, the same on AWS and locally: SageMaker reports
   * nothing between InProgress and Completed (DescribeTransformJob has no record count, and a
   * job writes its `<input>.out` objects only as whole files), so `{processed: total, total}`
   * once Completed with a known record count, else none.
   */
  private progress (job: OwnedJob): { processed: number, total: number } | undefined {
    const total = job.manifest.input.recordCount
    return job.description.TransformJobStatus === 'Completed' && total !== undefined ? { processed: total, total } : undefined
  }

  /** The API's job: SageMaker's status and times, the manifest's facts. */
  private async toJob (job: OwnedJob): Promise<TransformJob> {
    const d = job.description
    const m = job.manifest
    const progress = this.progress(job)
    const startedAt = iso(d.TransformStartTime)
    const endedAt = iso(d.TransformEndTime)
    return {
      name: d.TransformJobName ?? m.name,
      status: (d.TransformJobStatus ?? 'InProgress') as JobStatus,
      model: d.ModelName ?? m.model,
      owner: m.owner ?? DEFAULT_TENANT_ID,
      createdAt: iso(d.CreationTime) ?? m.createdAt,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(endedAt !== undefined ? { endedAt } : {}),
      ...(d.FailureReason !== undefined && d.FailureReason !== '' ? { failureReason: redactAws(d.FailureReason) } : {}),
      input: { s3Uri: m.input.s3Uri, ...(m.input.recordCount !== undefined ? { recordCount: m.input.recordCount } : {}) },
      output: { s3Uri: m.output.s3Uri },
      ...(m.references !== undefined ? { references: { s3Uri: m.references.s3Uri } } : {}),
      parameters: m.parameters,
      ...(progress !== undefined ? { progress } : {}),
      ...(this.prices !== undefined ? { usage: jobUsage(this.prices, { instanceType: d.TransformResources?.InstanceType ?? 'unknown', instanceCount: d.TransformResources?.InstanceCount ?? 1, startMs: d.TransformStartTime?.getTime(), endMs: d.TransformEndTime?.getTime() }, Date.now()) } : {})
    }
  }
}

/** Which of `records`/`s3Uri` an input or references object has; 400 unless exactly one. */
function exactlyOne (value: { records?: unknown, s3Uri?: unknown }, field: string): 'records' | 's3Uri' {
  const has = (k: 'records' | 's3Uri'): boolean => value[k] !== undefined
  if (has('records') === has('s3Uri')) {
    throw catalogError('INVALID_REQUEST', `${field} must have exactly one of records or s3Uri (got ${has('records') ? 'both' : 'neither'})`)
  }
  return has('records') ? 'records' : 's3Uri'
}

/** Maps with at most `limit` calls in flight, keeping order. */
async function mapLimit<T, R> (items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
