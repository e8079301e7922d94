/**
 * `tgi`: Hugging Face Text Generation Inference (`huggingface-pytorch-tgi-inference`, what
 * JumpStart FLAN-T5 2.x deploys). Source: text-generation-inference `router/src/server.rs`
 * (`compat_generate` serves SageMaker's `/invocations`; `generate`, `generate_stream`) and
 * `router/src/lib.rs` (`CompatGenerateRequest`, `GenerateParameters`, `StreamResponse`):
 *   request  `{"inputs": "<one string>", "parameters": {...}, "stream": bool}`; a list in
 *            `inputs` fails deserialisation (422);
 *   answer   `[{"generated_text": "..."}]` (`compat_generate` wraps the one generation in a Vec);
 *   stream   server-sent events `data:{"index","token":{"id","text","logprob","special"},
 *            "generated_text":null,"details":null}`, the last one with `generated_text`; an
 *            error after the stream started is an event `data:{"error","error_type"}`
 *            (`impl From<InferError> for Event`);
 *   errors   `{"error","error_type"}`: 422 validation, 424 generation, 429 "Model is
 *            overloaded" past MAX_CONCURRENT_REQUESTS, 500 incomplete generation.
 * TGI batches continuously inside the container: one input per invocation, concurrency is the lever.
 */
import { normaliseParams } from '../../batching/payload.js'
import { ResponseShapeError } from '../response-shapes.js'
import { payloadParameters } from './parameters.js'
import { jsonMember } from './classify.js'
import { positiveIntegerEnv } from './env.js'
import { SseReader, type ServerSentEvent } from './lines.js'
import { StreamFailure, type ContainerContract, type ContainerFailure, type StreamEvent, type StreamParser } from './types.js'

/** TGI's MAX_CONCURRENT_REQUESTS when the environment does not set it (its launcher's default). */
export const TGI_DEFAULT_MAX_CONCURRENT_REQUESTS = 128

/** TGI's MAX_INPUT_LENGTH (tokens) when the environment does not set it (launcher default, JumpStart's value). */
export const TGI_DEFAULT_MAX_INPUT_LENGTH = 1024

/** TGI's MAX_TOTAL_TOKENS (input + new tokens) when the environment does not set it (launcher default). */
export const TGI_DEFAULT_MAX_TOTAL_TOKENS = 2048

/** TGI's MAX_STOP_SEQUENCES default (launcher). */
export const TGI_DEFAULT_MAX_STOP_SEQUENCES = 4

/** TGI's MAX_BEST_OF default (launcher). */
export const TGI_DEFAULT_MAX_BEST_OF = 2

/** A TGI container's limits, read from its environment as its launcher reads them. */
export interface TgiLimits {
  maxConcurrentRequests: number
  /** Input tokens at most (MAX_INPUT_TOKENS, formerly MAX_INPUT_LENGTH). */
  maxInputLength: number
  /** Input plus new tokens at most. */
  maxTotalTokens: number
  maxStopSequences: number
  maxBestOf: number
}

/**
 * The limits a TGI container runs with, from a model's Environment; a string naming the
 * variable when one is not a positive integer (the launcher would refuse to start).
 */
export function tgiLimits (env: Readonly<Record<string, string>>): TgiLimits | string {
  const read = (names: string[], fallback: number): number | string => positiveIntegerEnv(env, ...names) ?? fallback
  const limits = {
    maxConcurrentRequests: read(['MAX_CONCURRENT_REQUESTS'], TGI_DEFAULT_MAX_CONCURRENT_REQUESTS),
    maxInputLength: read(['MAX_INPUT_TOKENS', 'MAX_INPUT_LENGTH'], TGI_DEFAULT_MAX_INPUT_LENGTH),
    maxTotalTokens: read(['MAX_TOTAL_TOKENS'], TGI_DEFAULT_MAX_TOTAL_TOKENS),
    maxStopSequences: read(['MAX_STOP_SEQUENCES'], TGI_DEFAULT_MAX_STOP_SEQUENCES),
    maxBestOf: read(['MAX_BEST_OF'], TGI_DEFAULT_MAX_BEST_OF)
  }
  const problem = Object.values(limits).find((v): v is string => typeof v === 'string')
  return problem ?? limits as TgiLimits
}

/** One TGI request body. */
export function tgiPayload (input: string, params: Record<string, unknown>, stream: boolean): string {
  // "parameters" always present: TGI's serde defaults then apply (do_sample false); without the
  // member, v1.4's `default_parameters()` would turn sampling on.
  return JSON.stringify(stream ? { inputs: input, parameters: params, stream: true } : { inputs: input, parameters: params })
}

function generatedText (value: unknown, where: string): string {
  const text = (value as { generated_text?: unknown } | null)?.generated_text
  if (typeof text !== 'string') throw new ResponseShapeError(`${where} has no generated_text string`)
  return text
}

/** `[{"generated_text", "details"?}]` → the sequences of its one input (best_of's others from details). */
function parseTgiResponse (body: unknown, count: number, sequencesPerInput = 1): string[][] {
  if (count !== 1) throw new ResponseShapeError(`a TGI answer holds one input's generation, not ${count}`)
  if (!Array.isArray(body) || body.length !== 1) throw new ResponseShapeError('a TGI answer is a list of one generation')
  const first = generatedText(body[0], 'the generation')
  if (sequencesPerInput === 1) return [[first]]
  const others = (body[0] as { details?: { best_of_sequences?: unknown } }).details?.best_of_sequences
  if (!Array.isArray(others) || others.length !== sequencesPerInput - 1) {
    throw new ResponseShapeError(`the endpoint returned ${1 + (Array.isArray(others) ? others.length : 0)} sequences for ${sequencesPerInput} asked (best_of with details)`)
  }
  return [[first, ...others.map((o, i) => generatedText(o, `best_of_sequences[${i}]`))]]
}

/** A token or final event of TGI's stream, or its error event. */
function readEvent (event: ServerSentEvent): StreamEvent[] {
  let value: unknown
  try {
    value = JSON.parse(event.data)
  } catch {
    throw new StreamFailure(`a stream event is not JSON: ${event.data.slice(0, 200)}`, 'malformed')
  }
  const v = (value ?? {}) as { error?: unknown, error_type?: unknown, token?: { text?: unknown, special?: unknown }, generated_text?: unknown }
  if (event.event === 'error' || v.error !== undefined) {
    throw new StreamFailure(typeof v.error === 'string' ? v.error : event.data, typeof v.error_type === 'string' ? v.error_type : 'error')
  }
  if (typeof v.token?.text !== 'string') throw new StreamFailure(`a stream event has no token: ${event.data.slice(0, 200)}`, 'malformed')
  const out: StreamEvent[] = []
  // special tokens (T5's </s>) are not part of generated_text
  if (v.token.special !== true) out.push({ type: 'token', text: v.token.text })
  if (typeof v.generated_text === 'string') out.push({ type: 'done', text: v.generated_text })
  return out
}

/** Reassembles TGI's server-sent events from chunks cut anywhere. */
export function tgiStreamParser (): StreamParser {
  const reader = new SseReader()
  let done = false
  const take = (events: ServerSentEvent[]): StreamEvent[] => events.flatMap((e) => {
    if (done) throw new StreamFailure('an event after the final generated text', 'malformed')
    const read = readEvent(e)
    if (read.some((r) => r.type === 'done')) done = true
    return read
  })
  return {
    feed: (chunk) => take(reader.push(chunk)),
    end: () => {
      let finished: ReturnType<SseReader['finish']>
      try {
        finished = reader.finish()
      } catch {
        throw new StreamFailure('the stream ended inside a UTF-8 character', 'incomplete')
      }
      const out = take(finished.events)
      if (!done || finished.unterminated) throw new StreamFailure('the stream ended before the final generated text', 'incomplete')
      return out
    }
  }
}

/** TGI's statuses: 429 overloaded and 5xx are worth another attempt; 422 is the request's fault. */
export function mapTgiError (status: number | undefined, body: string | undefined): ContainerFailure {
  const message = jsonMember(body, 'error') ?? body?.trim()
  if (status === 429 || (status !== undefined && status >= 500)) return { kind: 'retryable', message, callerFault: false }
  // 422 validation (input too long, a list, a bad parameter), 424 generation failed on this input
  if (status === 422 || status === 424 || status === 413) return { kind: 'model', message, callerFault: status !== 424 }
  // 400 (not JSON), 415 (not application/json): the gateway built a body TGI cannot read
  return { kind: 'fatal', message, callerFault: true }
}

/** The TGI contract of a container that serves `maxConcurrentRequests` at once (its MAX_CONCURRENT_REQUESTS). */
export function tgiContract (maxConcurrentRequests = TGI_DEFAULT_MAX_CONCURRENT_REQUESTS): ContainerContract {
  return {
    name: 'tgi',
    takesList: false,
    maxInputsPerCall: 1,
    maxConcurrentPerInstance: maxConcurrentRequests,
    streams: true,
    buildPayload: (inputs, params, options = {}) => {
      if (inputs.length !== 1) throw new RangeError(`the tgi contract takes one input per invocation, got ${inputs.length}`)
      return tgiPayload(inputs[0], payloadParameters(normaliseParams(params)), options.stream === true)
    },
    parseResponse: parseTgiResponse,
    streamParser: tgiStreamParser,
    mapContainerError: mapTgiError
  }
}
