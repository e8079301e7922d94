import { envSchema } from 'env-schema'
import { Type, type Static } from 'typebox'
import { parseTenantWeights } from './batching/fair-queue.js'
import { BATCHER_DEFAULTS } from './batching/batcher.js'
import { FLUSH_POLICIES, type FlushPolicy } from './batching/flush-policy.js'
import { Keyring } from './tenants.js'
import { parseInstanceTypes, type InstanceLimits } from './instance-limits.js'
import { DEFAULT_INSTANCE_TYPE } from './jobs/requests.js'
import { EXPLICIT_CONTRACT_NAMES, parseEndpointContracts, type ExplicitContractName } from './sagemaker/contracts/explicit.js'
import { ENDPOINT_INSTANCE_TYPES, SAGEMAKER_MAX_PAYLOAD_BYTES, TRANSFORM_INSTANCE_TYPES } from './sagemaker/rules.js'

/** Instance types a non-admin tenant's jobs may use by default: small CPU types and the one-GPU g5 sizes (the job default among them), about $0.1 to $1.5 an hour each. */
export const DEFAULT_TENANT_INSTANCE_TYPES = ['ml.m5.large', 'ml.m5.xlarge', 'ml.c5.xlarge', 'ml.c5.2xlarge', 'ml.g5.xlarge', DEFAULT_INSTANCE_TYPE]
/**
 * The gateway's batcher defaults where they differ from a bare MicroBatcher's (BATCHER_DEFAULTS,
 * which the other BATCH_*, QUEUE_MAX_SIZE, MAX_CONCURRENT_INVOCATIONS and RETRY_* defaults
 * are): payloads of at most 5 MiB, under SageMaker's 6 MiB ceiling (SAGEMAKER_MAX_PAYLOAD_BYTES,
 * the variable's maximum); the flush policy learns each endpoint (see the README's
 * Benchmarks), where a bare batcher sends at once and so behaves under a fake clock as its
 * inputs alone say; retries start at 25 ms, since a real-time caller waits for them and its
 * deadline (REQUEST_TIMEOUT_MS), not a count, bounds them. QUEUE_MAX_PER_KEY's default is
 * half of QUEUE_MAX_SIZE (queueMaxPerKey).
 */
export const GATEWAY_BATCHER_DEFAULTS = {
  maxBytes: 5 * 1024 * 1024,
  flushPolicy: 'learned',
  retryBaseMs: 25
} as const satisfies { maxBytes: number, flushPolicy: FlushPolicy, retryBaseMs: number }
/**
 * Default cap on one single-input endpoint's invocations in flight: each holds a socket and an
 * input until its whole generation ends, so the cap bounds the gateway's own sockets and memory
 * per endpoint; TGI's default admits 128 per instance, more than one gateway process needs.
 */
export const DEFAULT_MAX_CONCURRENT_PER_ENDPOINT = 64

/** The model/endpoint name local mode serves. */
export const LOCAL_MODEL_NAME = 'flan-t5-local'

/**
 * The one environment schema: validation, defaults, types and the README's configuration
 * table all come from here.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'HTTP port.' }),
  HOST: Type.Optional(Type.String({ description: 'Bind address. Default 0.0.0.0 when API_KEYS is set, else 127.0.0.1 (no auth means loopback only). A non-loopback HOST without API_KEYS (or ADMIN_API_KEYS) stops the boot unless ALLOW_OPEN_ACCESS is true.' })),
  ALLOW_OPEN_ACCESS: Type.Boolean({ default: false, description: 'true: serve /v1 without keys on a non-loopback HOST (e.g. the container image\'s 0.0.0.0), open to anyone who can reach it. Off: the gateway refuses to start there without API_KEYS.' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level.' }),
  API_KEYS: Type.Optional(Type.String({ description: 'Comma-separated bearer keys required on /v1 routes, each `tenant:key` or a bare key (its own tenant). A tenant sees only its own jobs and datasets. Unset (and no ADMIN_API_KEYS) = no auth, one tenant (warned at start).' })),
  ADMIN_API_KEYS: Type.Optional(Type.String({ description: 'Comma-separated keys (`tenant:key` or bare) of admins: they see every tenant\'s jobs and datasets.' })),
  RATE_LIMIT_MAX: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests per tenant (or IP without auth) per minute. Unset = off. Per process unless REDIS_URL is set.' })),
  AUTH_FAILURES_MAX: Type.Integer({ default: 20, minimum: 0, description: 'Failed authentications per client address per minute; beyond it that address gets 429 on /v1 until the minute ends (other addresses, and so every key, are unaffected). 0 = off.' }),
  REDIS_URL: Type.Optional(Type.String({ description: 'redis://host:port: rate limits and failed-authentication counts are shared by every replica and survive restarts. Unset = per process.' })),
  BATCH_MAX_SIZE: Type.Integer({ default: BATCHER_DEFAULTS.maxSize, minimum: 1, maximum: 1024, description: 'Items per endpoint invocation, at most.' }),
  BATCH_MAX_WAIT_MS: Type.Integer({ default: BATCHER_DEFAULTS.maxWaitMs, minimum: 0, maximum: 10_000, description: 'How long the first waiting item of a micro-batch may wait for company (ms); under learned, how long a micro-batch waits after the latest arrival for callers still coming back.' }),
  BATCH_MAX_BYTES: Type.Integer({ default: GATEWAY_BATCHER_DEFAULTS.maxBytes, minimum: 1024, maximum: SAGEMAKER_MAX_PAYLOAD_BYTES, description: 'Payload bytes per invocation, at most (SageMaker caps it at 6 MiB).' }),
  BATCH_FLUSH_POLICY: Type.Enum([...FLUSH_POLICIES], { default: GATEWAY_BATCHER_DEFAULTS.flushPolicy, description: 'learned (the default): learn the endpoint\'s latency curve and give every invocation slot an even share of the recent callers, waiting for company only while they are expected back, as far as answered callers do come back (at most the learnt base latency, or while callers of an answered micro-batch keep coming back; for independent callers only the base latency\'s part of an invocation); adaptive: flush at once while no invocation is in flight, else wait for size, bytes or BATCH_MAX_WAIT_MS; eager: flush whenever a slot is free; wait: always wait (see the Benchmarks section).' }),
  QUEUE_MAX_SIZE: Type.Integer({ default: BATCHER_DEFAULTS.maxQueue, minimum: 1, description: 'Items waiting for an invocation, at most; beyond it 503 QUEUE_FULL.' }),
  QUEUE_MAX_PER_KEY: Type.Optional(Type.Integer({ minimum: 1, description: 'Items one tenant (API key, or all keys of one `name:`) may have waiting, at most; beyond it 503 QUEUE_FULL for that tenant only. Default: half of QUEUE_MAX_SIZE (rounded up).' })),
  TENANT_WEIGHTS: Type.Optional(Type.String({ description: 'Micro-batches take waiting items round-robin across tenants; `tenant:weight,...` gives a tenant more items per turn (default 1). The tenant is the name in API_KEYS (`name:key`), or `key-` + 12 hex of the SHA-256 of a bare key.' })),
  MAX_CONCURRENT_INVOCATIONS: Type.Integer({ default: BATCHER_DEFAULTS.maxConcurrent, minimum: 1, maximum: 256, description: 'Invocations in flight, at most, of the micro-batcher shared by list-contract (jumpstart-list) endpoints; each endpoint of a single-input contract (tgi, lmi rolling) has its own bound, REALTIME_MAX_CONCURRENT_PER_ENDPOINT.' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 1, maximum: 600_000, description: 'Deadline of one real-time request (ms); 504 DEADLINE_EXCEEDED past it.' }),
  RETRY_MAX_ATTEMPTS: Type.Integer({ default: BATCHER_DEFAULTS.retry.maxAttempts, minimum: 1, maximum: 1000, description: 'A safety cap on attempts per invocation on throttling, 5xx and network errors; retries are bounded by the requests\' deadlines (REQUEST_TIMEOUT_MS), and this count is not meant to bind.' }),
  RETRY_BASE_MS: Type.Integer({ default: GATEWAY_BATCHER_DEFAULTS.retryBaseMs, minimum: 1, description: 'Backoff base (ms); full jitter.' }),
  RETRY_CAP_MS: Type.Integer({ default: BATCHER_DEFAULTS.retry.capMs, minimum: 1, description: 'Backoff cap (ms).' }),
  DATASET_UPLOADS_MAX: Type.Integer({ default: 4, minimum: 1, maximum: 256, description: 'Dataset uploads streaming at once, at most (each holds its multipart part buffers: 8 MiB parts, 2 in flight); beyond it 503 UPLOADS_BUSY.' }),
  BODY_BYTES_IN_FLIGHT_MAX: Type.Integer({ default: 64 * 1024 * 1024, minimum: 1024, description: 'Bytes of JSON request bodies read into memory at once, across all requests (counted from content-length before reading, or as chunked bytes arrive); beyond it 503 BODIES_BUSY with Retry-After, unread. Parsed bodies take a few times their bytes.' }),
  BODY_TIMEOUT_MS: Type.Integer({ default: 60_000, minimum: 100, maximum: 3_600_000, description: 'A JSON request body must arrive whole within this (ms) of its first byte being expected; past it 408 REQUEST_TIMEOUT and the connection is closed.' }),
  DATASET_MIN_BYTES_PER_SECOND: Type.Integer({ default: 1024, minimum: 0, description: 'A dataset or file upload slower than this (bytes per second, over each DATASET_RATE_WINDOW_MS) is cut with 408 REQUEST_TIMEOUT, freeing its DATASET_UPLOADS_MAX slot; windows in which the gateway\'s own buffers were full (it paused the socket) are not judged. 0 = off.' }),
  DATASET_RATE_WINDOW_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 600_000, description: 'Window (ms) over which DATASET_MIN_BYTES_PER_SECOND is measured; the first window is the upload\'s grace period.' }),
  GENERATE_MAX_ITEMS: Type.Integer({ default: 256, minimum: 1, description: 'text_inputs per /v1/generate call, at most (413 beyond).' }),
  EVAL_MAX_TOKENS: Type.Integer({ default: 20_000, minimum: 1, description: 'Tokens per text in an evaluation, at most (LCS is quadratic); 413 TEXT_TOO_LONG beyond.' }),
  EVAL_WORKERS: Type.Integer({ default: 1, minimum: 1, maximum: 64, description: 'Worker threads scoring ROUGE off the event loop (small requests are scored inline).' }),
  SHED_EVENT_LOOP_DELAY_MS: Type.Integer({ default: 1000, minimum: 0, description: 'Event-loop lag (ms) that counts towards shedding /v1 work with 503, only when sustained (SHED_EVENT_LOOP_SUSTAIN_MS) and only while the gateway\'s own queue or bodies in flight hold at least half of QUEUE_MAX_SIZE or BODY_BYTES_IN_FLIGHT_MAX: a busy machine alone makes the gateway slower, never refuses. 0 = off.' }),
  SHED_EVENT_LOOP_SUSTAIN_MS: Type.Integer({ default: 10_000, minimum: 0, maximum: 600_000, description: 'How long (ms) the event-loop lag must stay over SHED_EVENT_LOOP_DELAY_MS, at every sample (each 500 ms), before it counts.' }),
  SHED_RSS_BYTES: Type.Integer({ default: 0, minimum: 0, description: 'Shed /v1 work with 503 above this resident set size (bytes); 0 = off.' }),
  SHED_HEAP_USED_BYTES: Type.Integer({ default: 0, minimum: 0, description: 'Shed /v1 work with 503 above this heap use (bytes); 0 = off.' }),
  TENANT_INSTANCE_TYPES: Type.String({ default: DEFAULT_TENANT_INSTANCE_TYPES.join(','), description: `Comma-separated instance types the transform jobs (and OpenAI batches) of non-admin tenants may run on; must include ${DEFAULT_INSTANCE_TYPE}, the type of jobs that name none and of every batch. Admins may use any type SageMaker has.` }),
  TENANT_MAX_INSTANCE_COUNT: Type.Integer({ default: 2, minimum: 1, maximum: 100, description: 'Instances per transform job, at most, for a non-admin tenant (403 FORBIDDEN beyond).' }),
  ADMIN_MAX_INSTANCE_COUNT: Type.Integer({ default: 10, minimum: 1, maximum: 100, description: 'Instances per transform job, endpoint deployment or scale, at most, for an admin (403 FORBIDDEN beyond).' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 8000, minimum: 100, description: 'On SIGTERM: how long the whole shutdown may take (ms). Queued and in-flight work (uploads included) gets this minus a reserve (1.5 s, or a quarter when shorter) to finish; what is still running then is answered 503 SHUTTING_DOWN, and the process exits by this time at the latest. Keep it under the grace period before SIGKILL: 10 s for docker/podman stop (raise with --stop-timeout), 30 s in Kubernetes (terminationGracePeriodSeconds).' }),
  SAGEMAKER_ENDPOINT_NAME: Type.Optional(Type.String({ description: 'Real-time endpoint(s), comma-separated; the first is the default `model`. Unset = local mode.' })),
  SAGEMAKER_MODEL_NAME: Type.Optional(Type.String({ description: 'SageMaker model for batch transform jobs.' })),
  AWS_REGION: Type.Optional(Type.String({ description: 'AWS region.' })),
  S3_BUCKET: Type.Optional(Type.String({ description: 'Bucket for datasets, job inputs, manifests and outputs.' })),
  S3_PREFIX: Type.String({ default: 'text2text-gateway', description: 'Key prefix inside S3_BUCKET.' }),
  S3_FORCE_PATH_STYLE: Type.Optional(Type.Boolean({ description: 'Path-style S3 URLs (host/bucket/key), as LocalStack, MinIO and some VPC endpoints need. Default: on when AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 is set (the SDK then sends every S3 call there), else off.' })),
  ALLOWED_S3_PREFIXES: Type.Optional(Type.String({ description: 'Comma-separated s3:// folders jobs may read (matched by whole path segments: s3://b/data means data/, never database/). Default: s3://S3_BUCKET/S3_PREFIX/.' })),
  LOCAL_DATA_DIR: Type.String({ default: './.local', description: 'Local mode: where the local stack keeps S3 objects and job state.' }),
  LOCAL_SAGEMAKER_PORT: Type.Integer({ default: 0, minimum: 0, maximum: 65535, description: 'Local mode: loopback port of the local SageMaker (runtime, control plane, /_local/stats); 0 = any free port.' }),
  LOCAL_S3_PORT: Type.Integer({ default: 0, minimum: 0, maximum: 65535, description: 'Local mode: loopback port of the local S3 (s3rver); 0 = any free port.' }),
  LOCAL_LATENCY_BASE_MS: Type.Number({ default: 0, minimum: 0, description: 'Local mode: emulated latency of one invocation (ms) = base + per-item x items.' }),
  LOCAL_LATENCY_PER_ITEM_MS: Type.Number({ default: 0, minimum: 0, description: 'Local mode: emulated latency per item (ms).' }),
  LOCAL_ENDPOINT_TRANSITION_MS: Type.Integer({ default: 3000, minimum: 0, description: 'Local mode: how long an endpoint takes to go from Creating (or Updating) to InService, and from Deleting to gone (ms).' }),
  LOCAL_MAX_CONCURRENCY: Type.Integer({ default: 64, minimum: 1, description: 'Local mode: invocations beyond it get ThrottlingException.' }),
  LOCAL_FAULT_THROTTLE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'Local mode: share of invocations throttled at random.' }),
  LOCAL_FAULT_ERROR_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'Local mode: share of invocations failing with a 5xx at random.' }),
  LOCAL_FAULT_MODEL_ERROR_PATTERN: Type.Optional(Type.String({ description: 'Local mode: regex; an invocation containing a matching input fails with ModelError.' })),
  // endpoints and usage (issue 14)
  PRICES_FILE: Type.Optional(Type.String({ description: 'JSON price table `{"source","date","region","hourlyUsd":{"ml.g5.2xlarge":1.515,...}}` for usage cost estimates. Default: the built-in (unverified) us-east-1 on-demand table.' })),
  ENDPOINT_SWEEP_INTERVAL_MS: Type.Integer({ default: 60_000, minimum: 0, description: 'How often a replica looks for endpoints idle past their idleDeleteAfterMinutes and deletes them (ms); 0 = never.' }),
  // container contracts (issue 23)
  ENDPOINT_CONTRACTS: Type.Optional(Type.String({ description: `The container contract of endpoints the gateway did not deploy, \`endpoint=contract,...\` (${EXPLICIT_CONTRACT_NAMES.join(', ')}): it wins over detection from the endpoint's model (DescribeModel's image); an endpoint deployed with a contract keeps that one. Unset: detected, and an image the gateway does not know is refused naming the endpoint.` })),
  REALTIME_MAX_CONCURRENT_PER_ENDPOINT: Type.Integer({ default: DEFAULT_MAX_CONCURRENT_PER_ENDPOINT, minimum: 1, maximum: 1024, description: 'Invocations in flight to one single-input endpoint (TGI, LMI rolling batch), at most: the endpoint\'s instances × its container\'s MAX_CONCURRENT_REQUESTS (OPTION_MAX_ROLLING_BATCH_SIZE), capped by this. List endpoints use MAX_CONCURRENT_INVOCATIONS.' }),
  ENDPOINT_CACHE_MS: Type.Integer({ default: 5000, minimum: 0, maximum: 60_000, description: 'How long a replica reuses an endpoint\'s description when routing real-time requests to it (ms).' })
})
export type Config = Static<typeof ConfigSchema>

/** Reads and validates the environment; throws an error naming the bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const data: Record<string, string> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') data[key] = value
  }
  let config: Config
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data, dotenv: false })
  } catch (err) {
    throw new Error(`invalid configuration: ${describeEnvErrors(err, data)}`)
  }
  let keys: Keyring
  try {
    keys = keyring(config)
  } catch (err) {
    throw new Error(`invalid configuration: ${(err as Error).message}`)
  }
  const open = openAccessRefusal(config, keys.enabled)
  if (open !== undefined) throw new Error(`invalid configuration: ${open}`)
  if (config.REDIS_URL !== undefined && !/^rediss?:\/\//.test(config.REDIS_URL)) {
    throw new Error(`invalid configuration: REDIS_URL must start with redis:// or rediss:// (got ${JSON.stringify(config.REDIS_URL.replace(/\/\/[^@/]*@/, '//<credentials>@'))})`)
  }
  if (config.LOCAL_FAULT_MODEL_ERROR_PATTERN !== undefined) {
    try {
      // eslint-disable-next-line no-new
      new RegExp(config.LOCAL_FAULT_MODEL_ERROR_PATTERN)
    } catch (err) {
      throw new Error(`LOCAL_FAULT_MODEL_ERROR_PATTERN is not a valid regular expression: ${(err as Error).message}`)
    }
  }
  try {
    instanceLimits(config)
  } catch (err) {
    throw new Error(`invalid configuration: ${(err as Error).message}`)
  }
  try {
    endpointContracts(config)
  } catch (err) {
    throw new Error(`invalid configuration: ENDPOINT_CONTRACTS: ${(err as Error).message}`)
  }
  if (config.TENANT_WEIGHTS !== undefined) {
    try {
      parseTenantWeights(config.TENANT_WEIGHTS)
    } catch (err) {
      throw new Error(`TENANT_WEIGHTS: ${(err as Error).message}`)
    }
  }
  return config
}

/**
 * Why this configuration must not start (undefined when it may): a non-loopback HOST with no
 * keys (`auth` false) serves every /v1 route to anyone who can reach it, so it needs ALLOW_OPEN_ACCESS=true.
 */
function openAccessRefusal (config: Config, auth: boolean): string | undefined {
  if (config.HOST === undefined || isLoopback(config.HOST) || config.ALLOW_OPEN_ACCESS || auth) return undefined
  return `HOST=${config.HOST} is not a loopback address and neither API_KEYS nor ADMIN_API_KEYS is set, so every /v1 route would be open to anyone who can reach it. ` +
    'Set API_KEYS (comma-separated `tenant:key` or bare keys), or HOST=127.0.0.1, or ALLOW_OPEN_ACCESS=true to serve without keys on purpose'
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: only this machine can connect. */
function isLoopback (host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

interface EnvError { instancePath: string, message?: string, params: Record<string, unknown> }

/** Turns env-schema's ajv errors into one line naming each variable and the value it had. */
function describeEnvErrors (err: unknown, data: Record<string, string>): string {
  const errors = (err as { errors?: EnvError[] }).errors
  if (!Array.isArray(errors)) return (err as Error).message
  return errors.map(e => {
    const name = e.instancePath.replace(/^\//, '') || String(e.params.missingProperty ?? '')
    const allowed = Array.isArray(e.params.allowedValues) ? ` (one of ${e.params.allowedValues.join(', ')})` : ''
    const got = name in data ? ` (got ${JSON.stringify(data[name])})` : ''
    return `${name} ${e.message ?? 'is invalid'}${allowed}${got}`
  }).join('; ')
}

/** Config for tests: defaults plus overrides, no process environment. */
export function testConfig (overrides: Partial<Record<keyof Config, string | number | boolean>> = {}): Config {
  // no lag shedding unless a test asks for it: on a busy machine (CI, a second suite running)
  // a test's event loop lags for long stretches, and a test that fills the queue on purpose
  // (QUEUE_FULL, fairness) would then meet 503s that say nothing about the code under test
  const env: Record<string, string> = { LOG_LEVEL: 'silent', SHED_EVENT_LOOP_DELAY_MS: '0' }
  for (const [k, v] of Object.entries(overrides)) env[k] = String(v)
  return loadConfig(env)
}

/** True when no AWS endpoint is configured: the embedded local stack serves everything. */
export function isLocalMode (config: Config): boolean {
  return config.SAGEMAKER_ENDPOINT_NAME === undefined
}

/** Endpoint names from SAGEMAKER_ENDPOINT_NAME (first = default), or the local model. */
export function endpointNames (config: Config): string[] {
  if (config.SAGEMAKER_ENDPOINT_NAME === undefined) return [LOCAL_MODEL_NAME]
  return config.SAGEMAKER_ENDPOINT_NAME.split(',').map(s => s.trim()).filter(Boolean)
}

/** The tenants' keys from API_KEYS and ADMIN_API_KEYS (none = auth off); throws naming a bad entry. */
export function keyring (config: Config): Keyring {
  return Keyring.parse(config.API_KEYS, config.ADMIN_API_KEYS)
}

/** Round-robin weights per tenant id from TENANT_WEIGHTS (absent ids weigh 1). */
export function tenantWeights (config: Config): Map<string, number> {
  return config.TENANT_WEIGHTS === undefined ? new Map() : parseTenantWeights(config.TENANT_WEIGHTS)
}

/** Items one key may have waiting: QUEUE_MAX_PER_KEY, or half of QUEUE_MAX_SIZE. */
export function queueMaxPerKey (config: Config): number {
  return config.QUEUE_MAX_PER_KEY ?? Math.ceil(config.QUEUE_MAX_SIZE / 2)
}

/** Path-style S3 addressing: S3_FORCE_PATH_STYLE, else on when the SDK is pointed at another S3 (`AWS_ENDPOINT_URL*`). */
export function s3ForcePathStyle (config: Config, env: Record<string, string | undefined> = process.env): boolean {
  if (config.S3_FORCE_PATH_STYLE !== undefined) return config.S3_FORCE_PATH_STYLE
  const set = (name: string): boolean => (env[name] ?? '') !== ''
  return set('AWS_ENDPOINT_URL') || set('AWS_ENDPOINT_URL_S3')
}

/** TENANT_INSTANCE_TYPES, TENANT_MAX_INSTANCE_COUNT, ADMIN_MAX_INSTANCE_COUNT; throws naming a type SageMaker does not have. */
export function instanceLimits (config: Config): InstanceLimits {
  const tenantTypes = parseInstanceTypes(config.TENANT_INSTANCE_TYPES)
  for (const type of tenantTypes) {
    if (!TRANSFORM_INSTANCE_TYPES.includes(type) && !ENDPOINT_INSTANCE_TYPES.includes(type)) throw new Error(`TENANT_INSTANCE_TYPES: ${JSON.stringify(type)} is not a SageMaker instance type`)
  }
  if (!tenantTypes.includes(DEFAULT_INSTANCE_TYPE)) throw new Error(`TENANT_INSTANCE_TYPES must include ${DEFAULT_INSTANCE_TYPE}: jobs that name no instance type and every OpenAI batch run on it`)
  return { tenantTypes, tenantMaxCount: config.TENANT_MAX_INSTANCE_COUNT, adminMaxCount: config.ADMIN_MAX_INSTANCE_COUNT }
}

/** ENDPOINT_CONTRACTS as endpoint name → contract name (empty when unset); throws naming a bad entry. */
export function endpointContracts (config: Config): Map<string, ExplicitContractName> {
  return config.ENDPOINT_CONTRACTS === undefined ? new Map() : parseEndpointContracts(config.ENDPOINT_CONTRACTS)
}
