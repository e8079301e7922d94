import { Type, type Static } from 'typebox'
import type { HeaderDoc } from './responses.js'
import { SAGEMAKER_NAME_PATTERN_SOURCE } from './sagemaker-names.js'
import { CONTRACT_NAMES } from './contracts.js'

/** SageMaker's endpoint (and model, endpoint config) name rule, as a JSON-schema pattern. */
export const ENDPOINT_NAME_PATTERN = SAGEMAKER_NAME_PATTERN_SOURCE
/** Instance types the gateway deploys on: `ml.<family>.<size>`, sizes as SageMaker names them. */
export const INSTANCE_TYPE_PATTERN = '^ml\\.[a-z][a-z0-9]*\\.(medium|large|xlarge|[1-9][0-9]?xlarge)$'
/** SageMaker's execution role ARN rule (CreateModel ExecutionRoleArn). */
const ROLE_PATTERN = '^arn:aws[a-z-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$'
/** A JumpStart version: `*`, an exact version, or a prefix ending in `.*` (src/jumpstart/versions.ts). */
export const JUMPSTART_VERSION_PATTERN = '^(\\*|[0-9]+(\\.[0-9]+)*(\\.\\*)?)$'
/** Shortest idle time before a tear-down (minutes): last-invoked times are refreshed once a minute per replica. */
export const MIN_IDLE_DELETE_MINUTES = 2

/** SageMaker's endpoint statuses. */
export const ENDPOINT_STATUSES = ['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed'] as const
export type EndpointStatus = typeof ENDPOINT_STATUSES[number]

export const Usage = Type.Object({
  instanceType: Type.String({ description: 'The instance type billed.', examples: ['ml.g5.2xlarge'] }),
  instanceCount: Type.Integer({ description: 'Instances now (endpoints) or for the job.', examples: [1] }),
  instanceSeconds: Type.Number({ description: 'Instance time so far (s): a job from its start to its end (or now) × instances; an endpoint while InService × instances, across scale changes.', examples: [3600] }),
  estimatedCostUsd: Type.Union([Type.Number(), Type.Null()], { description: 'An ESTIMATE: instanceSeconds / 3600 × the on-demand hourly price of the price table (see `prices` of GET /v1/usage); null when the table has no price for the type. Not a bill.', examples: [1.515] }),
  invocations: Type.Optional(Type.Integer({ description: 'Endpoints: successful endpoint invocations the gateway made.' })),
  items: Type.Optional(Type.Integer({ description: 'Endpoints: inputs those invocations carried.' })),
  invocationsSaved: Type.Optional(Type.Integer({ description: 'Endpoints: invocations micro-batching saved (items − invocations).' }))
}, { $id: 'Usage', title: 'Usage', description: 'Instance time and its estimated cost (an estimate from a price table, not a bill).' })
export type Usage = Static<typeof Usage>
export const UsageRef = Type.Ref('Usage')

const ENDPOINT_EXAMPLE = {
  name: 'flan-t5-xl-demo',
  status: 'InService',
  model: 'flan-t5-xl-demo',
  instanceType: 'ml.g5.2xlarge',
  instanceCount: 1,
  createdAt: '2025-06-01T10:00:00.000Z',
  managed: true,
  idleDeleteAfterMinutes: 30,
  lastInvokedAt: '2025-06-01T10:20:00.000Z',
  usage: { instanceType: 'ml.g5.2xlarge', instanceCount: 1, instanceSeconds: 1500, estimatedCostUsd: 0.6313, invocations: 12, items: 240, invocationsSaved: 228 }
}

export const Endpoint = Type.Object({
  name: Type.String({ description: 'The SageMaker endpoint name; also a `model` for /v1/summarize and /v1/generate once InService.' }),
  status: Type.Enum(ENDPOINT_STATUSES, { description: 'SageMaker\'s EndpointStatus.' }),
  model: Type.String({ description: 'The SageMaker model behind it.' }),
  instanceType: Type.String(),
  instanceCount: Type.Integer({ description: 'Instances now (or requested, before InService).' }),
  createdAt: Type.String({ format: 'date-time' }),
  managed: Type.Boolean({ description: 'True when this gateway deployed it: only then can it be scaled or deleted here.' }),
  idleDeleteAfterMinutes: Type.Optional(Type.Integer({ description: 'Deleted after this long without an invocation.' })),
  lastInvokedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Last invocation through any replica, to within a minute.' })),
  failureReason: Type.Optional(Type.String({ description: 'SageMaker\'s reason, when Failed.' })),
  jumpstart: Type.Optional(Type.Object({
    modelId: Type.String({ examples: ['huggingface-text2text-flan-t5-large'] }),
    version: Type.String({ description: 'The version deployed (what `*` or `1.*` resolved to then).', examples: ['2.3.7'] }),
    requestedVersion: Type.String({ description: 'The version as the deploy request named it.', examples: ['*'] })
  }, { description: 'Deployed by JumpStart model id: which model and version it runs.' })),
  contract: Type.Optional(Type.Object({
    name: Type.Enum(CONTRACT_NAMES, { description: 'The container contract: what request the endpoint takes and what it answers (README, Container contracts).' }),
    source: Type.Enum(['explicit', 'detected'], { description: '`explicit`: chosen by the deploy request\'s `contract`; `detected`: read from the image and environment at deploy.' })
  }, { description: 'The container contract, when the gateway deployed the endpoint from a container or a JumpStart id (an existing model\'s is detected when it is used).' })),
  usage: UsageRef
}, { $id: 'Endpoint', title: 'Endpoint', description: 'A SageMaker real-time endpoint the gateway serves.', examples: [ENDPOINT_EXAMPLE] })
// `usage` is a reference to the shared Usage schema, which Static<> cannot see through
export type Endpoint = Omit<Static<typeof Endpoint>, 'usage'> & { usage: Usage }
export const EndpointRef = Type.Ref('Endpoint')
export { ENDPOINT_EXAMPLE }

const Name = Type.String({ pattern: ENDPOINT_NAME_PATTERN, maxLength: 63, description: 'SageMaker endpoint name rules: letters, digits and inner hyphens, at most 63.', examples: ['flan-t5-xl-demo'] })

export const ExistingModel = Type.Object({
  name: Type.String({ pattern: ENDPOINT_NAME_PATTERN, maxLength: 63, description: 'A SageMaker model that exists (it is never deleted by the gateway).' })
}, { additionalProperties: false, title: 'ExistingModel' })

export const ContainerModel = Type.Object({
  image: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$', description: 'Inference image URI (ECR), e.g. a JumpStart Hugging Face text2text image.' }),
  modelDataUrl: Type.String({ minLength: 6, maxLength: 1024, pattern: '^(https|s3)://([^/]+)/?(.*)$', description: 'Model artefacts (s3:// model.tar.gz) the role can read.' }),
  role: Type.String({ minLength: 20, maxLength: 2048, pattern: ROLE_PATTERN, description: 'IAM role SageMaker assumes to pull the image and read the model data.' }),
  environment: Type.Optional(Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$', maxLength: 1024 }), Type.String({ maxLength: 1024 }), { description: 'Container environment (SAGEMAKER_PROGRAM, ...).' }))
}, { additionalProperties: false, title: 'ContainerModel' })

/** The JumpStart version a deploy that names none gets: the newest, as the SDK's `model_version=None`. */
export const DEFAULT_JUMPSTART_VERSION = '*'

export const JumpStartModel = Type.Object({
  jumpstart: Type.Object({
    modelId: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'A JumpStart model id, as the SageMaker Python SDK takes it.', examples: ['huggingface-text2text-flan-t5-large'] }),
    version: Type.Optional(Type.String({ maxLength: 64, pattern: JUMPSTART_VERSION_PATTERN, default: DEFAULT_JUMPSTART_VERSION, description: '`*` (default) the newest version, `1.*` the newest 1.x, or an exact version such as `2.3.7` (the SDK\'s `model_version`).', examples: ['*', '1.*', '2.3.7'] }))
  }, { additionalProperties: false }),
  role: Type.String({ minLength: 20, maxLength: 2048, pattern: ROLE_PATTERN, description: 'IAM role SageMaker assumes to pull the image and read the model data (JumpStart\'s buckets are public to every account).' }),
  environment: Type.Optional(Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$', maxLength: 1024 }), Type.String({ maxLength: 1024 }), { description: 'Container environment over the model\'s defaults (a key given here wins, as the SDK\'s `env`).' }))
}, { additionalProperties: false, title: 'JumpStartModel' })

export const DeployBody = Type.Object({
  name: Name,
  model: Type.Union([ExistingModel, ContainerModel, JumpStartModel], { description: 'An existing model by name; a container; or a JumpStart model id and version, resolved in the gateway\'s region as the SageMaker Python SDK resolves it (image, model data, default environment from the model\'s spec in `jumpstart-cache-prod-<region>`). For a container or a JumpStart id the gateway creates a model named like the endpoint (so it is also a model for transform jobs) and deletes it with the endpoint.' }),
  contract: Type.Optional(Type.Enum(CONTRACT_NAMES, { description: 'The container contract, for an image the gateway does not recognise (without it such a container is refused with 400 naming body.model.image); written on the endpoint and used instead of detection. See README, Container contracts.' })),
  instanceType: Type.String({ pattern: INSTANCE_TYPE_PATTERN, maxLength: 64, description: 'ml.<family>.<size>, e.g. ml.g5.2xlarge.', examples: ['ml.g5.2xlarge'] }),
  instanceCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Default 1; at most ADMIN_MAX_INSTANCE_COUNT (default 10; 403 FORBIDDEN beyond).' })),
  idleDeleteAfterMinutes: Type.Optional(Type.Integer({ minimum: MIN_IDLE_DELETE_MINUTES, maximum: 60 * 24 * 30, description: `Delete the endpoint (and what the gateway created with it) after this many minutes without an invocation; at least ${MIN_IDLE_DELETE_MINUTES}.` }))
}, {
  additionalProperties: false,
  title: 'DeployBody',
  examples: [
    { name: 'flan-t5-xl-demo', model: { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04', modelDataUrl: 's3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.0.2/infer-prepack-huggingface-text2text-flan-t5-xl.tar.gz', role: 'arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole', environment: { SAGEMAKER_PROGRAM: 'inference.py' } }, instanceType: 'ml.g5.2xlarge', instanceCount: 1, idleDeleteAfterMinutes: 30 },
    { name: 'flan-t5-reuse', model: { name: 'flan-t5-xl-model' }, instanceType: 'ml.g5.xlarge' },
    { name: 'flan-t5-large', model: { jumpstart: { modelId: 'huggingface-text2text-flan-t5-large', version: '*' }, role: 'arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole' }, instanceType: 'ml.g5.2xlarge' }
  ]
})
export type DeployBody = Static<typeof DeployBody>

export const DeployHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Accepted for symmetry with jobs; the endpoint name is the idempotency key (a repeat of the same body returns the existing endpoint).' }))
})

export const ScaleBody = Type.Object({
  instanceCount: Type.Integer({ minimum: 1, maximum: 100, description: 'Instances wanted; at least 1 (a real-time endpoint needs an instance: delete it instead), at most ADMIN_MAX_INSTANCE_COUNT (default 10; 403 FORBIDDEN beyond).' })
}, { additionalProperties: false, title: 'ScaleBody', examples: [{ instanceCount: 2 }] })

export const EndpointNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 63, description: 'Endpoint name.', examples: ['flan-t5-xl-demo'] })
})

export const EndpointList = Type.Object({
  endpoints: Type.Array(EndpointRef, { description: 'Deployed by the gateway (admins see every status; other tenants only InService ones), plus those in SAGEMAKER_ENDPOINT_NAME.' })
}, { title: 'EndpointList', examples: [{ endpoints: [ENDPOINT_EXAMPLE] }] })

export const EndpointLocationHeader: HeaderDoc = { description: 'The endpoint\'s URL: poll it until `status` is InService.', type: 'string', examples: ['/v1/endpoints/flan-t5-xl-demo'] }

export const UsageQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601; default 30 days before `to`.' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601; default now.' }))
}, { additionalProperties: false })

const UsageLine = {
  name: Type.String(),
  instanceType: Type.String(),
  instanceCount: Type.Integer(),
  instanceSeconds: Type.Number(),
  estimatedCostUsd: Type.Union([Type.Number(), Type.Null()])
}

export const UsageReport = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  jobs: Type.Array(Type.Object(UsageLine), { description: 'Jobs created in the window (the caller\'s own; admins: everyone\'s), with their whole instance time.' }),
  endpoints: Type.Array(Type.Object({ ...UsageLine, status: Type.String({ description: 'SageMaker\'s status, or Deleted.' }), invocations: Type.Integer(), items: Type.Integer() }), { description: 'Admins only (empty for other tenants): endpoints alive during the window, with their instance time so far (deleted ones: until deleted).' }),
  calls: Type.Array(Type.Object({
    tenant: Type.String(),
    endpoint: Type.String({ description: 'The endpoint (`model`) called.' }),
    requests: Type.Integer({ description: 'Real-time requests (summarize, generate, completions) that reached the queue.' }),
    items: Type.Integer({ description: 'Their inputs that were answered.' })
  }), { description: 'Real-time calls made in the window, counted per UTC hour (an hour that overlaps the window counts whole): the caller\'s own; admins: every tenant\'s. Not in `totals`, which are the endpoints\'.' }),
  totals: Type.Object({
    instanceSeconds: Type.Number(),
    estimatedCostUsd: Type.Number({ description: 'Sum of the known estimates (lines without a price count 0).' }),
    invocations: Type.Integer(),
    items: Type.Integer(),
    invocationsSaved: Type.Integer({ description: 'items − invocations: endpoint invocations micro-batching saved.' })
  }),
  prices: Type.Object({ source: Type.String(), date: Type.String(), region: Type.String() }, { description: 'The price table the estimates come from.' })
}, {
  title: 'UsageReport',
  examples: [{
    from: '2025-05-02T10:30:00.000Z',
    to: '2025-06-01T10:30:00.000Z',
    jobs: [{ name: 'cnn-eval-1', instanceType: 'ml.g5.2xlarge', instanceCount: 2, instanceSeconds: 1234, estimatedCostUsd: 0.5193 }],
    endpoints: [{ name: 'flan-t5-xl-demo', instanceType: 'ml.g5.2xlarge', instanceCount: 1, instanceSeconds: 1500, estimatedCostUsd: 0.6313, status: 'InService', invocations: 12, items: 240 }],
    calls: [{ tenant: 'acme', endpoint: 'flan-t5-xl-demo', requests: 30, items: 240 }],
    totals: { instanceSeconds: 2734, estimatedCostUsd: 1.1506, invocations: 12, items: 240, invocationsSaved: 228 },
    prices: { source: 'UNVERIFIED: recalled us-east-1 on-demand prices ...', date: '2025-10-01', region: 'us-east-1' }
  }],
  description: 'Instance time and ESTIMATED cost: on-demand list prices × instance-seconds, not a bill (no savings plans, storage, data transfer or taxes).'
})
export type UsageReport = Static<typeof UsageReport>
