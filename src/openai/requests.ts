/**
 * OpenAI's completion and chat-completion requests onto JumpStart text2text inputs and
 * parameters, and the response objects built from the model's generated texts. Pure.
 *
 * max_tokens -> max_length, n -> num_return_sequences (with num_beams = n when decoding
 * greedily: beam search returns at most num_beams sequences), temperature > 0 or top_p ->
 * do_sample with them, seed -> seed. Chat messages are flattened to one text: their contents in
 * order, one per line. `stop` is no model parameter: it is applied to the generated texts.
 */
import type { GenerationParameters } from '../../schemas/params.js'
import type { ChatCompletionBody, CompletionBody } from '../../schemas/openai.js'

/** What one OpenAI request asks of the model: the input text, parameters, and stop sequences. */
export interface JumpStartRequest {
  model: string
  text: string
  parameters: GenerationParameters
  stop: string[]
}

/** Maps a completion body (`chat` false) or chat-completion body (`chat` true) to the model's terms. */
export function toJumpStart (body: CompletionBody | ChatCompletionBody, chat: boolean): JumpStartRequest {
  const parameters: GenerationParameters = {}
  const maxTokens = chat ? (body as ChatCompletionBody).max_completion_tokens ?? body.max_tokens : body.max_tokens
  if (maxTokens !== undefined) parameters.max_length = maxTokens
  const sampling = (body.temperature !== undefined && body.temperature > 0) || body.top_p !== undefined
  if (sampling) {
    parameters.do_sample = true
    if (body.temperature !== undefined && body.temperature > 0) parameters.temperature = body.temperature
    if (body.top_p !== undefined) parameters.top_p = body.top_p
  }
  if (body.n !== undefined && body.n > 1) {
    parameters.num_return_sequences = body.n
    if (!sampling) parameters.num_beams = body.n
  }
  if (body.seed !== undefined) parameters.seed = body.seed
  const stop = body.stop === undefined ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop
  const text = chat ? (body as ChatCompletionBody).messages.map(m => m.content).join('\n') : (body as CompletionBody).prompt
  return { model: body.model, text, parameters, stop }
}

/** `text` cut before the first of `stop` found in it, and whether it was cut. */
export function applyStop (text: string, stop: readonly string[]): { text: string, stopped: boolean } {
  let at = -1
  for (const s of stop) {
    const i = text.indexOf(s)
    if (i >= 0 && (at < 0 || i < at)) at = i
  }
  return at < 0 ? { text, stopped: false } : { text: text.slice(0, at), stopped: true }
}

/** Whitespace-separated words: the local engine's token (max_length counts words). */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length

interface Choice { text: string, finish_reason: 'stop' | 'length' }

function choicesOf (texts: readonly string[], request: JumpStartRequest): Choice[] {
  return texts.map(raw => {
    const cut = applyStop(raw, request.stop)
    const length = !cut.stopped && request.parameters.max_length !== undefined && words(raw) >= request.parameters.max_length
    return { text: cut.text, finish_reason: length ? 'length' : 'stop' }
  })
}

function usageOf (request: JumpStartRequest, choices: readonly Choice[]): { prompt_tokens: number, completion_tokens: number, total_tokens: number } {
  const prompt = words(request.text)
  const completion = choices.reduce((sum, c) => sum + words(c.text), 0)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** OpenAI's `text_completion` object for the generated texts of one request. */
export function completionObject (opts: { id: string, created: number, request: JumpStartRequest, texts: readonly string[] }): Record<string, unknown> {
  const choices = choicesOf(opts.texts, opts.request)
  return {
    id: opts.id,
    object: 'text_completion',
    created: opts.created,
    model: opts.request.model,
    choices: choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finish_reason })),
    usage: usageOf(opts.request, choices)
  }
}

/** OpenAI's `chat.completion` object for the generated texts of one request. */
export function chatCompletionObject (opts: { id: string, created: number, request: JumpStartRequest, texts: readonly string[] }): Record<string, unknown> {
  const choices = choicesOf(opts.texts, opts.request)
  return {
    id: opts.id,
    object: 'chat.completion',
    created: opts.created,
    model: opts.request.model,
    choices: choices.map((c, index) => ({ index, message: { role: 'assistant', content: c.text, refusal: null }, logprobs: null, finish_reason: c.finish_reason })),
    usage: usageOf(opts.request, choices)
  }
}
