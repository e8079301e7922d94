// The emulated Hugging Face TGI container (what JumpStart FLAN-T5 2.x deploys), served by the
// local runtime for a model whose image is a TGI image (sagemaker/contracts/detect.ts). It
// follows text-generation-inference v1.4 (the `tgi1.4.0` of JumpStart's image tag):
//   router/src/server.rs  `compat_generate` (SageMaker's /invocations): `stream` picks
//                         `generate_stream`, else `generate` wrapped in a list of one;
//                         `generate_stream_internal`: errors after the stream started are SSE
//                         events `data:{"error","error_type"}` (`impl From<InferError> for Event`)
//                         with status 200, the last token event carries `generated_text`;
//                         `impl From<InferError> for (StatusCode, Json<ErrorResponse>)`: 424
//                         generation, 429 overloaded, 422 validation, 500 incomplete.
//   router/src/lib.rs     `CompatGenerateRequest`, `GenerateParameters` (serde defaults, no
//                         deny_unknown_fields: unknown parameters are ignored), `StreamResponse`.
//   router/src/infer.rs   `generate_stream`: a permit of MAX_CONCURRENT_REQUESTS is taken with
//                         try_acquire before validation; none left → "Model is overloaded".
//   router/src/validation.rs `validate` and `validate_input`: the checks and messages below, in
//                         their order; tokens are the local tokenizer's words (engine.words).
// Axum's Json extractor answers 415 without `content-type: application/json`, 400 for bad JSON
// syntax and 422 for a body that does not deserialise (a list in `inputs`), as plain text.
// The model is the extractive engine; its words are streamed one token each, `LOCAL_TOKEN_DELAY_MS`
// (the model's Environment) apart, so a client can see tokens arrive before generation ends.
// With LOCAL_TGI_STEP_MS (and LOCAL_TGI_STEP_PER_REQUEST_MS) the container instead runs decode
// steps as TGI's continuous batching does (decode-loop.ts): throughput rises with concurrency.

import { setTimeout as sleep } from 'node:timers/promises'
import { fnv1a, summarize, words } from './engine.js'
import { faultMatchText } from './container.js'
import type { TgiLimits } from '../sagemaker/contracts/tgi.js'
import { DecodeLoop, type Decoding, type DecodeStep, type Sleep } from './decode-loop.js'

/** Model Environment variable: ms the emulated TGI takes per generated token (default 0). */
export const TOKEN_DELAY_ENV = 'LOCAL_TOKEN_DELAY_MS'

/** T5's end-of-sequence token, which TGI streams as a special token. */
const EOS = { id: 1, text: '</s>' }

/** TGI v1.4's serde default for `max_new_tokens` (lib.rs `default_max_new_tokens`). */
const DEFAULT_MAX_NEW_TOKENS = 100

/** How one emulated TGI container behaves. */
export interface TgiSettings {
  limits: TgiLimits
  /** ms per generated token (when `step` is not set). */
  tokenDelayMs: number
  /** The continuous-batching latency model; when set it paces tokens instead of tokenDelayMs. */
  step?: DecodeStep
  /** Inputs matching it fail during generation (LOCAL_FAULT_MODEL_ERROR_PATTERN). */
  fault: RegExp | undefined
}

/** The container's answer: a status, its media type and its body as it is produced. */
export interface TgiAnswer {
  status: number
  contentType: string
  /** The body in the pieces the container writes them (one per SSE event when streaming). */
  chunks: AsyncIterable<Buffer>
}

/** TGI's `ErrorResponse` body. */
function errorBody (error: string, errorType: string): string {
  return JSON.stringify({ error, error_type: errorType })
}

/** A complete, non-streamed answer. */
function whole (status: number, contentType: string, body: string): TgiAnswer {
  return {
    status,
    contentType,
    chunks: (async function * () { yield Buffer.from(body) })()
  }
}

/** An InferError of the router, before or after generation started. */
class InferError extends Error {
  constructor (readonly status: number, readonly errorType: string, message: string) {
    super(message)
  }
}

const validation = (message: string): InferError => new InferError(422, 'validation', `Input validation error: ${message}`)

// ---- the request as serde reads it -----------------------------------------------------------

/** serde's words for a JSON value of the wrong type (`invalid type: <unexpected>, expected <what>`). */
function unexpected (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'sequence'
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`
  if (typeof value === 'boolean') return `boolean \`${String(value)}\``
  if (typeof value === 'number') return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``
  return 'map'
}

/** A body that does not deserialise: axum's JsonDataError, 422 plain text. */
class DeserializeError extends Error {}

type Kind = 'u32' | 'usize' | 'u64' | 'i32' | 'f32' | 'bool' | 'strings'

/** GenerateParameters' members (lib.rs), with their Rust types; `optional` ones accept null. */
const PARAMETERS: Record<string, { kind: Kind, optional: boolean }> = {
  best_of: { kind: 'usize', optional: true },
  temperature: { kind: 'f32', optional: true },
  repetition_penalty: { kind: 'f32', optional: true },
  top_k: { kind: 'i32', optional: true },
  top_p: { kind: 'f32', optional: true },
  typical_p: { kind: 'f32', optional: true },
  do_sample: { kind: 'bool', optional: false },
  max_new_tokens: { kind: 'u32', optional: true },
  return_full_text: { kind: 'bool', optional: true },
  stop: { kind: 'strings', optional: false },
  truncate: { kind: 'usize', optional: true },
  watermark: { kind: 'bool', optional: false },
  details: { kind: 'bool', optional: false },
  decoder_input_details: { kind: 'bool', optional: false },
  seed: { kind: 'u64', optional: true },
  top_n_tokens: { kind: 'u32', optional: true }
}

function checkKind (path: string, value: unknown, kind: Kind): void {
  const fail = (expected: string): never => {
    throw new DeserializeError(`${path}: invalid type: ${unexpected(value)}, expected ${expected}`)
  }
  switch (kind) {
    case 'bool': if (typeof value !== 'boolean') fail('a boolean'); break
    case 'f32': if (typeof value !== 'number') fail('f32'); break
    case 'strings':
      if (!Array.isArray(value)) fail('a sequence')
      ;(value as unknown[]).forEach((v, i) => {
        if (typeof v !== 'string') throw new DeserializeError(`${path}[${i}]: invalid type: ${unexpected(v)}, expected a string`)
      })
      break
    default: {
      const signed = kind === 'i32'
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(kind)
      if (!signed && (value as number) < 0) throw new DeserializeError(`${path}: invalid value: integer \`${value as number}\`, expected ${kind}`)
    }
  }
}

/** The request after deserialisation: what `compat_generate` receives. */
interface CompatRequest {
  inputs: string
  stream: boolean
  /** Known parameters only (serde ignores unknown members), nulls as absent. */
  parameters: Record<string, unknown>
}

function deserialize (payload: unknown): CompatRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new DeserializeError(`invalid type: ${unexpected(payload)}, expected struct CompatGenerateRequest`)
  }
  const body = payload as Record<string, unknown>
  if (!Object.hasOwn(body, 'inputs')) throw new DeserializeError('missing field `inputs`')
  if (typeof body.inputs !== 'string') throw new DeserializeError(`inputs: invalid type: ${unexpected(body.inputs)}, expected a string`)
  if (body.stream !== undefined) checkKind('stream', body.stream, 'bool')
  const raw = body.parameters ?? {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DeserializeError(`parameters: invalid type: ${unexpected(raw)}, expected struct GenerateParameters`)
  }
  const parameters: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const spec = PARAMETERS[key]
    if (spec === undefined) continue
    if (value === null && spec.optional) continue
    checkKind(`parameters.${key}`, value, spec.kind)
    parameters[key] = value
  }
  return { inputs: body.inputs, stream: body.stream === true, parameters }
}

// ---- validation.rs ---------------------------------------------------------------------------

/** A request that passed validation: what the model generates from. */
interface ValidRequest {
  /** The input's tokens after `truncate` (TGI truncates from the left). */
  tokens: string[]
  maxNewTokens: number
  sampling: boolean
  seed: number | undefined
  stop: string[]
  bestOf: number
  details: boolean
  returnFullText: boolean
}

/** GenerateParameters as deserialize() left them (types checked, nulls dropped). */
interface TgiParameters {
  best_of?: number
  temperature?: number
  repetition_penalty?: number
  top_k?: number
  top_p?: number
  typical_p?: number
  do_sample?: boolean
  max_new_tokens?: number
  return_full_text?: boolean
  stop?: string[]
  truncate?: number
  details?: boolean
  decoder_input_details?: boolean
  seed?: number
}

/** validation.rs `validate` then `validate_input`, in their order, with their messages. */
function validate (request: CompatRequest, limits: TgiLimits, random: () => number): ValidRequest {
  const p = request.parameters as TgiParameters
  const bestOf = p.best_of ?? 1
  const sampling = p.do_sample === true || p.temperature !== undefined || p.top_k !== undefined || p.top_p !== undefined || p.typical_p !== undefined
  if (bestOf > 1 && !sampling) throw validation('you must use sampling when `best_of` is > 1')
  if ((p.temperature ?? 1) <= 0) throw validation('`temperature` must be strictly positive')
  if ((p.repetition_penalty ?? 1) <= 0) throw validation('`repetition_penalty` must be strictly positive')
  if (p.top_p !== undefined && (p.top_p <= 0 || p.top_p >= 1)) throw validation('`top_p` must be > 0.0 and < 1.0')
  if (p.typical_p !== undefined && (p.typical_p <= 0 || p.typical_p >= 1)) throw validation('`typical_p` must be > 0.0 and < 1.0')
  if (p.top_k !== undefined && p.top_k <= 0) throw validation('`top_k` must be strictly positive')
  // serde fills an absent max_new_tokens with default_max_new_tokens (100)
  const maxNewTokensGiven = Object.hasOwn(request.parameters, 'max_new_tokens') ? p.max_new_tokens : DEFAULT_MAX_NEW_TOKENS
  if (maxNewTokensGiven === 0) throw validation('`max_new_tokens` must be strictly positive')
  const stop = p.stop ?? []
  if (stop.length > limits.maxStopSequences) throw validation(`\`stop\` supports up to ${limits.maxStopSequences} stop sequences. Given: ${stop.length}`)
  if (p.seed !== undefined && bestOf > 1) throw validation('`seed` must not be set when `best_of` > 1')
  if (request.inputs === '') throw validation('`inputs` cannot be empty')
  const truncate = p.truncate
  if (truncate !== undefined && (truncate === 0 || truncate > limits.maxInputLength)) {
    throw validation(`\`truncate\` must be strictly positive and less than ${limits.maxInputLength}. Given: ${truncate}`)
  }
  let tokens = words(request.inputs)
  if (truncate !== undefined && tokens.length > truncate) tokens = tokens.slice(tokens.length - truncate)
  const inputLength = tokens.length
  const maxNewTokens = maxNewTokensGiven ?? Math.max(0, limits.maxTotalTokens - inputLength)
  if (inputLength + maxNewTokens > limits.maxTotalTokens) {
    throw validation(`\`inputs\` tokens + \`max_new_tokens\` must be <= ${limits.maxTotalTokens}. Given: ${inputLength} \`inputs\` tokens and ${maxNewTokens} \`max_new_tokens\``)
  }
  if (inputLength > limits.maxInputLength) throw validation(`\`inputs\` must have less than ${limits.maxInputLength} tokens. Given: ${inputLength}`)
  if (bestOf > limits.maxBestOf) throw validation(`\`best_of\` must be > 0 and <= ${limits.maxBestOf}. Given: ${bestOf}`)
  return {
    tokens,
    maxNewTokens,
    sampling,
    // "If seed is None, assign a random one"
    seed: sampling ? (p.seed ?? Math.floor(random() * 2 ** 32)) : undefined,
    stop,
    bestOf,
    details: p.details === true,
    returnFullText: p.return_full_text === true
  }
}

// ---- generation --------------------------------------------------------------------------------

/** One token as TGI's `Token` serialises it. */
interface Token { id: number, text: string, logprob: number, special: boolean }

/** A generation: its tokens (the last may be the special EOS) and why it stopped. */
interface Generation {
  tokens: Token[]
  text: string
  finishReason: 'length' | 'eos_token' | 'stop_sequence'
  seed: number | undefined
}

function wordToken (word: string, first: boolean): Token {
  const text = first ? word : ` ${word}`
  const h = fnv1a(word)
  // ids past T5's special tokens; logprob a stable stand-in (the engine has no probabilities)
  return { id: 3 + (h % 32_000), text, logprob: -((h % 4096) / 1024), special: false }
}

/** The extractive engine's answer as TGI tokens: at most max_new_tokens, cut after a stop sequence. */
function generateTokens (request: ValidRequest, seed: number | undefined): Generation {
  const [summary] = summarize(request.tokens.join(' '), { do_sample: request.sampling, seed })
  const all = words(summary)
  const tokens: Token[] = []
  let text = ''
  for (const word of all) {
    if (tokens.length === request.maxNewTokens) return { tokens, text, finishReason: 'length', seed }
    const token = wordToken(word, tokens.length === 0)
    tokens.push(token)
    text += token.text
    if (request.stop.some((s) => s !== '' && text.endsWith(s))) return { tokens, text, finishReason: 'stop_sequence', seed }
  }
  if (tokens.length === request.maxNewTokens) return { tokens, text, finishReason: 'length', seed }
  tokens.push({ ...EOS, logprob: 0, special: true })
  return { tokens, text, finishReason: 'eos_token', seed }
}

/** Index of the token during which an input matching the fault pattern fails (after some output). */
function faultAt (generation: Generation): number {
  return Math.max(1, Math.floor(generation.tokens.length / 2))
}

// ---- the container -----------------------------------------------------------------------------

/** One emulated TGI container (per endpoint): its permits and its requests. */
export class TgiContainer {
  private inFlight = 0
  private readonly loop: DecodeLoop | undefined

  constructor (private readonly settings: TgiSettings, private readonly random: () => number = Math.random, sleepFor?: Sleep) {
    this.loop = settings.step === undefined ? undefined : new DecodeLoop(settings.step, sleepFor)
  }

  /** Requests holding a permit now. */
  get busy (): number {
    return this.inFlight
  }

  /**
   * Answers one /invocations request. The permit is held until the body is fully produced (or
   * the reader stops: `signal`), as TGI keeps it "as long as generate_stream lives".
   */
  async invoke (contentType: string | undefined, body: Buffer, signal: AbortSignal): Promise<TgiAnswer> {
    const type = contentType?.split(';')[0].trim().toLowerCase()
    if (type !== 'application/json' && !(type?.startsWith('application/') === true && type.endsWith('+json'))) {
      return whole(415, 'text/plain; charset=utf-8', 'Expected request with `Content-Type: application/json`')
    }
    let payload: unknown
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch (err) {
      return whole(400, 'text/plain; charset=utf-8', `Failed to parse the request body as JSON: ${(err as Error).message}`)
    }
    let request: CompatRequest
    try {
      request = deserialize(payload)
    } catch (err) {
      if (!(err instanceof DeserializeError)) throw err
      return whole(422, 'text/plain; charset=utf-8', `Failed to deserialize the JSON body into the target type: ${err.message}`)
    }
    return request.stream ? this.stream(request, signal) : await this.generate(request, signal)
  }

  /** Takes a permit or throws the overloaded InferError (infer.rs `try_acquire_owned`). */
  private acquire (): () => void {
    if (this.inFlight >= this.settings.limits.maxConcurrentRequests) throw new InferError(429, 'overloaded', 'Model is overloaded')
    this.inFlight++
    let released = false
    return () => {
      if (!released) this.inFlight--
      released = true
    }
  }

  private async pace (tokens: number, signal: AbortSignal): Promise<void> {
    const ms = this.settings.tokenDelayMs * tokens
    if (ms > 0) await sleep(ms, undefined, { signal })
  }

  /** The fault's generation error for `request`, if its input matches the fault pattern. */
  private faultOf (request: CompatRequest): InferError | undefined {
    const fault = this.settings.fault
    if (fault === undefined || !fault.test(request.inputs)) return undefined
    return new InferError(424, 'generation', `Request failed during generation: ${faultMatchText(fault)}`)
  }

  /** `generate` + `compat_generate`'s list of one. */
  private async generate (request: CompatRequest, signal: AbortSignal): Promise<TgiAnswer> {
    let release: (() => void) | undefined
    try {
      release = this.acquire()
      const valid = validate(request, this.settings.limits, this.random)
      const generations = Array.from({ length: valid.bestOf }, (_, i) => generateTokens(valid, valid.seed ?? (valid.sampling ? Math.floor(this.random() * 2 ** 32) + i : undefined)))
      const best = generations[0]
      const failure = this.faultOf(request)
      const tokens = failure === undefined ? best.tokens.length : faultAt(best)
      if (this.loop === undefined) await this.pace(tokens, signal)
      else await this.loop.join(tokens, signal).token(tokens - 1)
      if (failure !== undefined) throw failure
      const prefix = valid.returnFullText ? request.inputs : ''
      const answer: Record<string, unknown> = { generated_text: prefix + best.text }
      if (valid.details) {
        answer.details = {
          finish_reason: best.finishReason,
          generated_tokens: best.tokens.length,
          seed: best.seed ?? null,
          prefill: [],
          tokens: best.tokens,
          ...(valid.bestOf > 1
            ? { best_of_sequences: generations.slice(1).map((g) => ({ generated_text: prefix + g.text, finish_reason: g.finishReason, generated_tokens: g.tokens.length, seed: g.seed ?? null, prefill: [], tokens: g.tokens })) }
            : {})
        }
      }
      return whole(200, 'application/json', JSON.stringify([answer]))
    } catch (err) {
      if (err instanceof InferError) return whole(err.status, 'application/json', errorBody(err.message, err.errorType))
      throw err
    } finally {
      release?.()
    }
  }

  /** `generate_stream`: status 200 at once; tokens, the final text, or an error event. */
  private stream (request: CompatRequest, signal: AbortSignal): TgiAnswer {
    const container = this
    const event = (value: unknown): Buffer => Buffer.from(`data:${JSON.stringify(value)}\n\n`)
    async function * events (): AsyncGenerator<Buffer> {
      let release: (() => void) | undefined
      let decoding: Decoding | undefined
      try {
        if ((request.parameters.best_of as number | undefined ?? 1) !== 1) throw validation('`best_of` != 1 is not supported when streaming tokens')
        if (request.parameters.decoder_input_details === true) throw validation('`decoder_input_details` == true is not supported when streaming tokens')
        release = container.acquire()
        const valid = validate(request, container.settings.limits, container.random)
        const generation = generateTokens(valid, valid.seed)
        const failure = container.faultOf(request)
        const stopAt = failure === undefined ? generation.tokens.length : faultAt(generation)
        decoding = container.loop?.join(stopAt, signal)
        for (let i = 0; i < stopAt; i++) {
          if (decoding === undefined) await container.pace(1, signal)
          else await decoding.token(i)
          const last = failure === undefined && i === generation.tokens.length - 1
          yield event({
            index: i + 1,
            token: generation.tokens[i],
            generated_text: last ? (valid.returnFullText ? request.inputs : '') + generation.text : null,
            details: last && valid.details ? { finish_reason: generation.finishReason, generated_tokens: generation.tokens.length, seed: generation.seed ?? null } : null
          })
        }
        if (failure !== undefined) throw failure
      } catch (err) {
        if (!(err instanceof InferError)) throw err
        yield event({ error: err.message, error_type: err.errorType })
      } finally {
        // a reader that stopped early stops its generation
        decoding?.leave()
        release?.()
      }
    }
    return { status: 200, contentType: 'text/event-stream', chunks: events() }
  }
}

/** A model Environment's non-negative ms variable (0 when absent), or a problem naming it. */
function msOf (env: Readonly<Record<string, string>>, name: string): number | string {
  const raw = env[name]
  if (raw === undefined) return 0
  const ms = Number(raw)
  return Number.isFinite(ms) && ms >= 0 && raw.trim() !== '' ? ms : `${name} ${JSON.stringify(raw)} is not a non-negative number of ms`
}

/** A model Environment's per-token delay (LOCAL_TOKEN_DELAY_MS), or a problem naming it. */
export function tokenDelayOf (env: Readonly<Record<string, string>>): number | string {
  return msOf(env, TOKEN_DELAY_ENV)
}

/** Model Environment variables of the decode-step model: ms per step, and ms more per request in it. */
export const STEP_ENV = 'LOCAL_TGI_STEP_MS'
export const STEP_PER_REQUEST_ENV = 'LOCAL_TGI_STEP_PER_REQUEST_MS'

/** A model Environment's decode-step model (undefined when neither variable is set), or a problem naming it. */
export function decodeStepOf (env: Readonly<Record<string, string>>): DecodeStep | undefined | string {
  if (env[STEP_ENV] === undefined && env[STEP_PER_REQUEST_ENV] === undefined) return undefined
  const baseMs = msOf(env, STEP_ENV)
  const perRequestMs = msOf(env, STEP_PER_REQUEST_ENV)
  if (typeof baseMs === 'string') return baseMs
  if (typeof perRequestMs === 'string') return perRequestMs
  return { baseMs, perRequestMs }
}
