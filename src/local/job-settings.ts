// A transform job's settings, read from its definition as its container and SageMaker read
// them: SplitType, ContentType, compression, HYPER_PARAMS (batch_size and the generation
// parameters: JumpStart's list container only), BatchStrategy, MaxPayloadInMB,
// MaxConcurrentTransforms, DataProcessing, the output's assembly, and which container the model
// runs (JumpStart's list container, or TGI for a TGI image). A definition the container would
// refuse fails the job (JobFailure).

import { parsePythonLiteral, toPythonLiteral, type PyValue } from '../sagemaker/python-literal.js'
import { DEFAULT_MAX_PAYLOAD_MB, MAX_PAYLOAD_MB } from '../sagemaker/rules.js'
import { isTgiImage } from '../sagemaker/contracts/detect.js'
import { tgiLimits, type TgiLimits } from '../sagemaker/contracts/tgi.js'
import { clientFailure } from './container.js'
import { dataProcessingOf, JsonPathError, type DataProcessingSettings } from './data-processing.js'
import type { JobRecord } from './job-store.js'
import { decodeStepOf, tokenDelayOf } from './tgi-container.js'
import type { DecodeStep } from './decode-loop.js'

/**
 * Content types JumpStart's text2text container reads in a transform job: each record a JSON
 * object (`{"text_inputs", ...}`). An absent ContentType is taken as application/json (an
 * assumption: the notebook and the gateway always set it).
 */
export const JOB_CONTENT_TYPES: readonly string[] = ['application/json', 'application/jsonlines']

/** Records per model call when HYPER_PARAMS has no batch_size. */
export const DEFAULT_BATCH_SIZE = 1

/** A job failure with SageMaker's FailureReason text. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure'
}

/** Job-wide settings derived from the job definition. */
export interface Settings {
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
  /** TransformInput ContentType as given: the Content-Type of each invocation. */
  contentType: string | undefined
  dataProcessing: DataProcessingSettings
  /** Set when the model's image is TGI's: each mini-batch is one request body to it. */
  tgi?: { limits: TgiLimits, tokenDelayMs: number, step?: DecodeStep }
}

/** The TGI container's settings from the model's environment; throws JobFailure as the container would fail to start. */
function tgiSettings (env: Readonly<Record<string, string>>): Settings['tgi'] {
  const limits = tgiLimits(env)
  const tokenDelayMs = tokenDelayOf(env)
  if (typeof limits === 'string') throw new JobFailure(clientFailure(`The model container failed to start: ${limits}.`))
  if (typeof tokenDelayMs === 'string') throw new JobFailure(clientFailure(`The model container failed to start: ${tokenDelayMs}.`))
  const step = decodeStepOf(env)
  if (typeof step === 'string') throw new JobFailure(clientFailure(`The model container failed to start: ${step}.`))
  return { limits, tokenDelayMs, step }
}

/** Reads DataProcessing (validated at CreateTransformJob; a record from before is checked again here). */
function dataProcessing (record: JobRecord): DataProcessingSettings {
  try {
    return dataProcessingOf(record.spec.DataProcessing)
  } catch (err) {
    if (err instanceof JsonPathError) throw new JobFailure(clientFailure(`DataProcessing ${err.message}.`))
    throw err
  }
}

/**
 * Settings of a job whose model runs TGI: each record (after the InputFilter) is a request body
 * as written; TGI reads no HYPER_PARAMS and refuses what it cannot read (415 without JSON, 400
 * for more than one JSON value in a body), which fails the job at that record.
 */
function tgiJobSettings (record: JobRecord, env: Readonly<Record<string, string>>): Settings {
  const spec = record.spec
  const input = spec.TransformInput
  const splitType = input.SplitType ?? 'None'
  const mb = spec.MaxPayloadInMB ?? DEFAULT_MAX_PAYLOAD_MB
  return {
    splitWhole: splitType !== 'Line',
    gzip: input.CompressionType === 'Gzip',
    // SingleRecord: one record per request; MultiRecord: as many lines as MaxPayloadInMB allows, joined by newlines
    batchSize: (spec.BatchStrategy ?? 'MultiRecord') === 'SingleRecord' ? 1 : Number.MAX_SAFE_INTEGER,
    maxPayloadBytes: (mb === 0 ? MAX_PAYLOAD_MB : mb) * 1024 * 1024,
    concurrency: Math.max(1, spec.MaxConcurrentTransforms ?? 1),
    separator: spec.TransformOutput.AssembleWith === 'Line' ? '\n' : '',
    accept: spec.TransformOutput.Accept ?? 'application/octet-stream',
    hyper: {},
    hyperSet: false,
    contentType: input.ContentType,
    dataProcessing: dataProcessing(record),
    tgi: tgiSettings(env)
  }
}

/** Parses HYPER_PARAMS and the other settings; throws JobFailure for what the container would reject. */
export function jobSettings (record: JobRecord): Settings {
  const image = record.container?.Image
  if (image !== undefined && isTgiImage(image)) return tgiJobSettings(record, record.container?.Environment ?? {})
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
    hyperSet,
    contentType: input.ContentType,
    dataProcessing: dataProcessing(record)
  }
}
