/**
 * Transform-job requests, gateway side: the job's name, the checks a body gets beyond its
 * schema (locations allowed for the tenant, parameters, ids, SageMaker's payload cap), and the
 * CreateTransformJob request built from it. Pure but for the S3AllowList and S3Layout it reads.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { CreateTransformJobRequest, TransformInstanceType } from '@aws-sdk/client-sagemaker'
import type { CreateJobBody } from '../../schemas/jobs.js'
import { crossCheckParameters, type GenerationParameters } from '../../schemas/params.js'
import { DEFAULT_TENANT_ID, type Tenant } from '../tenants.js'
import { instanceRefusal, type InstanceLimits } from '../instance-limits.js'
import { toPythonLiteral } from '../sagemaker/python-literal.js'
import { DEFAULT_MAX_PAYLOAD_MB, MAX_PAYLOAD_TIMES_CONCURRENCY_MB } from '../sagemaker/rules.js'
import { parseS3Uri, S3UriError, type S3AllowList, type S3Location } from '../sagemaker/s3-uri.js'
import { show } from '../util/json-bounds.js'
import { catalogError } from '../errors.js'
import type { S3Layout } from './layout.js'
import { IdSet } from './records.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'

/** Defaults of `resources`. */
export const DEFAULT_INSTANCE_TYPE = 'ml.g5.2xlarge'
export const DEFAULT_INSTANCE_COUNT = 1
export const DEFAULT_MAX_CONCURRENT_TRANSFORMS = 1

/**
 * MaxConcurrentTransforms for a job: the caller's, else a default by contract. The list contract
 * batches records inside each request, so 1 (SageMaker's own default when a container does not
 * say otherwise) keeps its instance busy. Every other contract gets one record per request and
 * batches across requests in flight: one at a time would leave it idle between records (250 CNN
 * articles took 115 s locally against 12 s at 16), so the default is what it serves at once per
 * instance (TGI's `MAX_CONCURRENT_REQUESTS`, LMI's `OPTION_MAX_ROLLING_BATCH_SIZE`, or the
 * `SERVING_BATCH_SIZE` its dynamic batching gathers), within SageMaker's MaxPayloadInMB ×
 * MaxConcurrentTransforms ≤ 100 MB
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html).
 */
export function jobConcurrency (resources: CreateJobBody['resources'], contract: Pick<ContainerContract, 'name' | 'maxConcurrentPerInstance' | 'maxInputsPerCall'>): number {
  if (resources?.maxConcurrentTransforms !== undefined) return resources.maxConcurrentTransforms
  if (contract.name === 'jumpstart-list') return DEFAULT_MAX_CONCURRENT_TRANSFORMS
  // LMI's dynamic batching gathers concurrent requests into batches of SERVING_BATCH_SIZE
  const perInstance = contract.maxConcurrentPerInstance ?? contract.maxInputsPerCall
  if (perInstance === undefined) return DEFAULT_MAX_CONCURRENT_TRANSFORMS
  const payload = resources?.maxPayloadMB ?? DEFAULT_MAX_PAYLOAD_MB
  return Math.max(1, Math.min(perInstance, Math.floor(MAX_PAYLOAD_TIMES_CONCURRENCY_MB / payload)))
}

/** HYPER_PARAMS keys that must print as Python floats even when whole (1 -> 1.0). */
const FLOAT_PARAMETERS: ReadonlySet<string> = new Set(['temperature', 'top_p'])

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

/** What a checked body asks for: the model, and inline records or the S3 locations it reads. */
export interface JobPlan {
  model: string
  records?: CreateJobBody['input']['records']
  inputLocation?: S3Location
  referencesLocation?: S3Location
}

/** What the checks read besides the body. */
export interface RequestChecks {
  /** Model used when the body names none; undefined = `model` is required. */
  defaultModel: string | undefined
  allowList: S3AllowList
  layout: S3Layout
  /** The instances a tenant may choose (TENANT_INSTANCE_TYPES and the counts); undefined = SageMaker's own limits only. */
  instances?: InstanceLimits
}

/** Checks a body beyond its schema; throws INVALID_* naming the field and value. */
export function checkJobRequest (body: CreateJobBody, tenant: Tenant, checks: RequestChecks): JobPlan {
  const model = body.model ?? checks.defaultModel
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
    inputLocation = allowedLocation(body.input.s3Uri as string, 'body.input.s3Uri', tenant, checks)
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
      referencesLocation = allowedLocation(body.references.s3Uri as string, 'body.references.s3Uri', tenant, checks)
    }
  }
  const payload = body.resources?.maxPayloadMB ?? DEFAULT_MAX_PAYLOAD_MB
  const concurrency = body.resources?.maxConcurrentTransforms ?? DEFAULT_MAX_CONCURRENT_TRANSFORMS
  if (payload * concurrency > MAX_PAYLOAD_TIMES_CONCURRENCY_MB) {
    throw catalogError('INVALID_REQUEST', `body.resources.maxPayloadMB (${payload}) x body.resources.maxConcurrentTransforms (${concurrency}) must be <= ${MAX_PAYLOAD_TIMES_CONCURRENCY_MB}`)
  }
  if (checks.instances !== undefined) {
    const refused = instanceRefusal(checks.instances, tenant, {
      type: { field: body.resources?.instanceType !== undefined ? 'body.resources.instanceType' : `body.resources.instanceType (default ${DEFAULT_INSTANCE_TYPE})`, value: body.resources?.instanceType ?? DEFAULT_INSTANCE_TYPE },
      count: { field: 'body.resources.instanceCount', value: body.resources?.instanceCount ?? DEFAULT_INSTANCE_COUNT }
    })
    if (refused !== undefined) throw catalogError('FORBIDDEN', refused)
  }
  return { model, ...(records !== undefined ? { records } : {}), ...(inputLocation !== undefined ? { inputLocation } : {}), ...(referencesLocation !== undefined ? { referencesLocation } : {}) }
}

/**
 * Parses an s3:// URI from the body and checks it against ALLOWED_S3_PREFIXES and, inside the
 * gateway's own prefix, against `tenant`: only its own datasets (admins: anything).
 */
export function allowedLocation (uri: string, field: string, tenant: Tenant, checks: Pick<RequestChecks, 'allowList' | 'layout'>): S3Location {
  let location: S3Location
  try {
    location = parseS3Uri(uri)
  } catch (err) {
    if (err instanceof S3UriError) throw catalogError('INVALID_S3_URI', `${field}: ${err.message}`)
    throw err
  }
  if (!checks.allowList.allows(location)) {
    const folder = checks.allowList.folderFor(location)
    // read as a key prefix, the folder's name without its slash also matches its siblings
    if (folder !== undefined) throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is read as a key prefix and would also match keys outside the allowed folder (every key starting with ${show(location.key)}); write the folder with its slash: ${show(folder)}`)
    throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is outside the allowed S3 prefixes: ${checks.allowList.describe()}`)
  }
  const owner = checks.layout.ownerOf(location)
  if (!tenant.admin && owner.kind !== 'outside' && !(owner.kind === 'tenant' && owner.tenant === tenant.id)) {
    throw catalogError('S3_URI_NOT_ALLOWED', `${field} ${show(uri)} is not one of your datasets: inside ${checks.layout.rootUri} a job may read only datasets its own tenant uploaded (POST /v1/datasets)`)
  }
  return location
}

/** Which of `records`/`s3Uri` an input or references object has; 400 unless exactly one. */
export function exactlyOne (value: { records?: unknown, s3Uri?: unknown }, field: string): 'records' | 's3Uri' {
  const has = (k: 'records' | 's3Uri'): boolean => value[k] !== undefined
  if (has('records') === has('s3Uri')) {
    throw catalogError('INVALID_REQUEST', `${field} must have exactly one of records or s3Uri (got ${has('records') ? 'both' : 'neither'})`)
  }
  return has('records') ? 'records' : 's3Uri'
}

/**
 * DataProcessing of a job on a single-input contract (TGI, LMI), whose lines are
 * `{"id", "inputs", "parameters"}` (records.ts contractLine): the container gets the request
 * body without the id, and each output line is `{"id", "SageMakerOutput": <the container's
 * answer>}`, so results are joined by id although TGI does not echo it. Per "Associate
 * Prediction Results with Input Records"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html):
 * bracket-notated child elements and JoinSource Input add the output to the input object as
 * SageMakerOutput; the OutputFilter is the page's own example. The output is in input order too
 * (batch-transform.html), which the join also uses.
 */
export const JOINED_BY_ID = {
  InputFilter: "$['inputs','parameters']",
  JoinSource: 'Input',
  OutputFilter: "$['id','SageMakerOutput']"
} as const

/**
 * The CreateTransformJob request of a checked submission. The list contract: JumpStart JSON Lines
 * in and out, job-wide parameters as HYPER_PARAMS unless records carry their own (`perRecord`:
 * then they are in each line). A single-input contract (TGI, LMI): each record its own request
 * (SingleRecord: TGI takes one input per request), `application/json` (TGI's JSON extractor
 * refuses anything else), its parameters in its line, no HYPER_PARAMS (TGI does not read it),
 * joined back by id (JOINED_BY_ID). `concurrency` is the job's MaxConcurrentTransforms (jobConcurrency).
 */
export function createJobRequest (name: string, plan: JobPlan, body: CreateJobBody, uris: { input: string, output: string }, perRecord: boolean, contract: Pick<ContainerContract, 'name'>, concurrency: number): CreateTransformJobRequest {
  const jobParameters = body.parameters ?? {}
  const resources = body.resources ?? {}
  const list = contract.name === 'jumpstart-list'
  const contentType = list ? 'application/jsonlines' : 'application/json'
  return {
    TransformJobName: name,
    ModelName: plan.model,
    BatchStrategy: list ? 'MultiRecord' : 'SingleRecord',
    MaxPayloadInMB: resources.maxPayloadMB ?? DEFAULT_MAX_PAYLOAD_MB,
    MaxConcurrentTransforms: concurrency,
    ...(list && !perRecord && Object.keys(jobParameters).length > 0 ? { Environment: { HYPER_PARAMS: hyperParams(jobParameters) } } : {}),
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uris.input } },
      ContentType: contentType,
      SplitType: 'Line'
    },
    TransformOutput: { S3OutputPath: uris.output, Accept: contentType, AssembleWith: 'Line' },
    ...(list ? {} : { DataProcessing: { ...JOINED_BY_ID } }),
    TransformResources: {
      // the schema checks the shape; SageMaker knows which types exist
      InstanceType: (resources.instanceType ?? DEFAULT_INSTANCE_TYPE) as TransformInstanceType,
      InstanceCount: resources.instanceCount ?? DEFAULT_INSTANCE_COUNT
    },
    Tags: [{ Key: 'created-by', Value: 'text2text-gateway' }]
  }
}
