/**
 * One parameter vocabulary: the public generation parameters (JumpStart's names, schemas/params.ts;
 * the OpenAI routes map theirs onto these first) translated into what a container contract's
 * payload carries. Nothing is dropped in silence: a parameter the contract cannot honour is a 400
 * INVALID_PARAMETERS naming it, its value and the contract, unless its value is that contract's
 * no-op (then leaving it out changes nothing the model does).
 *
 * TGI (text-generation-inference router/src/lib.rs `GenerateParameters`, validation.rs):
 *  - max_length → max_new_tokens. FLAN-T5 is an encoder-decoder: its generate()'s max_length
 *    bounds the decoder's output only (the decoder start token included), which is what TGI's
 *    max_new_tokens bounds for it; absent, TGI's own default (100) applies, as JumpStart's
 *    container's default did for max_length.
 *  - num_return_sequences k > 1 → best_of = k with details (TGI returns the others in
 *    details.best_of_sequences), which TGI allows only when sampling; greedy k > 1 is a 400.
 *  - num_beams: TGI has no beam search; 1 is its no-op, more is a 400. early_stopping only
 *    steers beam search: false is the no-op.
 *  - no_repeat_ngram_size and batch_size have no TGI counterpart: a 400.
 *  - temperature, top_k, top_p, do_sample, seed: the same names (top_p 1 is the no-op: TGI
 *    refuses 1 itself, it wants < 1).
 *  - stop (≤ MAX_STOP_SEQUENCES) and truncate (tokens kept from the end of the input) exist only
 *    here; the list contract cannot honour them.
 * LMI (djl-serving lmi_input_output_schema.md): HF generate's names (max_new_tokens, do_sample,
 * temperature, top_k, top_p, seed, stop_sequences...); one sequence per input.
 */
import type { Params } from '../../batching/payload.js'
import { catalogError } from '../../errors.js'
import type { GenerationParameters } from '../../../schemas/params.js'
import type { TgiLimits } from './tgi.js'
import type { ContainerContract } from './types.js'

/** What the caller asked beyond the JumpStart parameters (OpenAI's stop; TGI's truncate). */
export interface ExtraParameters {
  /** Stop sequences: generation ends at the first. */
  stop?: readonly string[]
  /** Keep only the last `truncate` input tokens (TGI): the caller's explicit consent to lose the rest. */
  truncate?: number
}

/** A contract's payload parameters and how many sequences per input its answer holds. */
export interface Translated {
  params: Params
  sequences: number
}

/** The limits of a TGI container that bear on its parameters (MAX_STOP_SEQUENCES, MAX_BEST_OF, MAX_INPUT_LENGTH). */
export interface ParameterLimits {
  maxStopSequences?: number
  maxBestOf?: number
  /** Input tokens at most: TGI refuses a `truncate` above it on every request (router/src/validation.rs). */
  maxInputLength?: number
}

const show = (v: unknown): string => JSON.stringify(v)

/**
 * Where the parameters sit in the caller's request: a path (`body.parameters`: a refusal names
 * `body.parameters.<name>`), or a function giving the field the caller actually sent for a
 * public parameter (the OpenAI routes: `n` for num_return_sequences).
 */
export type ParameterPath = string | ((name: string) => string)

/** Where a body that has `truncate` beside `parameters` (/v1/summarize, transform jobs) sits them. */
export const BESIDE_PARAMETERS: ParameterPath = (name) => name === 'truncate' ? 'body.truncate' : `body.parameters.${name}`

/** A body's `truncate` (TGI; not one of JumpStart's parameters) as the vocabulary's extra parameters. */
export function truncateExtra (truncate: number | undefined): ExtraParameters {
  return truncate === undefined ? {} : { truncate }
}

function refuse (at: ParameterPath, name: string, value: unknown, contract: string, why: string): never {
  const field = typeof at === 'string' ? `${at}.${name}` : at(name)
  throw catalogError('INVALID_PARAMETERS', `${field} ${show(value)} is not supported by this endpoint's ${contract} contract (${why})`, { param: field })
}

/** True when the caller asks for sampling by any of the parameters that imply it (TGI's rule). */
function sampling (p: GenerationParameters): boolean {
  return p.do_sample === true || p.temperature !== undefined || p.top_k !== undefined || (p.top_p !== undefined && p.top_p < 1)
}

function forList (p: GenerationParameters, extra: ExtraParameters, at: ParameterPath): Translated {
  if (extra.stop !== undefined && extra.stop.length > 0) refuse(at, 'stop', extra.stop, 'jumpstart-list', 'JumpStart\'s list container takes no stop sequences')
  if (extra.truncate !== undefined) refuse(at, 'truncate', extra.truncate, 'jumpstart-list', 'JumpStart\'s list container cannot truncate an input')
  return { params: { ...p }, sequences: p.num_return_sequences ?? 1 }
}

function forTgi (p: GenerationParameters, extra: ExtraParameters, at: ParameterPath, limits: ParameterLimits): Translated {
  const c = 'tgi'
  if (p.num_beams !== undefined && p.num_beams > 1) refuse(at, 'num_beams', p.num_beams, c, 'TGI has no beam search; sample with do_sample instead')
  if (p.early_stopping === true) refuse(at, 'early_stopping', p.early_stopping, c, 'it steers beam search, which TGI does not have')
  if (p.no_repeat_ngram_size !== undefined) refuse(at, 'no_repeat_ngram_size', p.no_repeat_ngram_size, c, 'TGI has no n-gram ban; repetition_penalty is its nearest')
  if (p.batch_size !== undefined) refuse(at, 'batch_size', p.batch_size, c, 'TGI batches continuously by itself')
  const out: Record<string, string | number | boolean> = {}
  if (p.max_length !== undefined) out.max_new_tokens = p.max_length
  if (p.do_sample !== undefined) out.do_sample = p.do_sample
  if (p.temperature !== undefined) out.temperature = p.temperature
  if (p.top_k !== undefined) out.top_k = p.top_k
  if (p.top_p !== undefined && p.top_p < 1) out.top_p = p.top_p
  const k = p.num_return_sequences ?? 1
  if (k > 1) {
    if (!sampling(p)) refuse(at, 'num_return_sequences', k, c, 'TGI returns more than one sequence only when sampling (best_of): add do_sample true')
    if (limits.maxBestOf !== undefined && k > limits.maxBestOf) refuse(at, 'num_return_sequences', k, c, `the container's MAX_BEST_OF is ${limits.maxBestOf}`)
    if (p.seed !== undefined) refuse(at, 'seed', p.seed, c, 'TGI refuses a seed with best_of > 1 (num_return_sequences)')
    out.best_of = k
    out.details = true
  }
  if (p.seed !== undefined) out.seed = p.seed
  if (extra.truncate !== undefined) {
    if (limits.maxInputLength !== undefined && extra.truncate > limits.maxInputLength) refuse(at, 'truncate', extra.truncate, c, `the container's MAX_INPUT_LENGTH is ${limits.maxInputLength}; TGI refuses a larger truncate on every input`)
    out.truncate = extra.truncate
  }
  const stop = extra.stop ?? []
  if (limits.maxStopSequences !== undefined && stop.length > limits.maxStopSequences) refuse(at, 'stop', stop, c, `the container's MAX_STOP_SEQUENCES is ${limits.maxStopSequences}`)
  // Params are flat scalars (the batcher partitions on them); a list travels as JSON text and
  // the contract's payload builder restores it
  if (stop.length > 0) out.stop = JSON.stringify(stop)
  return { params: out, sequences: k }
}

function forLmi (p: GenerationParameters, extra: ExtraParameters, at: ParameterPath): Translated {
  const c = 'lmi'
  if ((p.num_return_sequences ?? 1) > 1) refuse(at, 'num_return_sequences', p.num_return_sequences, c, 'an LMI answer holds one sequence per input')
  if (p.batch_size !== undefined) refuse(at, 'batch_size', p.batch_size, c, 'LMI batches by itself')
  if (extra.truncate !== undefined) refuse(at, 'truncate', extra.truncate, c, 'LMI takes no truncate parameter')
  const out: Record<string, string | number | boolean> = {}
  if (p.max_length !== undefined) out.max_new_tokens = p.max_length
  for (const name of ['num_beams', 'no_repeat_ngram_size', 'temperature', 'top_k', 'top_p', 'do_sample', 'early_stopping', 'seed'] as const) {
    if (p[name] !== undefined) out[name] = p[name]
  }
  const stop = extra.stop ?? []
  if (stop.length > 0) out.stop_sequences = JSON.stringify(stop)
  return { params: out, sequences: 1 }
}

/**
 * The public parameters `p` (validated by the schema, cross-checked) as contract `contract`'s
 * payload parameters. `at` is the path of `p` in the caller's request (`body.parameters`), or
 * the caller's name of each parameter, so a refusal names the field the caller sent. Throws
 * INVALID_PARAMETERS.
 */
export function translateParameters (contract: Pick<ContainerContract, 'name'>, p: GenerationParameters, at: ParameterPath, extra: ExtraParameters = {}, limits: ParameterLimits = {}): Translated {
  switch (contract.name) {
    case 'jumpstart-list': return forList(p, extra, at)
    case 'tgi': return forTgi(p, extra, at, limits)
    case 'lmi': return forLmi(p, extra, at)
  }
}

/** Parameter names whose value is a JSON-encoded list in Params (see forTgi): the payload builders decode them. */
export const LIST_VALUED_PARAMETERS: ReadonlySet<string> = new Set(['stop', 'stop_sequences'])

/** Params as a contract's JSON `parameters` object: list-valued ones decoded back into lists. */
export function payloadParameters (params: Params): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(params)) {
    out[key] = LIST_VALUED_PARAMETERS.has(key) && typeof value === 'string' ? JSON.parse(value) as unknown : value
  }
  return out
}

/**
 * Sequences per input a contract's answer holds for payload parameters `params` (translated):
 * num_return_sequences for the list contract, best_of for TGI, one for LMI. The invoker reads
 * the answer by it; translateParameters' `sequences` says the same before the payload exists.
 */
export function sequencesPerInput (contract: Pick<ContainerContract, 'name'>, params: Params): number {
  const k = contract.name === 'jumpstart-list' ? params.num_return_sequences : contract.name === 'tgi' ? params.best_of : 1
  return typeof k === 'number' ? k : 1
}

/** The parameter limits of a container: TGI's MAX_STOP_SEQUENCES, MAX_BEST_OF and MAX_INPUT_LENGTH; none for the others. */
export function parameterLimits (tgi: TgiLimits | undefined): ParameterLimits {
  return tgi === undefined ? {} : { maxStopSequences: tgi.maxStopSequences, maxBestOf: tgi.maxBestOf, maxInputLength: tgi.maxInputLength }
}
