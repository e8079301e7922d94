// The local SageMaker control plane: CreateTransformJob, DescribeTransformJob,
// ListTransformJobs and StopTransformJob over AWS JSON 1.1 (X-Amz-Target "SageMaker.<Op>"),
// answering as AWS does so @aws-sdk/client-sagemaker parses every reply and error itself:
//   - timestamps are epoch seconds as JSON numbers (ms precision, e.g. 1718000000.123);
//   - errors are HTTP 400 with `{"__type", "Message"}` (modelled ResourceInUse/ResourceNotFound)
//     or `{"__type": "ValidationException", "message"}` (constraint messages as Coral writes
//     them: "1 validation error detected: Value 'x' at 'transformJobName' failed to satisfy
//     constraint: ...").
// Jobs run in a JobRunner; state is durable under `<dataDir>/jobs/` (see job-store.ts).

import type { S3Client } from '@aws-sdk/client-s3'
import { LOCAL_MODEL_NAME } from '../config.js'
import { JobRunner, type JobRunnerOptions, type JobRunnerStats } from './job-runner.js'
import { JobStore, type JobRecord, type TransformJobSpec, type TransformJobStatus } from './job-store.js'
import { parseS3Uri, S3_URI_PATTERN } from './job-input.js'
import type { AwsJsonService } from './server.js'
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './wire.js'

/** X-Amz-Target prefix of the SageMaker control plane. */
export const SAGEMAKER_TARGET_PREFIX = 'SageMaker.'

/** Page size of ListTransformJobs when MaxResults is absent (AWS's default). */
export const DEFAULT_LIST_MAX_RESULTS = 10

/** SageMaker's limit: MaxPayloadInMB, and MaxConcurrentTransforms × MaxPayloadInMB, at most 100 MB. */
export const MAX_TOTAL_PAYLOAD_MB = 100

const NAME_PATTERN_TEXT = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}'
const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/
const S3_URI_PATTERN_TEXT = '^(https|s3)://([^/]+)/?(.*)$'
const ENV_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9]+\.[a-z0-9]+$/
const NAME_CONTAINS_PATTERN = /^[a-zA-Z0-9-]+$/
const STATUSES: readonly TransformJobStatus[] = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']

/** Options of the local control plane; the runner knobs are the runtime's LOCAL_* ones. */
export interface ControlPlaneOptions extends Omit<JobRunnerOptions, 'store'> {
  /** The stack's data directory; job state lives in `<dataDir>/jobs/`. */
  dataDir: string
  /** S3 the runner reads input from and writes output to. */
  s3: S3Client
  /** Models that exist; default [LOCAL_MODEL_NAME]. */
  modelNames?: string[]
  accountId?: string
  region?: string
}

/** The control plane as mounted on the local SageMaker server, plus test handles. */
export interface LocalControlPlane extends AwsJsonService {
  store: JobStore
  runner: JobRunner
  /** Model calls and records the runner made. */
  stats: () => JobRunnerStats
  resetStats: () => void
  /** Resolves once no job is running. */
  idle: () => Promise<void>
  /** Abandons running jobs as a killed process would (nothing more is written); for crash tests. */
  crash: () => Promise<void>
  /** Stops running jobs at a checkpoint, leaving them InProgress for the next start to resume. */
  close: () => Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Validation, in the words AWS uses
// ---------------------------------------------------------------------------------------------

function validationError (message: string): AwsServiceError {
  return new AwsServiceError(400, 'ValidationException', { message })
}

function serializationError (path: string, expected: string): AwsServiceError {
  return new AwsServiceError(400, 'SerializationException', { Message: `Cannot deserialize '${path}': expected ${expected}` })
}

function formatValue (value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'object') return `'${JSON.stringify(value)}'`
  return `'${String(value)}'`
}

/** Collects constraint violations and throws them as one ValidationException, as Coral does. */
class Violations {
  private readonly items: string[] = []

  add (path: string, value: unknown, constraint: string): void {
    this.items.push(`Value ${formatValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`)
  }

  required (path: string, value: unknown): boolean {
    if (value !== undefined && value !== null) return true
    this.add(path, value, 'Member must not be null')
    return false
  }

  string (path: string, value: string | undefined, rules: { min?: number, max?: number, pattern?: RegExp, patternText?: string, values?: readonly string[] }): void {
    if (value === undefined) return
    if (rules.min !== undefined && value.length < rules.min) this.add(path, value, `Member must have length greater than or equal to ${rules.min}`)
    if (rules.max !== undefined && value.length > rules.max) this.add(path, value, `Member must have length less than or equal to ${rules.max}`)
    if (rules.pattern !== undefined && !rules.pattern.test(value)) {
      this.add(path, value, `Member must satisfy regular expression pattern: ${rules.patternText ?? rules.pattern.source}`)
    }
    if (rules.values !== undefined && !rules.values.includes(value)) {
      this.add(path, value, `Member must satisfy enum value set: [${rules.values.join(', ')}]`)
    }
  }

  number (path: string, value: number | undefined, min?: number, max?: number): void {
    if (value === undefined) return
    if (min !== undefined && value < min) this.add(path, value, `Member must have value greater than or equal to ${min}`)
    if (max !== undefined && value > max) this.add(path, value, `Member must have value less than or equal to ${max}`)
  }

  throwIfAny (): void {
    const n = this.items.length
    if (n === 0) return
    throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.items.join('; ')}`)
  }
}

type Json = Record<string, unknown>

function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

type StringRules = Parameters<Violations['string']>[2]

/**
 * Reads the members of one request structure. A wrong JSON type is a SerializationException,
 * as AWS's front end answers; a broken constraint is recorded in `v`. Every message names the
 * member by its path, which AWS derives from the member names: the parent's path, a dot, and
 * the member with a lower-case first letter (`transformInput.dataSource.s3DataSource.s3Uri`).
 */
class Reader {
  constructor (private readonly v: Violations, readonly input: Json, private readonly path = '') {}

  pathOf (member: string): string {
    const name = member.charAt(0).toLowerCase() + member.slice(1)
    return this.path === '' ? name : `${this.path}.${name}`
  }

  #value (member: string, required: boolean): unknown {
    const value = this.input[member]
    if (value !== undefined && value !== null) return value
    if (required) this.v.required(this.pathOf(member), value)
    return undefined
  }

  string (member: string, rules: StringRules = {}, required = false): string | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw serializationError(this.pathOf(member), 'a string')
    this.v.string(this.pathOf(member), value, rules)
    return value
  }

  integer (member: string, bounds: { min?: number, max?: number } = {}, required = false): number | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(this.pathOf(member), 'an integer')
    this.v.number(this.pathOf(member), value, bounds.min, bounds.max)
    return value
  }

  /** A nested structure as raw JSON (stored as given). */
  json (member: string, required = false): Json | undefined {
    const value = this.#value(member, required)
    if (value === undefined) return undefined
    if (!isObject(value)) throw serializationError(this.pathOf(member), 'a structure')
    return value
  }

  /** A nested structure to read members from. */
  struct (member: string, required = false): Reader | undefined {
    const value = this.json(member, required)
    return value === undefined ? undefined : new Reader(this.v, value, this.pathOf(member))
  }

  timestamp (member: string): number | undefined {
    const value = this.#value(member, false)
    if (value === undefined) return undefined
    // JSON 1.1 timestamps are epoch seconds; the SDK sends numbers, other clients may send strings.
    const seconds = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
    if (!Number.isFinite(seconds)) throw serializationError(this.pathOf(member), 'a timestamp (epoch seconds)')
    return seconds * 1000
  }
}

/** Drops undefined members so the stored spec and the wire shape hold only what was given. */
function compact<T extends Json> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** TransformJobName's constraints, as CreateTransformJob documents them. */
const JOB_NAME_RULES: StringRules = { min: 1, max: 63, pattern: NAME_PATTERN, patternText: NAME_PATTERN_TEXT }

/** Validates a CreateTransformJob request and returns the job definition it describes. */
function parseCreateRequest (input: Json): TransformJobSpec {
  const v = new Violations()
  const r = new Reader(v, input)
  const name = r.string('TransformJobName', JOB_NAME_RULES, true)
  const model = r.string('ModelName', { max: 63, pattern: NAME_PATTERN, patternText: NAME_PATTERN_TEXT }, true)
  const maxConcurrent = r.integer('MaxConcurrentTransforms', { min: 0 })
  const maxPayload = r.integer('MaxPayloadInMB', { min: 0, max: MAX_TOTAL_PAYLOAD_MB })
  const batchStrategy = r.string('BatchStrategy', { values: ['MultiRecord', 'SingleRecord'] })

  const clientConfig = r.struct('ModelClientConfig')
  clientConfig?.integer('InvocationsTimeoutInSeconds', { min: 1, max: 3600 })
  clientConfig?.integer('InvocationsMaxRetries', { min: 0, max: 3 })

  const envInput = r.json('Environment')
  let environment: Record<string, string> | undefined
  if (envInput !== undefined) {
    environment = {}
    const entries = Object.entries(envInput)
    if (entries.length > 16) v.add('environment', envInput, 'Member must have length less than or equal to 16')
    for (const [key, value] of entries) {
      if (typeof value !== 'string') throw serializationError(`environment.${key}`, 'a string')
      v.string('environment', key, { max: 1024, pattern: ENV_KEY_PATTERN, patternText: '[a-zA-Z_][a-zA-Z0-9_]*' })
      v.string(`environment.${key}`, value, { max: 10240 })
      environment[key] = value
    }
  }

  const tInput = r.struct('TransformInput', true)
  let transformInput: TransformJobSpec['TransformInput'] | undefined
  if (tInput !== undefined) {
    const s3Source = tInput.struct('DataSource', true)?.struct('S3DataSource', true)
    if (s3Source !== undefined) {
      const dataType = s3Source.string('S3DataType', { values: ['ManifestFile', 'S3Prefix', 'AugmentedManifestFile'] }, true)
      const uri = s3Source.string('S3Uri', { max: 1024, pattern: S3_URI_PATTERN, patternText: S3_URI_PATTERN_TEXT }, true)
      transformInput = compact({
        DataSource: { S3DataSource: { S3DataType: dataType ?? '', S3Uri: uri ?? '' } },
        ContentType: tInput.string('ContentType', { max: 256 }),
        CompressionType: tInput.string('CompressionType', { values: ['None', 'Gzip'] }),
        SplitType: tInput.string('SplitType', { values: ['None', 'Line', 'RecordIO', 'TFRecord'] })
      })
    }
  }

  const tOutput = r.struct('TransformOutput', true)
  const transformOutput: TransformJobSpec['TransformOutput'] | undefined = tOutput === undefined
    ? undefined
    : compact({
      S3OutputPath: tOutput.string('S3OutputPath', { max: 1024, pattern: S3_URI_PATTERN, patternText: S3_URI_PATTERN_TEXT }, true) ?? '',
      Accept: tOutput.string('Accept', { max: 256 }),
      AssembleWith: tOutput.string('AssembleWith', { values: ['None', 'Line'] }),
      KmsKeyId: tOutput.string('KmsKeyId', { max: 2048 })
    })

  const tResources = r.struct('TransformResources', true)
  const transformResources: TransformJobSpec['TransformResources'] | undefined = tResources === undefined
    ? undefined
    : compact({
      InstanceType: tResources.string('InstanceType', { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>' }, true) ?? '',
      InstanceCount: tResources.integer('InstanceCount', { min: 1 }, true) ?? 0,
      VolumeKmsKeyId: tResources.string('VolumeKmsKeyId'),
      TransformAmiVersion: tResources.string('TransformAmiVersion')
    })

  const tags = input.Tags
  if (tags !== undefined && tags !== null) {
    if (!Array.isArray(tags) || !tags.every(isObject)) throw serializationError('tags', 'a list of tags')
    if (tags.length > 50) v.add('tags', tags, 'Member must have length less than or equal to 50')
  }
  v.throwIfAny()

  if (maxConcurrent !== undefined && maxConcurrent > 0 && maxConcurrent * (maxPayload ?? 6) > MAX_TOTAL_PAYLOAD_MB) {
    throw validationError(`MaxConcurrentTransforms (${maxConcurrent}) multiplied by MaxPayloadInMB (${maxPayload ?? 6}) must not exceed ${MAX_TOTAL_PAYLOAD_MB} MB.`)
  }
  for (const [label, uri] of [['TransformInput S3Uri', transformInput?.DataSource.S3DataSource.S3Uri], ['TransformOutput S3OutputPath', transformOutput?.S3OutputPath]] as const) {
    if (uri !== undefined && parseS3Uri(uri) === undefined) {
      throw validationError(`${label} ${uri} is not supported by the local stack: use an s3://bucket/key URI.`)
    }
  }

  return compact({
    TransformJobName: name ?? '',
    ModelName: model ?? '',
    TransformInput: transformInput as TransformJobSpec['TransformInput'],
    TransformOutput: transformOutput as TransformJobSpec['TransformOutput'],
    TransformResources: transformResources as TransformJobSpec['TransformResources'],
    MaxConcurrentTransforms: maxConcurrent,
    MaxPayloadInMB: maxPayload,
    BatchStrategy: batchStrategy,
    Environment: environment,
    ModelClientConfig: clientConfig?.input,
    DataCaptureConfig: r.json('DataCaptureConfig'),
    DataProcessing: r.json('DataProcessing'),
    ExperimentConfig: r.json('ExperimentConfig'),
    Tags: Array.isArray(tags) ? tags as Json[] : undefined
  })
}

/** Validates a request that carries only TransformJobName. */
function parseJobName (input: Json): string {
  const v = new Violations()
  const name = new Reader(v, input).string('TransformJobName', JOB_NAME_RULES, true)
  v.throwIfAny()
  return name ?? ''
}

// ---------------------------------------------------------------------------------------------
// Output shapes
// ---------------------------------------------------------------------------------------------

/** ms since the epoch → JSON 1.1 timestamp (epoch seconds, ms precision). */
function seconds (ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms) / 1000
}

/** DescribeTransformJob's output; defaults the service applies are filled in, as AWS reports them. */
function describe (record: JobRecord): Json {
  const spec = record.spec
  return compact({
    TransformJobName: spec.TransformJobName,
    TransformJobArn: record.arn,
    TransformJobStatus: record.status,
    FailureReason: record.failureReason,
    ModelName: spec.ModelName,
    MaxConcurrentTransforms: spec.MaxConcurrentTransforms ?? 1,
    ModelClientConfig: spec.ModelClientConfig,
    MaxPayloadInMB: spec.MaxPayloadInMB ?? 6,
    BatchStrategy: spec.BatchStrategy ?? 'MultiRecord',
    Environment: spec.Environment ?? {},
    TransformInput: { CompressionType: 'None', SplitType: 'None', ...spec.TransformInput },
    TransformOutput: { AssembleWith: 'None', ...spec.TransformOutput },
    DataCaptureConfig: spec.DataCaptureConfig,
    TransformResources: spec.TransformResources,
    CreationTime: seconds(record.createdAt),
    TransformStartTime: seconds(record.startedAt),
    TransformEndTime: seconds(record.endedAt),
    DataProcessing: { InputFilter: '$', OutputFilter: '$', JoinSource: 'None', ...spec.DataProcessing },
    ExperimentConfig: spec.ExperimentConfig
  })
}

function summary (record: JobRecord): Json {
  return compact({
    TransformJobName: record.spec.TransformJobName,
    TransformJobArn: record.arn,
    CreationTime: seconds(record.createdAt),
    TransformJobStatus: record.status,
    TransformEndTime: seconds(record.endedAt),
    LastModifiedTime: seconds(record.modifiedAt),
    FailureReason: record.failureReason
  })
}

// ---------------------------------------------------------------------------------------------
// ListTransformJobs: filters, order and an opaque cursor
// ---------------------------------------------------------------------------------------------

type SortBy = 'Name' | 'CreationTime' | 'Status'
type SortOrder = 'Ascending' | 'Descending'

/** Where the previous page ended: its last job's sort value and name (names are unique). */
interface Cursor {
  by: SortBy
  order: SortOrder
  value: string | number
  name: string
}

function sortValue (record: JobRecord, by: SortBy): string | number {
  if (by === 'CreationTime') return record.createdAt
  if (by === 'Status') return record.status
  return record.spec.TransformJobName
}

function compareKeys (a: { value: string | number, name: string }, b: { value: string | number, name: string }, order: SortOrder): number {
  const primary = a.value < b.value ? -1 : a.value > b.value ? 1 : 0
  const c = primary !== 0 ? primary : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  return order === 'Ascending' ? c : -c
}

function encodeCursor (cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url')
}

function decodeCursor (token: string, by: SortBy, order: SortOrder): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor
    if (c.by === by && c.order === order && typeof c.name === 'string' && (typeof c.value === 'string' || typeof c.value === 'number')) return c
  } catch {}
  throw validationError('The provided NextToken is not valid for this request: pass the NextToken of the previous page with the same SortBy and SortOrder.')
}

function listJobs (store: JobStore, input: Json): Json {
  const v = new Violations()
  const r = new Reader(v, input)
  const maxResults = r.integer('MaxResults', { min: 1, max: 100 })
  const sortBy = r.string('SortBy', { values: ['Name', 'CreationTime', 'Status'] })
  const sortOrder = r.string('SortOrder', { values: ['Ascending', 'Descending'] })
  const status = r.string('StatusEquals', { values: STATUSES })
  const nameContains = r.string('NameContains', { max: 63, pattern: NAME_CONTAINS_PATTERN, patternText: '[a-zA-Z0-9\\-]+' })
  const nextToken = r.string('NextToken', { max: 8192 })
  const createdAfter = r.timestamp('CreationTimeAfter')
  const createdBefore = r.timestamp('CreationTimeBefore')
  const modifiedAfter = r.timestamp('LastModifiedTimeAfter')
  const modifiedBefore = r.timestamp('LastModifiedTimeBefore')
  v.throwIfAny()

  const by = (sortBy ?? 'CreationTime') as SortBy
  const order = (sortOrder ?? 'Descending') as SortOrder
  const needle = nameContains?.toLowerCase()
  const key = (r: JobRecord): { value: string | number, name: string } => ({ value: sortValue(r, by), name: r.spec.TransformJobName.toLowerCase() })
  let jobs = store.all().filter((r) =>
    (status === undefined || r.status === status) &&
    (needle === undefined || r.spec.TransformJobName.toLowerCase().includes(needle)) &&
    (createdAfter === undefined || r.createdAt > createdAfter) &&
    (createdBefore === undefined || r.createdAt < createdBefore) &&
    (modifiedAfter === undefined || r.modifiedAt > modifiedAfter) &&
    (modifiedBefore === undefined || r.modifiedAt < modifiedBefore))
  jobs.sort((a, b) => compareKeys(key(a), key(b), order))
  if (nextToken !== undefined && nextToken !== '') {
    const cursor = decodeCursor(nextToken, by, order)
    jobs = jobs.filter((r) => compareKeys(key(r), cursor, order) > 0)
  }
  const limit = maxResults ?? DEFAULT_LIST_MAX_RESULTS
  const page = jobs.slice(0, limit)
  const last = page.at(-1)
  return compact({
    TransformJobSummaries: page.map(summary),
    NextToken: jobs.length > limit && last !== undefined ? encodeCursor({ by, order, ...key(last) }) : undefined
  })
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/** Opens the job store under `<dataDir>/jobs/`, resumes unfinished jobs and returns the control plane. */
export async function createLocalControlPlane (options: ControlPlaneOptions): Promise<LocalControlPlane> {
  const store = await JobStore.open(options.dataDir)
  const runner = new JobRunner({ ...options, store })
  const models = new Set(options.modelNames ?? [LOCAL_MODEL_NAME])
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID
  const region = options.region ?? LOCAL_REGION
  const now = options.now ?? Date.now

  const arn = (kind: string, name: string): string => `arn:aws:sagemaker:${region}:${accountId}:${kind}/${name.toLowerCase()}`

  async function create (input: Json): Promise<Json> {
    const spec = parseCreateRequest(input)
    if (!models.has(spec.ModelName)) {
      throw validationError(`Could not find model "${arn('model', spec.ModelName)}".`)
    }
    const existing = store.get(spec.TransformJobName)
    if (existing !== undefined) {
      throw new AwsServiceError(400, 'ResourceInUse', {
        Message: `Job name must be unique within an AWS account and region, and a job with this name already exists (${existing.arn})`
      })
    }
    const createdAt = now()
    const record: JobRecord = {
      spec,
      arn: arn('transform-job', spec.TransformJobName),
      status: 'InProgress',
      createdAt,
      modifiedAt: createdAt
    }
    // store.create claims the name before its first await, so a concurrent duplicate loses.
    await store.create(record)
    runner.run(spec.TransformJobName)
    return { TransformJobArn: record.arn }
  }

  async function stop (input: Json): Promise<Json> {
    const name = parseJobName(input)
    const record = store.get(name)
    if (record === undefined) {
      throw new AwsServiceError(400, 'ResourceNotFound', { Message: `Could not find job to update with name ${name}` })
    }
    if (record.status === 'Completed' || record.status === 'Failed') {
      throw validationError(`The request was rejected because the transform job is in status ${record.status}.`)
    }
    if (record.status === 'InProgress') {
      // update() sets the status synchronously and stop() aborts the run synchronously, so
      // the run cannot mark the job Completed between the two; then wait for the disk write.
      const persisted = store.update(name, { status: 'Stopping', modifiedAt: now() })
      runner.stop(name).catch(() => {})
      await persisted
    }
    return {}
  }

  async function handle (operation: string, input: Json): Promise<unknown> {
    switch (operation) {
      case 'CreateTransformJob':
        return await create(input)
      case 'DescribeTransformJob': {
        const name = parseJobName(input)
        const record = store.get(name)
        if (record === undefined) {
          throw new AwsServiceError(400, 'ResourceNotFound', { Message: `Could not find requested job with name ${name}` })
        }
        return describe(record)
      }
      case 'ListTransformJobs':
        return listJobs(store, input)
      case 'StopTransformJob':
        return await stop(input)
      default:
        throw new AwsServiceError(400, 'UnknownOperationException', {
          message: `Operation ${operation} is not supported by the local SageMaker control plane (transform jobs only)`
        })
    }
  }

  // Pick up where the previous process over this data directory left off.
  for (const record of store.all()) {
    const name = record.spec.TransformJobName
    if (record.status === 'InProgress') runner.run(name)
    else if (record.status === 'Stopping') runner.stop(name).catch(() => {})
    else await store.removeWorkFiles(name)
  }

  return {
    targetPrefix: SAGEMAKER_TARGET_PREFIX,
    handle: async (operation, input) => await handle(operation, input),
    store,
    runner,
    stats: () => runner.stats(),
    resetStats: () => { runner.resetStats() },
    idle: async () => { await runner.idle() },
    crash: async () => { await runner.crash() },
    close: async () => { await runner.close() }
  }
}
