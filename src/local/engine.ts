import { mulberry32 } from '../util/prng.js'
// The local stack's "model": an extractive lead-sentence summariser, the classic CNN/DailyMail
// lead-3 baseline. It is not a language model; it exists so the gateway, the benchmarks and the
// end-to-end tests exercise the real JumpStart request/response shapes with deterministic output.
//
// Everything here is pure: no I/O, no clock, no global randomness.

/** Sentences in a default summary (the "lead-3" baseline). */
export const LEAD_SENTENCES = 3

/** Sentences do_sample draws from: the opening of the text, where news puts its substance. */
export const SAMPLE_POOL = 10

/** Upper bound on num_return_sequences; keeps one request from asking for unbounded work. */
export const MAX_RETURN_SEQUENCES = 64

/** JumpStart text2text generation parameters the engine understands (other known ones are ignored). */
export interface GenerationParams {
  /** Maximum words per generated text (whitespace-separated tokens); unset = no limit. */
  max_length?: number
  num_return_sequences?: number
  num_beams?: number
  do_sample?: boolean
  seed?: number
  top_k?: number
  top_p?: number
  temperature?: number
  no_repeat_ngram_size?: number
  early_stopping?: boolean
  /** Inputs per forward pass of the container's pipeline: speed and memory, never output. */
  batch_size?: number
  min_length?: number
  max_new_tokens?: number
  length_penalty?: number
  repetition_penalty?: number
}

/** The JumpStart text2text JSON request body. */
export interface GenerateRequest extends GenerationParams {
  text_inputs: string | string[]
}

/**
 * The JumpStart text2text JSON response body. A string input is answered `{"generated_texts":
 * [...]}`; a list of inputs with a top-level list holding each input's generated texts, in input
 * order: `[["a1", ...], ["b1", ...]]`.
 *
 * Source of the list shape: the AWS notebook this product comes from (aws/amazon-sagemaker-examples,
 * introduction_to_amazon_algorithms/jumpstart-foundation-models/text2text-generation-flan-t5-Batch-Transform.ipynb,
 * section "Real-Time Batch Inference") sends a list of 10 `text_inputs` and reads the body as
 * `generated_text_list = json.loads(body)`, then `print(*generated_text_list, sep="\n")`: a
 * top-level list, one entry per input (a dict would print its keys). Each entry is that input's
 * `generated_texts` list, the form the container gives a string input and each batch output line
 * (`{'id': ..., 'generated_texts': [...]}`, read in the same notebook). The gateway reads this and
 * every other shape real containers return (src/sagemaker/response-shapes.ts).
 */
export type GenerateResponse = { generated_texts: string[] } | string[][]

/**
 * A request the model container rejects, as a real inference container would (HTTP status and a
 * message naming the offending field). The runtime turns it into SageMaker's ModelError.
 */
export class ModelInputError extends Error {
  override readonly name = 'ModelInputError'
  constructor (message: string, readonly statusCode: number = 400) {
    super(message)
  }
}

// ---------------------------------------------------------------------------------------------
// Instruction prompts
// ---------------------------------------------------------------------------------------------

// Words that mark a colon-terminated prefix/suffix as an instruction to the model rather than
// article text ("Briefly summarize this text:", "Article:", "TL;DR:"). Deliberately summarisation-
// centric so news text such as "The minister said: ..." is left alone.
const INSTRUCTION_WORDS = /(?:^|[^a-z])(summar\w*|tl;?dr|brief\w*|condense\w*|shorten\w*|abstract|rewrite|paraphrase|write|generate|produce|text|article|document|passage|input|content|highlights?|instructions?)(?![a-z])/i

// An instruction is short: at most this many words and characters before its colon.
const INSTRUCTION_MAX_WORDS = 16
const INSTRUCTION_MAX_CHARS = 200

function looksLikeInstruction (candidate: string): boolean {
  const trimmed = candidate.trim()
  if (trimmed.length === 0 || trimmed.length > INSTRUCTION_MAX_CHARS) return false
  if (/[.!?]/.test(trimmed)) return false
  if (trimmed.split(/\s+/).length > INSTRUCTION_MAX_WORDS) return false
  return INSTRUCTION_WORDS.test(trimmed)
}

/**
 * Removes one leading and one trailing instruction prompt from `input`.
 *
 * Rule: the text before the first ':' is a leading instruction when it is at most 16 words and
 * 200 characters, contains no sentence terminator (. ! ?), and contains an instruction word
 * (summarize/summary/brief/condense/text/article/document/passage/TL;DR, ...). Likewise a final
 * segment that ends the input with ':' (e.g. "\n\nTL;DR:" or "Summarize the above:"). If stripping
 * would leave nothing, the input is kept as is.
 */
export function stripInstruction (input: string): string {
  let text = input
  const colon = text.indexOf(':')
  if (colon > 0 && colon <= INSTRUCTION_MAX_CHARS && looksLikeInstruction(text.slice(0, colon))) {
    const rest = text.slice(colon + 1)
    if (rest.trim().length > 0) text = rest
  }
  // Only the tail can hold a trailing instruction; scanning it alone keeps 6 MB inputs cheap.
  const offset = Math.max(0, text.length - 2 * INSTRUCTION_MAX_CHARS)
  const trailing = /(^|[\n.!?])([^\n.!?:]{1,200}):\s*$/.exec(text.slice(offset))
  if (trailing !== null && (trailing[1] !== '' || offset === 0) && looksLikeInstruction(trailing[2])) {
    const rest = text.slice(0, offset + trailing.index + trailing[1].length)
    if (rest.trim().length > 0) text = rest
  }
  return text.trim()
}

// ---------------------------------------------------------------------------------------------
// Sentence splitting
// ---------------------------------------------------------------------------------------------

// Lower-cased abbreviations (without their final '.') after which a '.' does not end a sentence.
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'messrs', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'rev', 'hon',
  'gen', 'gov', 'sen', 'rep', 'pres', 'lt', 'col', 'capt', 'cpt', 'sgt', 'cmdr', 'adm', 'maj',
  'supt', 'det', 'insp', 'cpl', 'pvt', 'inc', 'ltd', 'co', 'corp', 'bros', 'plc', 'vs', 'etc',
  'approx', 'dept', 'est', 'fig', 'no', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep',
  'sept', 'oct', 'nov', 'dec'
])

// Characters that may close a sentence after its terminator: quotes and brackets (regex class body).
const CLOSERS = '"\'”’»)\\]'
const TERMINATED = new RegExp(`[.!?][${CLOSERS}]*$`)
// A token made only of closers ("  ''  ”  )  -rrb-), as in tokenised text: `he said . "`.
const CLOSER_TOKEN = new RegExp(`^(?:[${CLOSERS}]+|''|-rrb-|-rsb-)$`, 'i')
// Straight quotes open and close with the same glyph; only parity tells which one a token is.
// (PTB's '' is always a closer; its opener is ``.)
const SYMMETRIC_QUOTE = /^["']$/
const TRAILING_CLOSERS = new RegExp(`[${CLOSERS}]+$`)
const LEADING_OPENERS = new RegExp(`^[${CLOSERS}(\\[“‘«\`]+`)

function endsSentence (token: string, next: string | undefined): boolean {
  if (!TERMINATED.test(token)) return false
  const bare = token.replace(TRAILING_CLOSERS, '')
  // '"Is it?" she asked.': a quoted terminator followed by a lower-case word continues.
  if (bare !== token && next !== undefined && /^\p{Ll}/u.test(next)) return false
  if (!bare.endsWith('.') || bare.endsWith('..')) return true
  const word = bare.slice(0, -1).replace(LEADING_OPENERS, '')
  if (word.length === 0) return true // tokenised text: a standalone "."
  const lower = word.toLowerCase()
  if (lower === 'no') return next === undefined || !/^\d/.test(next) // "No. 2" vs "said no."
  if (ABBREVIATIONS.has(lower)) return false
  if (/^\p{Lu}$/u.test(word)) return false // an initial: "J. K. Rowling"
  if (/^(?:\p{L}{1,3}\.)+\p{L}{1,3}$/u.test(word)) return false // dotted acronym: U.S., a.m.
  return true
}

function countQuotes (tokens: string[], glyph: string): number {
  let n = 0
  for (const t of tokens) {
    if (t === glyph) n++
    else if (glyph === '"') n += t.split('"').length - 1
  }
  return n
}

/**
 * Splits text into sentences, stopping after `limit` of them.
 *
 * Rules (simple by design): blank lines always separate sentences; otherwise a whitespace-
 * separated token ending in . ! or ? (optionally followed by closing quotes/brackets) ends a
 * sentence, unless it is a known abbreviation (Mr., Dr., Inc., Jan., ...), an upper-case
 * initial (J.), a dotted acronym (U.S., a.m.), or a quoted terminator followed by a lower-case
 * word ('"Why?" she asked.'). A following token made only of closing quotes or brackets
 * (tokenised text: `he said . "`) stays with the sentence when it closes an open quote.
 * Whitespace inside a sentence is collapsed to single spaces.
 */
export function splitSentences (text: string, limit = Number.POSITIVE_INFINITY): string[] {
  const sentences: string[] = []
  let current: string[] = []
  const flush = (): void => {
    if (current.length > 0) sentences.push(current.join(' '))
    current = []
  }
  // Tokens are read lazily so a 6 MB input costs only as much as the sentences asked for.
  const tokens = text.matchAll(/(\n[^\S\n]*\n)|\S+/g)
  let look = tokens.next()
  // undefined at the end of the text or at a paragraph break
  const peek = (): string | undefined => (look.done === true || look.value[1] !== undefined ? undefined : look.value[0])
  while (look.done !== true && sentences.length < limit) {
    const isBreak = look.value[1] !== undefined
    const token = look.value[0]
    look = tokens.next()
    if (isBreak) {
      flush()
      continue
    }
    current.push(token)
    if (!endsSentence(token, peek())) continue
    for (let closer = peek(); closer !== undefined && CLOSER_TOKEN.test(closer); closer = peek()) {
      if (SYMMETRIC_QUOTE.test(closer) && countQuotes(current, closer) % 2 === 0) break
      current.push(closer)
      look = tokens.next()
    }
    flush()
  }
  if (sentences.length < limit) flush()
  return sentences
}

/** The local tokenizer: `text`'s whitespace-separated words, the unit of max_length and of the emulated TGI's token limits. */
export function words (text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0)
}

/** Cuts `text` to at most `maxWords` whitespace-separated words (a word boundary, never mid-word). */
export function truncateWords (text: string, maxWords: number | undefined): string {
  if (maxWords === undefined) return text
  const all = words(text)
  return all.length <= maxWords ? text : all.slice(0, maxWords).join(' ')
}

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-randomness for do_sample
// ---------------------------------------------------------------------------------------------

/** 32-bit FNV-1a over the UTF-16 code units of `s`. */
export function fnv1a (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function seededRandom (input: string, seed: number): () => number {
  // Seeds are any safe integer: fold both 32-bit halves into the input hash.
  const big = BigInt(Math.trunc(seed))
  const lo = Number(BigInt.asUintN(32, big))
  const hi = Number(BigInt.asUintN(32, big >> 32n))
  return mulberry32(fnv1a(input) ^ Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi ^ 0x85ebca6b, 0xc2b2ae35))
}

/** Picks `count` distinct sentence indices, biased towards the lead (weight 1/(i+1)), in document order. */
function sampleIndices (n: number, count: number, random: () => number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i)
  const picked: number[] = []
  while (picked.length < count && pool.length > 0) {
    const weights = pool.map((i) => 1 / (i + 1))
    let r = random() * weights.reduce((a, b) => a + b, 0)
    let k = 0
    while (k < pool.length - 1 && r >= weights[k]) {
      r -= weights[k]
      k++
    }
    picked.push(pool[k])
    pool.splice(k, 1)
  }
  return picked.sort((a, b) => a - b)
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/**
 * Candidate sentence selections in the order a beam list would rank them: the lead-3; the lead
 * with one of its later sentences swapped for the next unused one; shorter and longer leads;
 * then lead-3 windows further into the text. Lazy: callers stop after k distinct texts.
 */
function * candidateSelections (n: number): Generator<number[]> {
  const lead = Math.min(LEAD_SENTENCES, n)
  const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
  yield range(0, lead)
  if (n > lead) {
    for (let drop = lead - 1; drop >= 1; drop--) yield range(0, lead + 1).filter((i) => i !== drop)
  }
  for (let len = lead - 1; len >= 1; len--) yield range(0, len)
  // Bounded so that k variants never cost more than O(k) candidates of O(k) sentences each.
  const reach = Math.min(n, lead + MAX_RETURN_SEQUENCES)
  for (let len = lead + 1; len <= reach; len++) yield range(0, len)
  for (let start = 1; start < reach; start++) yield range(start, Math.min(n, start + lead))
}

/**
 * Summarises one input: strips a leading instruction prompt, splits sentences and returns
 * `num_return_sequences` texts (lead-3 first), each cut to `max_length` words. Variants are
 * distinct when the text allows it, otherwise repeated. With `do_sample`, three of the first
 * SAMPLE_POOL sentences are drawn pseudo-randomly (lead-biased) from a stream seeded by `seed`
 * (default 0) and a hash of the input, so the same input and seed always give the same output.
 * Other parameters are ignored.
 */
export function summarize (input: string, params: GenerationParams = {}): string[] {
  const k = params.num_return_sequences ?? 1
  const sampling = params.do_sample === true
  const sentences = splitSentences(stripInstruction(input), sampling ? SAMPLE_POOL : 2 * LEAD_SENTENCES + MAX_RETURN_SEQUENCES)
  const render = (indices: number[]): string =>
    truncateWords(indices.map((i) => sentences[i]).join(' '), params.max_length)
  if (sentences.length === 0) return Array.from({ length: k }, () => '')

  const out: string[] = []
  if (sampling) {
    const random = seededRandom(input, params.seed ?? 0)
    const count = Math.min(LEAD_SENTENCES, sentences.length)
    // Bounded redraws buy distinct samples when the text has enough sentences.
    const attempts = 8
    while (out.length < k) {
      let text = render(sampleIndices(sentences.length, count, random))
      for (let a = 1; a < attempts && out.includes(text); a++) {
        text = render(sampleIndices(sentences.length, count, random))
      }
      out.push(text)
    }
    return out
  }

  for (const selection of candidateSelections(sentences.length)) {
    if (out.length === k) break
    const text = render(selection)
    if (!out.includes(text)) out.push(text)
  }
  // Fewer distinct variants than requested: repeat them in rank order, as beams would.
  const distinct = out.length
  for (let i = 0; out.length < k; i++) out.push(out[i % distinct])
  return out
}

// ---------------------------------------------------------------------------------------------
// JumpStart request validation and the response shape
// ---------------------------------------------------------------------------------------------

type Check = (value: unknown) => string | undefined

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)
const intAtLeast = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  isInt(v) && v >= min && v <= max
    ? undefined
    : max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`
const number = (ok: (n: number) => boolean, what: string): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && ok(v) ? undefined : what
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'a boolean')

// Known generation kwargs; anything else is rejected the way transformers rejects unused
// model_kwargs, which catches gateway bugs early.
const PARAMETER_CHECKS: Record<keyof GenerationParams, Check> = {
  max_length: intAtLeast(1),
  num_return_sequences: intAtLeast(1, MAX_RETURN_SEQUENCES),
  num_beams: intAtLeast(1),
  do_sample: boolean,
  seed: (v) => (isInt(v) ? undefined : 'an integer'),
  top_k: intAtLeast(0),
  top_p: number((n) => n >= 0 && n <= 1, 'a number between 0 and 1'),
  temperature: number((n) => n > 0, 'a number > 0'),
  no_repeat_ngram_size: intAtLeast(0),
  early_stopping: boolean,
  // JumpStart: "If specified, it must be a positive integer"
  batch_size: intAtLeast(1),
  min_length: intAtLeast(0),
  max_new_tokens: intAtLeast(1),
  length_penalty: number(() => true, 'a number'),
  repetition_penalty: number((n) => n > 0, 'a number > 0')
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Validates a JumpStart request body and returns its inputs and parameters, or throws
 * ModelInputError (400) naming the offending field, as the container would.
 */
export function parseGenerateRequest (payload: unknown): { inputs: string | string[], params: GenerationParams } {
  if (!isRecord(payload)) throw new ModelInputError('Request body must be a JSON object with "text_inputs"')
  const { text_inputs: inputs, ...rest } = payload
  if (inputs === undefined) throw new ModelInputError('"text_inputs" is required')
  if (typeof inputs === 'string') {
    if (inputs.trim().length === 0) throw new ModelInputError('"text_inputs" must not be empty')
  } else if (Array.isArray(inputs)) {
    if (inputs.length === 0) throw new ModelInputError('"text_inputs" must not be an empty list')
    inputs.forEach((item: unknown, i) => {
      if (typeof item !== 'string') throw new ModelInputError(`"text_inputs[${i}]" must be a string, got ${item === null ? 'null' : typeof item}`)
      if (item.trim().length === 0) throw new ModelInputError(`"text_inputs[${i}]" must not be empty`)
    })
  } else {
    throw new ModelInputError(`"text_inputs" must be a string or a list of strings, got ${inputs === null ? 'null' : typeof inputs}`)
  }

  const params: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) {
    if (!Object.hasOwn(PARAMETER_CHECKS, key)) {
      throw new ModelInputError(`Unknown parameter "${key}"; allowed: ${Object.keys(PARAMETER_CHECKS).join(', ')}`)
    }
    const problem = PARAMETER_CHECKS[key as keyof GenerationParams](value)
    if (problem !== undefined) throw new ModelInputError(`"${key}" must be ${problem}, got ${JSON.stringify(value) ?? String(value)}`)
    params[key] = value
  }
  const typed = params as GenerationParams
  // Beam search cannot return more beams than it keeps (transformers raises the same).
  if (typed.do_sample !== true && typed.num_beams !== undefined &&
      (typed.num_return_sequences ?? 1) > typed.num_beams) {
    throw new ModelInputError(`"num_return_sequences" (${typed.num_return_sequences ?? 1}) must be <= "num_beams" (${typed.num_beams})`)
  }
  return { inputs: inputs as string | string[], params: typed }
}

/** Number of inputs in a JumpStart request body (1 for a string, the list length for a list, 0 if malformed). */
export function countInputs (payload: unknown): number {
  if (!isRecord(payload)) return 0
  const inputs = payload.text_inputs
  if (typeof inputs === 'string') return 1
  return Array.isArray(inputs) ? inputs.length : 0
}

/** Runs a JumpStart text2text request body: the generated texts of each input, in input order. */
export function generateSequences (payload: unknown): string[][] {
  const { inputs, params } = parseGenerateRequest(payload)
  return (typeof inputs === 'string' ? [inputs] : inputs).map((text) => summarize(text, params))
}

/**
 * Runs a JumpStart text2text request body and answers as the container does (GenerateResponse):
 * `{generated_texts}` for a string input, a top-level list of lists for a list. Throws
 * ModelInputError (400) for an invalid body.
 */
export function generate (payload: unknown): GenerateResponse {
  const sequences = generateSequences(payload)
  const single = typeof (payload as { text_inputs?: unknown }).text_inputs === 'string'
  return single ? { generated_texts: sequences[0] } : sequences
}
