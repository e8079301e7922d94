// Transform jobs in the local control plane: CreateTransformJob, DescribeTransformJob,
// ListTransformJobs and StopTransformJob, answering as AWS does (errors: HTTP 400 with
// `{"__type", "Message"}` for the modelled ResourceInUse/ResourceNotFound, ValidationException
// otherwise). Jobs run in a JobRunner; state is durable under `<dataDir>/jobs/` (job-store.ts).

import type { S3Client } from '@aws-sdk/client-s3'
import type { JobRunner } from '../job-runner.js'
import type { JobRecord, JobStore, TransformJobSpec, TransformJobStatus } from '../job-store.js'
import { inputExists } from '../job-input.js'
import { dataProcessingOf, JsonPathError, MAX_FILTER_LENGTH, type DataProcessingSpec } from '../data-processing.js'
import type { ContainerSpec } from '../../sagemaker/contracts/detect.js'
import { parseSageMakerS3Uri } from '../../sagemaker/s3-uri.js'
import { AwsServiceError } from '../wire.js'
import { listPage, type ListQuery } from './listing.js'
import { compact, isObject, NAME_RULES, parseName, Reader, seconds, serializationError, validationError, Violations, type Json } from './requests.js'
import { S3_URI_PATTERN, S3_URI_PATTERN_TEXT, SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN, SAGEMAKER_NAME_PATTERN_TEXT, TRANSFORM_INSTANCE_TYPES } from '../../sagemaker/rules.js'
import type { Operations } from './index.js'

/** Page size of ListTransformJobs when MaxResults is absent (AWS's default). */
export const DEFAULT_LIST_MAX_RESULTS = 10

/** SageMaker's limit: MaxPayloadInMB, and MaxConcurrentTransforms × MaxPayloadInMB, at most 100 MB. */
export const MAX_TOTAL_PAYLOAD_MB = 100

const ENV_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const STATUSES: readonly TransformJobStatus[] = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']

/** Validates a CreateTransformJob request and returns the job definition it describes. */
function parseCreateRequest (input: Json): TransformJobSpec {
  const v = new Violations()
  const r = new Reader(v, input)
  const name = r.string('TransformJobName', NAME_RULES, true)
  const model = r.string('ModelName', { max: SAGEMAKER_NAME_MAX, pattern: SAGEMAKER_NAME_PATTERN, patternText: SAGEMAKER_NAME_PATTERN_TEXT }, true)
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
      // an instance type SageMaker does not have is refused as AWS refuses it: the enum's Coral message
      InstanceType: tResources.string('InstanceType', { values: TRANSFORM_INSTANCE_TYPES }, true) ?? '',
      InstanceCount: tResources.integer('InstanceCount', { min: 1 }, true) ?? 0,
      VolumeKmsKeyId: tResources.string('VolumeKmsKeyId'),
      TransformAmiVersion: tResources.string('TransformAmiVersion')
    })

  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html
  const processing = r.struct('DataProcessing')
  const dataProcessing: DataProcessingSpec | undefined = processing === undefined
    ? undefined
    : compact({
      InputFilter: processing.string('InputFilter', { max: MAX_FILTER_LENGTH }),
      JoinSource: processing.string('JoinSource', { values: ['Input', 'None'] }),
      OutputFilter: processing.string('OutputFilter', { max: MAX_FILTER_LENGTH })
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
  // a filter outside the JSONPath subset SageMaker supports is refused here, not by a job that
  // fails later (batch-transform-data-processing.html#data-processing-operators)
  try {
    dataProcessingOf(dataProcessing)
  } catch (err) {
    if (err instanceof JsonPathError) throw validationError(`DataProcessing ${err.message}.`)
    throw err
  }
  for (const [label, uri] of [['TransformInput S3Uri', transformInput?.DataSource.S3DataSource.S3Uri], ['TransformOutput S3OutputPath', transformOutput?.S3OutputPath]] as const) {
    if (uri !== undefined && parseSageMakerS3Uri(uri) === undefined) {
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
    DataProcessing: dataProcessing,
    ExperimentConfig: r.json('ExperimentConfig'),
    Tags: Array.isArray(tags) ? tags as Json[] : undefined
  })
}

// ---------------------------------------------------------------------------------------------
// Output shapes
// ---------------------------------------------------------------------------------------------

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

function listJobs (store: JobStore, input: Json): Json {
  const query: ListQuery<JobRecord> = {
    sortBy: ['Name', 'CreationTime', 'Status'],
    sortValue: (r, by) => by === 'CreationTime' ? r.createdAt : by === 'Status' ? r.status : r.spec.TransformJobName,
    name: (r) => r.spec.TransformJobName,
    createdAt: (r) => r.createdAt,
    modifiedAt: (r) => r.modifiedAt,
    status: (r) => r.status,
    statuses: STATUSES,
    defaultMaxResults: DEFAULT_LIST_MAX_RESULTS
  }
  const { page, nextToken } = listPage(store.all(), input, query)
  return compact({ TransformJobSummaries: page.map(summary), NextToken: nextToken })
}

// ---------------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------------

/** What transform jobs need of the rest of the control plane. */
export interface TransformJobsContext {
  store: JobStore
  runner: JobRunner
  /** Throws AWS's error for a model that does not exist; else the model's execution role ARN and its container. */
  requireModel: (name: string) => { role: string, container: ContainerSpec | undefined }
  /** S3 as the job's execution role sees it: CreateTransformJob checks the input exists. */
  s3: S3Client
  region: string
  arn: (kind: string, name: string) => string
  now: () => number
}

/** The four transform-job operations, by name. */
export function transformJobOperations (ctx: TransformJobsContext): Operations {
  const { store, runner, arn, now } = ctx

  /** ResourceInUse, as AWS words it, when a job already has this name. */
  function requireFreeName (name: string): void {
    const existing = store.get(name)
    if (existing !== undefined) {
      throw new AwsServiceError(400, 'ResourceInUse', {
        Message: `Job name must be unique within an AWS account and region, and a job with this name already exists (${existing.arn})`
      })
    }
  }

  async function create (input: Json): Promise<Json> {
    const spec = parseCreateRequest(input)
    const { role, container } = ctx.requireModel(spec.ModelName)
    requireFreeName(spec.TransformJobName)
    // SageMaker checks the input synchronously: an empty prefix or an absent bucket is refused
    // with this ValidationException (seen e.g. in aws/amazon-sagemaker-examples issue #2414:
    // "An error occurred (ValidationException) when calling the CreateTransformJob operation: No
    // S3 objects found under S3 URL ..."), never a job that fails later
    const source = spec.TransformInput.DataSource.S3DataSource
    const location = parseSageMakerS3Uri(source.S3Uri)
    if (location !== undefined && !(await inputExists(ctx.s3, source.S3DataType, location))) {
      throw validationError(`No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. ` +
        `Please ensure that the bucket exists in the selected region (${ctx.region}), that objects exist under that S3 prefix, ` +
        `and that the role "${role}" has "s3:ListBucket" permissions on bucket "${location.bucket}".`)
    }
    // the S3 check awaited: a twin request may have taken the name meanwhile
    requireFreeName(spec.TransformJobName)
    const createdAt = now()
    const record: JobRecord = {
      spec,
      ...(container !== undefined ? { container } : {}),
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
    const name = parseName(input, 'TransformJobName')
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

  return {
    CreateTransformJob: create,
    DescribeTransformJob: async (input) => {
      const name = parseName(input, 'TransformJobName')
      const record = store.get(name)
      if (record === undefined) {
        throw new AwsServiceError(400, 'ResourceNotFound', { Message: `Could not find requested job with name ${name}` })
      }
      return describe(record)
    },
    ListTransformJobs: async (input) => listJobs(store, input),
    StopTransformJob: stop
  }
}

/** Picks up where the previous process over this data directory left off. */
export async function resumeJobs (store: JobStore, runner: JobRunner): Promise<void> {
  for (const record of store.all()) {
    const name = record.spec.TransformJobName
    if (record.status === 'InProgress') runner.run(name)
    else if (record.status === 'Stopping') runner.stop(name).catch(() => {})
    else await store.removeWorkFiles(name)
  }
}
