/**
 * OpenAI's streaming shape for generations that arrive token by token (a contract that streams:
 * TGI). References: https://platform.openai.com/docs/api-reference/chat-streaming/streaming and
 * https://platform.openai.com/docs/api-reference/completions/object (stream: true): `data: {chunk}`
 * events, then `data: [DONE]`; chat chunks carry `delta`s (the role first, then content, then an
 * empty delta with finish_reason); with stream_options.include_usage every chunk has `usage: null`
 * and a last chunk has the usage and no choices.
 *
 * Several choices (prompts × n) stream at once and interleave as their tokens arrive, each chunk
 * naming its index, as OpenAI's do. A stop sequence is applied as the text arrives: text that could
 * still become a stop sequence is held back until it cannot, and once one matches the choice ends
 * (its stream is closed) with nothing of the stop sequence sent. A failure after the first chunk
 * ends the event stream with `data: {"error": {...}}`, which both official clients raise as an
 * APIError (openai-node `Stream.fromSSEResponse`, openai-python `Stream.__stream__`), never as a
 * silently shorter text.
 */
import { openAiErrorBody } from '../../schemas/errors.js'
import type { GenerationEvent } from '../sagemaker/contracts/types.js'
import { interleave, prime, type PrimedSource } from '../util/interleave.js'
import { countWords, type Envelope, type Usage } from './requests.js'

/** What one choice's generation yields (the real-time service's stream). */
export type TokenEvent = GenerationEvent

/** One choice's stream, its first event awaited already (see primeStreams), and the choice's index. */
export interface ChoiceStream extends PrimedSource<TokenEvent> {
  index: number
}

/**
 * Cuts a growing text at the first stop sequence: `push` returns what can be sent now, holding
 * back the longest tail that is a prefix of a stop sequence.
 */
export class StopCutter {
  #pending = ''
  #stopped = false
  constructor (private readonly stop: readonly string[]) {}

  get stopped (): boolean { return this.#stopped }

  /** Text safe to send after `text` arrived; sets `stopped` when a stop sequence matched. */
  push (text: string): string {
    if (this.#stopped) return ''
    const all = this.#pending + text
    let cut = -1
    for (const s of this.stop) {
      if (s === '') continue
      const at = all.indexOf(s)
      if (at >= 0 && (cut < 0 || at < cut)) cut = at
    }
    if (cut >= 0) {
      this.#stopped = true
      this.#pending = ''
      return all.slice(0, cut)
    }
    let hold = 0
    for (const s of this.stop) {
      for (let k = Math.min(s.length - 1, all.length); k > hold; k--) {
        if (all.endsWith(s.slice(0, k))) { hold = k; break }
      }
    }
    this.#pending = all.slice(all.length - hold)
    return all.slice(0, all.length - hold)
  }

  /** The generation ended: what was held back is text after all. */
  end (): string {
    const rest = this.#stopped ? '' : this.#pending
    this.#pending = ''
    return rest
  }
}

/**
 * Starts every choice's stream and awaits its first event, so that a refusal before any token
 * is an ordinary error response: the first choice that fails rejects (the others are closed).
 */
export async function primeStreams (streams: ReadonlyArray<{ index: number, events: AsyncGenerator<TokenEvent, void, undefined> }>): Promise<ChoiceStream[]> {
  const primed = await prime(streams.map((s) => s.events))
  const failed = primed.find((p): p is { failed: unknown } => 'failed' in p)
  if (failed !== undefined) {
    await Promise.all(streams.map(async (s) => { await s.events.return(undefined) }))
    throw failed.failed
  }
  return primed.map((p, i) => ({ ...(p as PrimedSource<TokenEvent>), index: streams[i].index }))
}

/** The OpenAI event stream (each string one `data: ...\n\n` event) of choices already primed. */
export async function * openAiTokenStream (opts: {
  kind: 'completion' | 'chat'
  env: Envelope
  choices: readonly ChoiceStream[]
  stop: readonly string[]
  includeUsage: boolean
  inputs: readonly string[]
}): AsyncGenerator<string, void, undefined> {
  const { kind, env, includeUsage } = opts
  const base = kind === 'chat'
    ? { id: env.id, object: 'chat.completion.chunk', created: env.created, model: env.model }
    : { id: env.id, object: 'text_completion', created: env.created, model: env.model }
  const withUsage = includeUsage ? { usage: null } : {}
  const data = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`
  const chunk = (choice: Record<string, unknown>): string => data({ ...base, choices: [choice], ...withUsage })
  const text = (index: number, t: string): string => kind === 'chat'
    ? chunk({ index, delta: { content: t }, logprobs: null, finish_reason: null })
    : chunk({ text: t, index, logprobs: null, finish_reason: null })
  const finish = (index: number): string => kind === 'chat'
    ? chunk({ index, delta: {}, logprobs: null, finish_reason: 'stop' })
    : chunk({ text: '', index, logprobs: null, finish_reason: 'stop' })

  const sent = new Map<number, string>()
  const cutters = new Map(opts.choices.map((c) => [c.index, new StopCutter(opts.stop)]))
  if (kind === 'chat') for (const c of opts.choices) yield chunk({ index: c.index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null })

  // whichever choice has a token first sends it first
  const { values, close } = interleave(opts.choices)
  for await (const { index, value: event } of values) {
    if (event.type === 'failed') {
      yield data(openAiErrorBody(event.error))
      return
    }
    const cutter = cutters.get(opts.choices[index].index) as StopCutter
    const choice = opts.choices[index].index
    if (event.type === 'token') {
      const out = cutter.push(event.text)
      if (out !== '') {
        sent.set(choice, (sent.get(choice) ?? '') + out)
        yield text(choice, out)
      }
      if (cutter.stopped) {
        close(index)
        yield finish(choice)
      }
      continue
    }
    // done: the whole text; what the tokens left unsent (held back) goes now
    const tail = cutter.end()
    if (tail !== '') {
      sent.set(choice, (sent.get(choice) ?? '') + tail)
      yield text(choice, tail)
    }
    yield finish(choice)
  }
  if (includeUsage) {
    const prompt = opts.inputs.reduce((s, i) => s + countWords(i), 0)
    const completion = [...sent.values()].reduce((s, t) => s + countWords(t), 0)
    const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
    yield data({ ...base, choices: [], usage })
  }
  yield 'data: [DONE]\n\n'
}
