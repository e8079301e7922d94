// InvokeEndpoint and InvokeEndpointWithResponseStream for the local stack: SageMaker Runtime's
// front door (endpoint lookup, payload limit, concurrency throttling, injected faults) in front
// of the container the endpoint's model names by its image: the emulated TGI container
// (tgi-container.ts) for a TGI image, the JumpStart text2text list container (container.ts)
// for any other. Errors are AwsServiceError values shaped exactly as AWS puts them on the wire,
// so the real SDK client raises the same exceptions it would against AWS.

import { setTimeout as sleep } from 'node:timers/promises'
import { SAGEMAKER_MAX_PAYLOAD_BYTES, SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN } from '../sagemaker/rules.js'
import { isTgiImage, type ContainerSpec } from '../sagemaker/contracts/detect.js'
import { tgiLimits, type TgiLimits } from '../sagemaker/contracts/tgi.js'
import { BatchSizeLog, ContainerRefusal, faultPattern, readPayload } from './container.js'
import type { DecodeStep } from './decode-loop.js'
import { decodeStepOf, TgiContainer, tokenDelayOf } from './tgi-container.js'
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './wire.js'

/** InvokeEndpoint's payload limit, SageMaker's (6,291,456 bytes: AWS's 413 names this number). */
export const MAX_PAYLOAD_BYTES = SAGEMAKER_MAX_PAYLOAD_BYTES

/** Production variant name JumpStart deployments use; echoed in `x-Amzn-Invoked-Production-Variant`. */
export const DEFAULT_VARIANT_NAME = 'AllTraffic'

/** Knobs of the local runtime; every one is optional and defaults to a fast, fault-free endpoint. */
export interface LocalRuntimeOptions {
  /** Endpoints that always exist (the built-in one); with neither this nor `isServing`, any well-formed name exists. */
  endpointNames?: string[]
  /** Endpoints the control plane has deployed and that serve now (InService, or Updating on the old config). */
  isServing?: (name: string) => boolean
  /** The container (image, environment) of the model an endpoint serves; undefined: the list container. */
  containerOf?: (name: string) => ContainerSpec | undefined
  /** ms added to every invocation that reaches the model. */
  latencyBaseMs?: number
  /** ms added per input item of an invocation that reaches the model. */
  latencyPerItemMs?: number
  /** Invocations allowed in flight at once; beyond it, ThrottlingException. Unset = unlimited. */
  maxConcurrency?: number
  /** Probability (0..1) that an admitted invocation is throttled at random. */
  faultThrottleRate?: number
  /** Probability (0..1) of a random ServiceUnavailable (503) or InternalFailure (500), half each. */
  faultErrorRate?: number
  /** Regex source: an invocation with any input matching it fails as a whole with ModelError. */
  faultModelErrorPattern?: string
  /**
   * Source of randomness for faults, returning [0, 1). Drawn once per admitted invocation, only
   * when a fault rate is non-zero: r < throttleRate → throttle; r < throttleRate + errorRate/2 →
   * 503; r < throttleRate + errorRate → 500; otherwise no fault (so if the rates sum past 1,
   * throttles take precedence).
   */
  random?: () => number
  accountId?: string
  region?: string
  variantName?: string
}

/** How an invocation ended. */
export type InvocationOutcome =
  | 'success'
  | 'modelError'
  | 'throttled'
  | 'serviceUnavailable'
  | 'internalFailure'
  | 'validationError'
  | 'payloadTooLarge'

const OUTCOMES: readonly InvocationOutcome[] = [
  'success', 'modelError', 'throttled', 'serviceUnavailable', 'internalFailure', 'validationError', 'payloadTooLarge'
]

/** Counters for tests and benchmarks (also served as JSON at GET /_local/stats). */
export interface LocalStats {
  /** InvokeEndpoint requests answered, whatever the outcome. */
  invocations: number
  /** Input items of invocations that reached the model (admitted, body parsed), whatever it answered. */
  items: number
  outcomes: Record<InvocationOutcome, number>
  /** `items` split by outcome; only 'success' and 'modelError' can be non-zero. */
  itemsByOutcome: Record<InvocationOutcome, number>
  /** Invocations currently admitted and not yet answered. */
  inFlight: number
  /** Highest `inFlight` seen since start or the last reset. */
  maxInFlight: number
  /** Items per invocation that reached the model, in arrival order (the last MAX_RECORDED_BATCHES of container.ts). */
  batchSizes: number[]
}

/** One InvokeEndpoint request as the HTTP layer decoded it. */
export interface InvokeInput {
  endpointName: string
  contentType: string | undefined
  accept: string | undefined
  /** The payload; empty when `bytes` exceeds MAX_PAYLOAD_BYTES. */
  body: Buffer
  /** Payload size as sent, in bytes. */
  bytes: number
}

/** A successful InvokeEndpoint answer. */
export interface InvokeOutput {
  body: Buffer
  contentType: string
  invokedProductionVariant: string
}

/** A successful InvokeEndpointWithResponseStream answer: the container's body as it is produced. */
export interface StreamOutput {
  contentType: string
  invokedProductionVariant: string
  /** The container's body in the pieces it writes them; throws if the container breaks off. */
  chunks: AsyncIterable<Buffer>
}

/** The local InvokeEndpoint implementation. */
export interface LocalRuntime {
  /** Answers one invocation or throws an AwsServiceError shaped as AWS sends it. */
  invoke: (input: InvokeInput) => Promise<InvokeOutput>
  /**
   * InvokeEndpointWithResponseStream: the front door and the container's status as `invoke`
   * (a refusal throws before anything is streamed), then the body as the container writes it.
   * `signal` aborts when the client goes away: the container stops generating.
   */
  invokeStream: (input: InvokeInput, signal: AbortSignal) => Promise<StreamOutput>
  stats: () => LocalStats
  resetStats: () => void
  /** Requests holding a permit of `endpoint`'s emulated TGI container now (0 when it has none yet); read-only, for tests. */
  tgiBusy: (endpoint: string) => number
}

function zeroOutcomes (): Record<InvocationOutcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<InvocationOutcome, number>
}

function checkRate (name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${name} must be between 0 and 1, got ${value}`)
  return value
}

function checkMs (name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number of ms, got ${value}`)
  return value
}

function checkConcurrency (value: number): number {
  if (!(value >= 1)) throw new RangeError(`maxConcurrency must be >= 1, got ${value}`)
  return value
}

const OUTCOME_BY_ERROR: Record<string, InvocationOutcome> = {
  ModelError: 'modelError',
  ThrottlingException: 'throttled',
  ServiceUnavailable: 'serviceUnavailable',
  InternalFailure: 'internalFailure',
  ValidationError: 'validationError'
}

/** The runtime's validated knobs. */
interface RuntimeSettings {
  exists: (name: string) => boolean
  containerOf: (name: string) => ContainerSpec | undefined
  latencyBaseMs: number
  latencyPerItemMs: number
  maxConcurrency: number
  throttleRate: number
  errorRate: number
  fault: RegExp | undefined
  random: () => number
  accountId: string
  region: string
  variantName: string
}

/** Which endpoints exist: the fixed ones and those deployed; with neither, every well-formed name. */
function endpointExists (options: LocalRuntimeOptions): (name: string) => boolean {
  const fixed = options.endpointNames === undefined ? undefined : new Set(options.endpointNames)
  const deployed = options.isServing
  return fixed === undefined && deployed === undefined
    ? () => true
    : (name: string) => fixed?.has(name) === true || deployed?.(name) === true
}

/** Reads and checks every option; throws RangeError/SyntaxError on a bad one. */
function runtimeSettings (options: LocalRuntimeOptions): RuntimeSettings {
  return {
    exists: endpointExists(options),
    containerOf: options.containerOf ?? (() => undefined),
    latencyBaseMs: checkMs('latencyBaseMs', options.latencyBaseMs ?? 0),
    latencyPerItemMs: checkMs('latencyPerItemMs', options.latencyPerItemMs ?? 0),
    maxConcurrency: checkConcurrency(options.maxConcurrency ?? Number.POSITIVE_INFINITY),
    throttleRate: checkRate('faultThrottleRate', options.faultThrottleRate ?? 0),
    errorRate: checkRate('faultErrorRate', options.faultErrorRate ?? 0),
    fault: faultPattern(options.faultModelErrorPattern),
    random: options.random ?? Math.random,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    region: options.region ?? LOCAL_REGION,
    variantName: options.variantName ?? DEFAULT_VARIANT_NAME
  }
}

/** The counters behind stats(). */
class RuntimeCounters {
  invocations = 0
  items = 0
  outcomes = zeroOutcomes()
  itemsByOutcome = zeroOutcomes()
  inFlight = 0
  maxInFlight = 0
  readonly batchSizes = new BatchSizeLog()

  /** Counts an answered invocation that carried `n` items to the model (0: it never reached it). */
  record (outcome: InvocationOutcome, n: number): void {
    this.outcomes[outcome]++
    if (n > 0) {
      this.items += n
      this.itemsByOutcome[outcome] += n
      this.batchSizes.push(n)
    }
  }

  enter (): void {
    this.inFlight++
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight
  }

  leave (): void {
    this.inFlight--
  }

  snapshot (): LocalStats {
    return {
      invocations: this.invocations,
      items: this.items,
      outcomes: { ...this.outcomes },
      itemsByOutcome: { ...this.itemsByOutcome },
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      batchSizes: this.batchSizes.list()
    }
  }

  reset (): void {
    this.invocations = 0
    this.items = 0
    this.outcomes = zeroOutcomes()
    this.itemsByOutcome = zeroOutcomes()
    this.maxInFlight = this.inFlight
    this.batchSizes.clear()
  }
}

const logGroup = (endpoint: string): string => `/aws/sagemaker/Endpoints/${endpoint}`

/**
 * The ModelError SageMaker returns when the container answers 4xx; OriginalMessage is the
 * container's body (`body`, or the toolkit's `{"code","type","message"}` for `message`).
 */
function modelError (settings: RuntimeSettings, endpoint: string, originalStatus: number, message: string, body?: string): AwsServiceError {
  const { region, accountId } = settings
  const original = body ?? JSON.stringify({ code: originalStatus, type: 'BadRequestException', message }, null, 2) + '\n'
  const logsUrl = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup(endpoint)}`
  return new AwsServiceError(424, 'ModelError', {
    ErrorCode: 'CLIENT_ERROR_FROM_MODEL',
    LogStreamArn: `arn:aws:logs:${region}:${accountId}:log-group:${logGroup(endpoint)}`,
    Message: `Received ${originalStatus >= 500 ? 'server' : 'client'} error (${originalStatus}) from primary with message "${original}". See ${logsUrl} in account ${accountId} for more information.`,
    OriginalMessage: original,
    OriginalStatusCode: originalStatus
  })
}

// SageMaker sends throttles as HTTP 400 with the type only in the header and a null message.
const throttled = (): AwsServiceError => new AwsServiceError(400, 'ThrottlingException', { message: null })

/** SageMaker Runtime's front door: payload limit, endpoint name and existence, concurrency, injected faults. */
function frontDoor (settings: RuntimeSettings, inFlight: number, input: InvokeInput): void {
  if (input.bytes > MAX_PAYLOAD_BYTES) {
    // The front end rejects it before any service code runs: no error type, status 413.
    throw new AwsServiceError(413, undefined, { message: `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.` })
  }
  const name = input.endpointName
  // InvokeEndpoint's EndpointName rule, in the words of its ValidationError
  if (name.length > SAGEMAKER_NAME_MAX || !SAGEMAKER_NAME_PATTERN.test(name)) {
    throw new AwsServiceError(400, 'ValidationError', {
      message: `1 validation error detected: Value '${name}' at 'endpointName' failed to satisfy constraint: ` +
        `Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])* and have length <= ${SAGEMAKER_NAME_MAX}`
    })
  }
  // an endpoint still Creating is not found either: the runtime knows endpoints once they serve
  if (!settings.exists(name)) {
    throw new AwsServiceError(400, 'ValidationError', { message: `Endpoint ${name} of account ${settings.accountId} not found.` })
  }
  if (inFlight >= settings.maxConcurrency) throw throttled()
  const { throttleRate, errorRate } = settings
  if (throttleRate > 0 || errorRate > 0) {
    const r = settings.random()
    if (r < throttleRate) throw throttled()
    if (r < throttleRate + errorRate / 2) {
      throw new AwsServiceError(503, 'ServiceUnavailable', { message: 'The service is unavailable. Try your call again.' })
    }
    if (r < throttleRate + errorRate) {
      throw new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred. Try your call again.' })
    }
  }
}

/** The container's answer to one payload; its refusals as the ModelError SageMaker wraps them in. */
function container (settings: RuntimeSettings, input: InvokeInput): { items: number, run: () => InvokeOutput } {
  const { items: n, run } = readPayload(input, settings.fault)
  return {
    items: n,
    run: () => {
      try {
        return { ...run(), invokedProductionVariant: settings.variantName }
      } catch (err) {
        if (err instanceof ContainerRefusal) throw modelError(settings, input.endpointName, err.status, err.message, err.body)
        throw err
      }
    }
  }
}

/** How a front-door refusal is counted. */
function refusalOutcome (err: unknown): InvocationOutcome {
  return err instanceof AwsServiceError
    ? (err.statusCode === 413 ? 'payloadTooLarge' : OUTCOME_BY_ERROR[err.errorType ?? ''] ?? 'internalFailure')
    : 'internalFailure'
}

/** The emulated TGI containers, one per endpoint, rebuilt when the endpoint's model changes. */
class TgiContainers {
  private readonly byEndpoint = new Map<string, { key: string, container: TgiContainer }>()

  constructor (private readonly settings: RuntimeSettings) {}

  /**
   * The endpoint's TGI container, or undefined when its model's image is not TGI's. Throws the
   * ModelError of a container that cannot start (a limit in its Environment TGI would refuse).
   */
  of (endpoint: string): TgiContainer | undefined {
    const spec = this.settings.containerOf(endpoint)
    if (spec?.Image === undefined || !isTgiImage(spec.Image)) return undefined
    const env = spec.Environment ?? {}
    const key = `${spec.Image}\n${JSON.stringify(env)}`
    const known = this.byEndpoint.get(endpoint)
    if (known?.key === key) return known.container
    const limits = tgiLimits(env)
    const tokenDelayMs = tokenDelayOf(env)
    const step = decodeStepOf(env)
    const problem = [limits, tokenDelayMs, step].find((v): v is string => typeof v === 'string')
    if (problem !== undefined) throw modelError(this.settings, endpoint, 500, '', JSON.stringify({ error: problem, error_type: 'startup' }))
    const container = new TgiContainer({ limits: limits as TgiLimits, tokenDelayMs: tokenDelayMs as number, step: step as DecodeStep | undefined, fault: this.settings.fault })
    this.byEndpoint.set(endpoint, { key, container })
    return container
  }

  /** Permits held now in `endpoint`'s container; 0 before its first request. */
  busy (endpoint: string): number {
    return this.byEndpoint.get(endpoint)?.container.busy ?? 0
  }
}

/** The body a container wrote, whole. */
async function collect (chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

async function emulatedLatency (settings: RuntimeSettings, items: number): Promise<void> {
  // Emulated model time: base + per-item × items (ms).
  const delay = settings.latencyBaseMs + settings.latencyPerItemMs * items
  if (delay > 0) await sleep(delay)
}

/** A container's body as one piece (the list container answers whole). */
async function * onePiece (body: Buffer): AsyncGenerator<Buffer> {
  yield body
}

/** What a container answered with status 200: its media type, its body as produced, its item count. */
interface Answer { contentType: string, chunks: AsyncIterable<Buffer>, items: number }

/** The front door; throws (and counts) its refusals. */
function admit (settings: RuntimeSettings, counters: RuntimeCounters, input: InvokeInput): void {
  counters.invocations++
  try {
    frontDoor(settings, counters.inFlight, input)
  } catch (err) {
    counters.record(refusalOutcome(err), 0)
    throw err
  }
}

/**
 * The endpoint's container answers `input` after its emulated latency; a non-200 status throws
 * the ModelError SageMaker makes of it. `onItems` learns the item count once it is known.
 */
async function answer (settings: RuntimeSettings, tgis: TgiContainers, input: InvokeInput, signal: AbortSignal, onItems: (n: number) => void): Promise<Answer> {
  const tgi = tgis.of(input.endpointName)
  if (tgi === undefined) {
    const { items, run } = container(settings, input)
    onItems(items)
    await emulatedLatency(settings, items)
    const out = run()
    return { contentType: out.contentType, chunks: onePiece(out.body), items }
  }
  onItems(1)
  await emulatedLatency(settings, 1)
  const out = await tgi.invoke(input.contentType, input.body, signal)
  if (out.status !== 200) {
    throw modelError(settings, input.endpointName, out.status, '', (await collect(out.chunks)).toString('utf8'))
  }
  return { contentType: out.contentType, chunks: out.chunks, items: 1 }
}

/** Counts a failed invocation and turns it into what SageMaker answers. */
function failure (counters: RuntimeCounters, err: unknown, items: number): AwsServiceError {
  if (err instanceof AwsServiceError && err.errorType === 'ModelError') {
    counters.record('modelError', items)
    return err
  }
  counters.record('internalFailure', 0)
  return err instanceof AwsServiceError
    ? err
    : new AwsServiceError(500, 'InternalFailure', { message: 'An internal failure occurred.' })
}

/** A signal that never aborts: InvokeEndpoint's container always answers in full. */
const NEVER = new AbortController().signal

/** One invocation: the front door, then the container after its emulated latency. */
async function invoke (settings: RuntimeSettings, counters: RuntimeCounters, tgis: TgiContainers, input: InvokeInput): Promise<InvokeOutput> {
  admit(settings, counters, input)
  counters.enter()
  let n = 0
  try {
    const out = await answer(settings, tgis, input, NEVER, (items) => { n = items })
    const body = await collect(out.chunks)
    counters.record('success', n)
    return { body, contentType: out.contentType, invokedProductionVariant: settings.variantName }
  } catch (err) {
    throw failure(counters, err, n)
  } finally {
    counters.leave()
  }
}

/** One streamed invocation: as `invoke` until the container's status, then its body as it comes; in flight until it ends. */
async function invokeStream (settings: RuntimeSettings, counters: RuntimeCounters, tgis: TgiContainers, input: InvokeInput, signal: AbortSignal): Promise<StreamOutput> {
  admit(settings, counters, input)
  counters.enter()
  let n = 0
  let out: Answer
  try {
    out = await answer(settings, tgis, input, signal, (items) => { n = items })
  } catch (err) {
    counters.leave()
    throw failure(counters, err, n)
  }
  counters.record('success', n)
  const chunks = out.chunks
  return {
    contentType: out.contentType,
    invokedProductionVariant: settings.variantName,
    chunks: (async function * () {
      try {
        yield * chunks
      } finally {
        counters.leave()
      }
    })()
  }
}

/** Creates the local InvokeEndpoint implementation; throws RangeError/SyntaxError on a bad option. */
export function createLocalRuntime (options: LocalRuntimeOptions = {}): LocalRuntime {
  const settings = runtimeSettings(options)
  const counters = new RuntimeCounters()
  const tgis = new TgiContainers(settings)
  return {
    invoke: async (input) => await invoke(settings, counters, tgis, input),
    invokeStream: async (input, signal) => await invokeStream(settings, counters, tgis, input, signal),
    stats: () => counters.snapshot(),
    resetStats: () => { counters.reset() },
    tgiBusy: (endpoint) => tgis.busy(endpoint)
  }
}
