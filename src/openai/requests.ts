/**
 * OpenAI requests to batcher work and batcher outcomes to OpenAI objects; pure (no Fastify,
 * no batcher), so the real-time routes and the Batches API share it. References:
 * https://platform.openai.com/docs/api-reference/completions/object,
 * https://platform.openai.com/docs/api-reference/chat/object,
 * https://platform.openai.com/docs/api-reference/chat-streaming/streaming.
 *
 * Decisions (the README's "OpenAI-compatible routes" has them for users):
 *  - max_tokens (or max_completion_tokens) → max_length; n → num_return_sequences, and without
 *    sampling also num_beams = n; temperature > 0 → do_sample + temperature; top_p only with
 *    sampling (1 accepted as its no-op); seed → seed; stop is applied to the output here, and
 *    also sent to a contract that takes it (contractParameters).
 *  - finish_reason is always 'stop': JumpStart does not say whether max_length ended a text.
 *  - usage counts whitespace-separated words, an estimate (no tokenizer of the model here).
 */
import { randomUUID } from 'node:crypto'
import { catalogError, type CatalogError } from '../errors.js'
import { crossCheckParameters, type GenerationParameters } from '../../schemas/params.js'
import type { Params } from '../batching/payload.js'
import { translateParameters, type ParameterLimits } from '../sagemaker/contracts/parameters.js'
import type { ContainerContract } from '../sagemaker/contracts/types.js'
import { FLATTENING_RULE, type ChatCompletionBody, type ChatCompletionResponse, type CompletionBody, type CompletionResponse } from '../../schemas/openai.js'

/** What the batcher needs for one OpenAI request: every prompt is one item. */
export interface GenerationRequest {
  /** the endpoint name the caller sent as `model` */
  model: string
  inputs: string[]
  params: GenerationParameters
  /** choices per prompt */
  n: number
  stop: string[]
  stream: boolean
  includeUsage: boolean
  /** The field the caller sent the output bound in (`max_tokens`, or `max_completion_tokens` on chat). */
  maxTokensField: 'max_tokens' | 'max_completion_tokens'
}

export type FinishReason = 'stop' | 'length'

/** A known OpenAI field FLAN-T5 cannot honour, and the values that are its no-op. */
interface Refusal { field: string, noOp: (value: unknown) => boolean, why: string }

const isNull = (v: unknown): boolean => v === null || v === undefined
const nullOr = (...ok: unknown[]) => (v: unknown): boolean => isNull(v) || ok.includes(v)
const emptyArray = (v: unknown): boolean => isNull(v) || (Array.isArray(v) && v.length === 0)
const emptyObject = (v: unknown): boolean => isNull(v) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)

const COMMON_REFUSALS: Refusal[] = [
  { field: 'logit_bias', noOp: emptyObject, why: 'the endpoint takes no token biases' },
  { field: 'presence_penalty', noOp: nullOr(0), why: 'the endpoint has no presence penalty' },
  { field: 'frequency_penalty', noOp: nullOr(0), why: 'the endpoint has no frequency penalty' }
]
const COMPLETION_REFUSALS: Refusal[] = [
  ...COMMON_REFUSALS,
  { field: 'best_of', noOp: nullOr(1), why: 'the endpoint does not score candidates' },
  { field: 'echo', noOp: nullOr(false), why: 'the prompt is not echoed' },
  { field: 'logprobs', noOp: isNull, why: 'the endpoint returns no log probabilities' },
  { field: 'suffix', noOp: isNull, why: 'the endpoint does not insert text' }
]
const CHAT_REFUSALS: Refusal[] = [
  ...COMMON_REFUSALS,
  { field: 'tools', noOp: emptyArray, why: 'the model cannot call tools' },
  { field: 'tool_choice', noOp: nullOr('none'), why: 'the model cannot call tools' },
  { field: 'parallel_tool_calls', noOp: isNull, why: 'the model cannot call tools' },
  { field: 'functions', noOp: emptyArray, why: 'the model cannot call functions' },
  { field: 'function_call', noOp: nullOr('none'), why: 'the model cannot call functions' },
  { field: 'logprobs', noOp: nullOr(false), why: 'the endpoint returns no log probabilities' },
  { field: 'top_logprobs', noOp: isNull, why: 'the endpoint returns no log probabilities' },
  { field: 'response_format', noOp: (v) => isNull(v) || (typeof v === 'object' && v !== null && Object.keys(v).length === 1 && (v as { type?: unknown }).type === 'text'), why: 'the output is plain text' },
  { field: 'modalities', noOp: (v) => isNull(v) || (Array.isArray(v) && v.length === 1 && v[0] === 'text'), why: 'the output is text only' },
  { field: 'audio', noOp: isNull, why: 'the output is text only' },
  { field: 'prediction', noOp: isNull, why: 'predicted outputs are not used' },
  { field: 'reasoning_effort', noOp: isNull, why: 'the model does not reason in steps' },
  { field: 'web_search_options', noOp: isNull, why: 'the model cannot search' },
  { field: 'service_tier', noOp: nullOr('auto'), why: 'there is one service tier' },
  { field: 'store', noOp: nullOr(false), why: 'completions are not stored' },
  { field: 'metadata', noOp: isNull, why: 'completions are not stored' }
]
const MESSAGE_REFUSALS: Refusal[] = [
  { field: 'tool_calls', noOp: emptyArray, why: 'the model cannot call tools' },
  { field: 'function_call', noOp: isNull, why: 'the model cannot call functions' },
  { field: 'tool_call_id', noOp: isNull, why: 'the model cannot call tools' },
  { field: 'refusal', noOp: isNull, why: 'refusals are not replayed to the model' },
  { field: 'audio', noOp: isNull, why: 'the model reads text only' }
]

/** 400 INVALID_REQUEST naming `param`. */
export function invalid (param: string, message: string): CatalogError {
  return catalogError('INVALID_REQUEST', message, { param })
}

function checkRefusals (body: Record<string, unknown>, refusals: Refusal[], prefix: string): void {
  for (const { field, noOp, why } of refusals) {
    const value = body[field]
    if (!noOp(value)) {
      throw invalid(prefix + field, `${prefix}${field} is not supported by FLAN-T5 endpoints (${why}); got ${JSON.stringify(value)}`)
    }
  }
}

const ROLE_LABEL: Record<string, string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' }

/** A message's text: a string, or its text parts joined with a space; other parts are refused. */
function messageText (content: ChatCompletionBody['messages'][number]['content'], at: string): string {
  if (content === null) return ''
  if (typeof content === 'string') return content
  return content.map((part, j) => {
    if (part.type !== 'text' || typeof part.text !== 'string') {
      throw invalid(`${at}.content[${j}].type`, `${at}.content[${j}].type ${JSON.stringify(part.type)} is not supported by FLAN-T5 endpoints (they read text only): send {"type": "text", "text": "..."}`)
    }
    const extra = Object.keys(part).find(k => k !== 'type' && k !== 'text')
    if (extra !== undefined) throw invalid(`${at}.content[${j}].${extra}`, `${at}.content[${j}].${extra} is not supported by FLAN-T5 endpoints`)
    return part.text
  }).join(' ')
}

/**
 * The chat flattening rule (FLATTENING_RULE): one user message is its content alone; otherwise
 * "System: ...", "User: ...", "Assistant: ..." lines and a last "Assistant:" line.
 */
export function flattenMessages (messages: ChatCompletionBody['messages']): string {
  const lines = messages.map((m, i) => {
    const at = `messages[${i}]`
    const label = ROLE_LABEL[m.role]
    if (label === undefined) throw invalid(`${at}.role`, `${at}.role ${JSON.stringify(m.role)} is not supported by FLAN-T5 endpoints (the model cannot call tools or functions)`)
    checkRefusals(m as Record<string, unknown>, MESSAGE_REFUSALS, `${at}.`)
    const text = messageText(m.content, at)
    return { label: m.name !== undefined ? `${label} (${m.name})` : label, text, role: m.role, named: m.name !== undefined }
  })
  const only = lines[0]
  if (lines.length === 1 && only !== undefined && only.role === 'user' && !only.named) {
    if (only.text.trim() === '') throw invalid('messages[0].content', 'messages[0].content is empty: there is nothing to complete')
    return only.text
  }
  if (lines.every(l => l.text.trim() === '')) throw invalid('messages', 'every message is empty: there is nothing to complete')
  return [...lines.map(l => `${l.label}: ${l.text}`), 'Assistant:'].join('\n')
}
export { FLATTENING_RULE }

/** The JumpStart parameters of an OpenAI request (shared by both routes). */
function toParams (body: CompletionBody | ChatCompletionBody, maxTokens: number | null | undefined): { params: GenerationParameters, n: number } {
  const params: GenerationParameters = {}
  const n = body.n ?? 1
  const sampling = typeof body.temperature === 'number' && body.temperature > 0
  if (maxTokens !== undefined && maxTokens !== null) params.max_length = maxTokens
  if (n > 1) params.num_return_sequences = n
  if (sampling) {
    params.do_sample = true
    params.temperature = body.temperature as number
    if (body.top_p !== undefined && body.top_p !== null) params.top_p = body.top_p
  } else {
    if (n > 1) params.num_beams = n
    if (body.top_p !== undefined && body.top_p !== null && body.top_p !== 1) {
      throw invalid('top_p', `top_p ${body.top_p} needs sampling (temperature > 0); with temperature ${JSON.stringify(body.temperature ?? null)} the model decodes deterministically and would ignore it`)
    }
  }
  if (body.seed !== undefined && body.seed !== null) params.seed = body.seed
  const cross = crossCheckParameters(params, 'body')
  if (cross !== undefined) throw catalogError('INVALID_PARAMETERS', cross)
  return { params, n }
}

function common (body: CompletionBody | ChatCompletionBody, maxTokens: number | null | undefined, inputs: string[], maxTokensField: GenerationRequest['maxTokensField'] = 'max_tokens'): GenerationRequest {
  const stream = body.stream === true
  if (!stream && body.stream_options !== undefined && body.stream_options !== null) {
    throw invalid('stream_options', 'stream_options is only allowed with stream: true')
  }
  const { params, n } = toParams(body, maxTokens)
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop
  return { model: body.model, inputs, params, n, stop, stream, includeUsage: stream && body.stream_options?.include_usage === true, maxTokensField }
}

/**
 * A validated completions body → batcher work; throws a 400 catalog error (with `param`) for
 * a refused field or value.
 */
export function completionRequest (body: CompletionBody): GenerationRequest {
  checkRefusals(body as Record<string, unknown>, COMPLETION_REFUSALS, '')
  const prompt = body.prompt
  if (typeof prompt !== 'string' && prompt.some(p => typeof p !== 'string')) {
    throw invalid('prompt', 'prompt: token-id prompts are not supported by FLAN-T5 endpoints (the gateway has no tokenizer of the model): send the prompt as text')
  }
  const inputs = typeof prompt === 'string' ? [prompt] : prompt as string[]
  return common(body, body.max_tokens, inputs)
}

/** A validated chat body → batcher work (one item: the flattened messages). */
export function chatCompletionRequest (body: ChatCompletionBody): GenerationRequest {
  checkRefusals(body as Record<string, unknown>, CHAT_REFUSALS, '')
  const a = body.max_tokens ?? undefined
  const b = body.max_completion_tokens ?? undefined
  if (a !== undefined && b !== undefined && a !== b) {
    throw invalid('max_completion_tokens', `max_completion_tokens (${b}) and max_tokens (${a}) differ; send one`)
  }
  return common(body, a ?? b, [flattenMessages(body.messages)], a === undefined && b !== undefined ? 'max_completion_tokens' : 'max_tokens')
}

/** The OpenAI field each public parameter of `toParams` came from, so a refusal names what the caller sent. */
export function openAiField (work: Pick<GenerationRequest, 'maxTokensField'>, name: string): string {
  switch (name) {
    case 'max_length': return work.maxTokensField
    case 'num_return_sequences': case 'num_beams': return 'n'
    case 'do_sample': case 'temperature': return 'temperature'
    default: return name
  }
}

/**
 * The endpoint contract's parameters for OpenAI work (translateParameters, refusals naming the
 * OpenAI field: `n`, not num_return_sequences). `stop` goes to a contract that takes it (TGI,
 * LMI) and is still applied to the output (toChoices): TGI's generated_text keeps the stop
 * sequence, OpenAI's text does not. The list contract takes none: the output is cut as before.
 */
export function contractParameters (work: GenerationRequest, contract: Pick<ContainerContract, 'name'>, limits: ParameterLimits): Params {
  if (contract.name === 'tgi' && work.n > 1 && work.params.do_sample !== true) {
    // toParams asked for beams, which TGI does not have; its several sequences come from sampling
    throw catalogError('INVALID_PARAMETERS', `n ${work.n} is not supported by this endpoint's tgi contract without sampling (TGI returns several choices only by sampling, best_of): set temperature > 0`, { param: 'n' })
  }
  const extra = contract.name === 'jumpstart-list' ? {} : { stop: work.stop }
  return translateParameters(contract, work.params, (name) => openAiField(work, name), extra, limits).params
}

/**
 * Cuts `text` before the first occurrence of any stop sequence. finish_reason is 'stop' both
 * when a sequence cut it and when the model ended by itself: JumpStart does not say whether
 * max_length ended a text, so 'length' is never claimed.
 */
export function applyStop (text: string, stop: readonly string[]): { text: string, finish_reason: FinishReason } {
  let cut = text.length
  for (const s of stop) {
    const at = text.indexOf(s)
    if (at >= 0 && at < cut) cut = at
  }
  return { text: text.slice(0, cut), finish_reason: 'stop' }
}

/** One choice before rendering: its text after stop, and its OpenAI index. */
export interface Choice { index: number, text: string, finish_reason: FinishReason }

/**
 * The sequences of each prompt (in prompt order, `n` each) → choices in OpenAI's order:
 * index = prompt_index × n + k.
 */
export function toChoices (perPrompt: ReadonlyArray<readonly string[]>, n: number, stop: readonly string[]): Choice[] {
  return perPrompt.flatMap((texts, p) => {
    if (texts.length !== n) throw catalogError('INTERNAL_ERROR', `the endpoint returned ${texts.length} sequences for prompt ${p}; ${n} were asked for`)
    return texts.map((t, k) => ({ index: p * n + k, ...applyStop(t, stop) }))
  })
}

export interface Usage { prompt_tokens: number, completion_tokens: number, total_tokens: number }

/** Whitespace-separated words: the gateway's documented estimate of tokens. */
export function countWords (text: string): number {
  const trimmed = text.trim()
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length
}

/** usage: words of each prompt (once) and of every choice. */
export function usageOf (inputs: readonly string[], choices: readonly Choice[]): Usage {
  const prompt = inputs.reduce((s, i) => s + countWords(i), 0)
  const completion = choices.reduce((s, c) => s + countWords(c.text), 0)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** Identity and time of one response (all of its stream chunks share them). */
export interface Envelope { id: string, created: number, model: string }

export function newEnvelope (kind: 'completion' | 'chat', model: string, now: number = Date.now()): Envelope {
  return { id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`, created: Math.floor(now / 1000), model }
}

export function completionObject (env: Envelope, choices: readonly Choice[], usage: Usage): CompletionResponse {
  return {
    id: env.id,
    object: 'text_completion' as const,
    created: env.created,
    model: env.model,
    choices: choices.map(c => ({ text: c.text, index: c.index, logprobs: null, finish_reason: c.finish_reason })),
    usage
  }
}

export function chatCompletionObject (env: Envelope, choices: readonly Choice[], usage: Usage): ChatCompletionResponse {
  return {
    id: env.id,
    object: 'chat.completion' as const,
    created: env.created,
    model: env.model,
    choices: choices.map(c => ({ index: c.index, message: { role: 'assistant' as const, content: c.text, refusal: null }, logprobs: null, finish_reason: c.finish_reason })),
    usage
  }
}

/**
 * The stream chunks of a finished response, in order (each goes out as `data: <json>`, then
 * `data: [DONE]`). Completions: per choice one text chunk, then one with its finish_reason.
 * Chat (chat.completion.chunk): per choice a role chunk, a content chunk, a finish chunk.
 * With includeUsage a last chunk has `usage` and no choices (OpenAI's stream_options).
 */
export function streamChunks (kind: 'completion' | 'chat', env: Envelope, choices: readonly Choice[], usage: Usage, includeUsage: boolean): Array<Record<string, unknown>> {
  const base = kind === 'chat'
    ? { id: env.id, object: 'chat.completion.chunk', created: env.created, model: env.model }
    : { id: env.id, object: 'text_completion', created: env.created, model: env.model }
  const withUsage = includeUsage ? { usage: null } : {}
  const chunk = (choice: Record<string, unknown>): Record<string, unknown> => ({ ...base, choices: [choice], ...withUsage })
  const out: Array<Record<string, unknown>> = []
  for (const c of choices) {
    if (kind === 'chat') {
      out.push(chunk({ index: c.index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }))
      out.push(chunk({ index: c.index, delta: { content: c.text }, logprobs: null, finish_reason: null }))
      out.push(chunk({ index: c.index, delta: {}, logprobs: null, finish_reason: c.finish_reason }))
    } else {
      out.push(chunk({ text: c.text, index: c.index, logprobs: null, finish_reason: null }))
      out.push(chunk({ text: '', index: c.index, logprobs: null, finish_reason: c.finish_reason }))
    }
  }
  if (includeUsage) out.push({ ...base, choices: [], usage })
  return out
}

/** A whole event stream's text: every chunk as `data: <json>\n\n`, then `data: [DONE]\n\n`. */
export function eventStream (chunks: ReadonlyArray<Record<string, unknown>>): string {
  return chunks.map(c => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n'
}
