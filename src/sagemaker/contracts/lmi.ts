/**
 * `lmi`: DJL Serving's large-model-inference containers (`djl-inference`). Source:
 * deepjavalibrary/djl-serving `serving/docs/lmi/user_guides/lmi_input_output_schema.md`.
 * Two schemas, by how the container batches (OPTION_ROLLING_BATCH):
 *   rolling (continuous) batch: `{"inputs": "<one string>", "parameters", "stream"?}` →
 *     `{"generated_text"}` (with OPTION_TGI_COMPAT: `[{"generated_text"}]`); streaming is JSON
 *     Lines `{"token":{"id","text","log_prob"}}`, the last line with `generated_text` (SSE
 *     `data:` lines with output_formatter sse or TGI_COMPAT); a failure during generation is
 *     `"details": {"finish_reason": "error"}` with an empty generated_text, in both forms.
 *   dynamic (static) batch, OPTION_ROLLING_BATCH=disable: `inputs` may be a list; the answer is
 *     a list of `{"generated_text"}`, one per input in order; errors 424
 *     `{"code", "message", "error"}`.
 * Errors before inference are 4xx/5xx with `{"error", "code"}`.
 */
import { normaliseParams } from '../../batching/payload.js'
import { ResponseShapeError } from '../response-shapes.js'
import { payloadParameters } from './parameters.js'
import { jsonMember } from './classify.js'
import { LineReader } from './lines.js'
import { StreamFailure, type ContainerContract, type ContainerFailure, type StreamEvent, type StreamParser } from './types.js'

/** LMI's option.max_rolling_batch_size default: requests the rolling batch holds at once. */
export const LMI_DEFAULT_MAX_ROLLING_BATCH_SIZE = 256

function textOf (value: unknown, where: string): string {
  const text = (value as { generated_text?: unknown } | null)?.generated_text
  if (typeof text !== 'string') throw new ResponseShapeError(`${where} has no generated_text string`)
  return text
}

/** A failure reported inside an answer: `details.finish_reason` "error" (LMI's in-band error). */
function failedInBand (value: unknown): boolean {
  return (value as { details?: { finish_reason?: unknown } } | null)?.details?.finish_reason === 'error'
}

function parseRolling (body: unknown, count: number, sequencesPerInput = 1): string[][] {
  if (count !== 1) throw new ResponseShapeError(`a rolling-batch LMI answer holds one input's generation, not ${count}`)
  if (sequencesPerInput !== 1) throw new ResponseShapeError('a rolling-batch LMI answer holds one sequence')
  // OPTION_TGI_COMPAT wraps the object in a list of one
  const one = Array.isArray(body) && body.length === 1 ? body[0] : body
  if (failedInBand(one)) throw new ResponseShapeError('the model reported finish_reason "error" (generation failed)')
  return [[textOf(one, 'the answer')]]
}

function parseDynamic (body: unknown, count: number, sequencesPerInput = 1): string[][] {
  if (sequencesPerInput !== 1) throw new ResponseShapeError('a dynamic-batch LMI answer holds one sequence per input')
  if (!Array.isArray(body) || body.length !== count) {
    throw new ResponseShapeError(`the endpoint returned ${Array.isArray(body) ? body.length : 'no list of'} results for ${count} inputs`)
  }
  return body.map((v, i) => [textOf(v, `generated_text[${i}]`)])
}

/** Reassembles LMI's rolling-batch stream: JSON Lines, or the same objects as SSE `data:` lines. */
export function lmiStreamParser (): StreamParser {
  const lines = new LineReader()
  let done = false
  const take = (batch: string[]): StreamEvent[] => batch.flatMap((raw) => {
    let line = raw.trim()
    if (line === '' || line.startsWith(':')) return []
    if (line.startsWith('data:')) line = line.slice(5).trim()
    if (done) throw new StreamFailure('a line after the final generated text', 'malformed')
    let value: { token?: { text?: unknown, special_token?: unknown }, generated_text?: unknown, error?: unknown }
    try {
      value = JSON.parse(line)
    } catch {
      throw new StreamFailure(`a stream line is not JSON: ${line.slice(0, 200)}`, 'malformed')
    }
    if (value.error !== undefined) throw new StreamFailure(typeof value.error === 'string' ? value.error : line, 'error')
    if (failedInBand(value)) throw new StreamFailure('the model reported finish_reason "error" mid-stream', 'generation')
    if (typeof value.token?.text !== 'string') throw new StreamFailure(`a stream line has no token: ${line.slice(0, 200)}`, 'malformed')
    const out: StreamEvent[] = value.token.special_token === true ? [] : [{ type: 'token', text: value.token.text }]
    if (typeof value.generated_text === 'string') {
      done = true
      out.push({ type: 'done', text: value.generated_text })
    }
    return out
  })
  return {
    feed: (chunk) => take(lines.push(chunk)),
    end: () => {
      let last: string[]
      try {
        last = lines.finish()
      } catch {
        throw new StreamFailure('the stream ended inside a UTF-8 character', 'incomplete')
      }
      const out = take(last)
      if (!done) throw new StreamFailure('the stream ended before the final generated text', 'incomplete')
      return out
    }
  }
}

/** LMI's statuses: 424 is its invoke-handler failure (this input), 429/5xx retryable, other 4xx the request's fault. */
export function mapLmiError (status: number | undefined, body: string | undefined): ContainerFailure {
  const message = jsonMember(body, 'error') ?? jsonMember(body, 'message') ?? body?.trim()
  if (status === 429 || status === 503 || (status !== undefined && status >= 500)) return { kind: 'retryable', message, callerFault: false }
  if (status === 424) return { kind: 'model', message, callerFault: false }
  return { kind: status === 400 || status === 422 ? 'model' : 'fatal', message, callerFault: true }
}

/** The request body: one string for a rolling batch, a list allowed for a dynamic batch. */
function lmiPayload (inputs: readonly string[], params: Record<string, unknown>, options: { list: boolean, stream: boolean }): string {
  const body: Record<string, unknown> = { inputs: options.list ? inputs : inputs[0], parameters: params }
  if (options.stream) body.stream = true
  return JSON.stringify(body)
}

/** LMI with rolling (continuous) batching: one input per call, up to `maxRollingBatchSize` in flight. */
export function lmiRolling (maxRollingBatchSize = LMI_DEFAULT_MAX_ROLLING_BATCH_SIZE): ContainerContract {
  return {
    name: 'lmi',
    takesList: false,
    maxInputsPerCall: 1,
    maxConcurrentPerInstance: maxRollingBatchSize,
    streams: true,
    buildPayload: (inputs, params, options = {}) => {
      if (inputs.length !== 1) throw new RangeError(`the lmi contract with rolling batch takes one input per invocation, got ${inputs.length}`)
      return lmiPayload(inputs, payloadParameters(normaliseParams(params)), { list: false, stream: options.stream === true })
    },
    parseResponse: parseRolling,
    streamParser: lmiStreamParser,
    mapContainerError: mapLmiError
  }
}

/** LMI with dynamic batching (OPTION_ROLLING_BATCH=disable): a list per call, at most `batchSize` when set. */
export function lmiDynamic (batchSize: number | undefined): ContainerContract {
  return {
    name: 'lmi',
    takesList: true,
    maxInputsPerCall: batchSize,
    maxConcurrentPerInstance: undefined,
    // its streaming (`{"outputs": [...]}` lines, option.enable_streaming) carries no final text to check against
    streams: false,
    buildPayload: (inputs, params, options = {}) => {
      if (options.stream === true) throw new RangeError('the lmi contract with dynamic batching is not streamed by the gateway')
      if (batchSize !== undefined && inputs.length > batchSize) throw new RangeError(`the lmi contract takes at most ${batchSize} inputs per invocation (SERVING_BATCH_SIZE), got ${inputs.length}`)
      return lmiPayload(inputs, payloadParameters(normaliseParams(params)), { list: true, stream: false })
    },
    parseResponse: parseDynamic,
    streamParser: undefined,
    mapContainerError: mapLmiError
  }
}
