// Request-level logic of POST /v1/evaluate (API.md, "Evaluation"): validate, join predictions
// to references on id (compared as strings), score each reference with rouge-score's
// algorithm, average, and optionally bootstrap confidence bounds. Pure: no HTTP, no I/O.
import { bootstrapInterval, DEFAULT_BOOTSTRAP } from './bootstrap.js'
import { DEFAULT_ROUGE_TYPES, isRougeType, RougeScorer, type Score } from './rouge.js'
import type { TokenizedText } from './tokenize.js'
import { preview } from '../util/json-bounds.js'

/** One text to score; ids may be strings or numbers and are joined as strings (7 matches "7"). */
export interface EvaluationItem {
  id: string | number
  text: string
}

/** The body of POST /v1/evaluate. */
export interface EvaluationRequest {
  predictions: readonly EvaluationItem[]
  references: readonly EvaluationItem[]
  rougeTypes?: readonly string[]
  useStemmer?: boolean
  perRecord?: boolean
  bootstrap?: { samples?: number; confidence?: number; seed?: number }
}

/** A mean score, with bootstrap bounds when bootstrap was requested. */
export interface AggregateScore extends Score {
  low?: Score
  high?: Score
}

/** Per-reference scores: `id` plus one Score per requested type. */
export type EvaluationRecord = { id: string | number } & { [rougeType: string]: Score | string | number }

/** The 200 body of POST /v1/evaluate. */
export interface EvaluationResult {
  /** Number of references scored (every reference, matched or not). */
  count: number
  /** Reference ids with no prediction (scored against ""), in reference order. */
  missing: Array<string | number>
  /** Prediction ids with no reference (not scored), in prediction order. */
  unmatched: Array<string | number>
  scores: Record<string, AggregateScore>
  records?: EvaluationRecord[]
}

/** Limits enforced by evaluate(); tokens are counted after rouge-score's tokenisation. */
export interface EvaluationLimits {
  /** Most tokens in any scored text (LCS is quadratic in it). */
  maxTokens?: number
  /** Most bootstrap resamples. */
  maxBootstrapSamples?: number
}

/** 20,000 tokens: a 20k x 20k LCS is ~4e8 cells, about half a second. */
export const DEFAULT_MAX_TOKENS = 20_000
/** Bootstrap cost is samples x references x types x 3. */
export const DEFAULT_MAX_BOOTSTRAP_SAMPLES = 10_000

/** Stable error codes; a route would map INVALID_EVALUATION_INPUT to 400 and TEXT_TOO_LONG to 413. */
export type EvaluationErrorCode = 'INVALID_EVALUATION_INPUT' | 'TEXT_TOO_LONG'

/** A client error in an evaluation request; `field` is a JSON path such as `references[3].id`. */
export class EvaluationInputError extends Error {
  readonly code: EvaluationErrorCode
  readonly field: string

  constructor (code: EvaluationErrorCode, field: string, message: string) {
    super(message)
    this.name = 'EvaluationInputError'
    this.code = code
    this.field = field
  }
}

function invalid (field: string, message: string): EvaluationInputError {
  return new EvaluationInputError('INVALID_EVALUATION_INPUT', field, message)
}

/** JSON-ish rendering of a value for error messages, bounded so huge inputs are not echoed. */
function show (value: unknown): string {
  return preview(value, 60)
}

interface Entry {
  id: string | number
  key: string
  text: string
}

function readItems (items: unknown, field: 'predictions' | 'references'): Entry[] {
  if (!Array.isArray(items)) throw invalid(field, `${field} must be an array, got ${show(items)}`)
  const entries: Entry[] = []
  const seen = new Map<string, number>()
  items.forEach((item: unknown, index: number) => {
    const at = `${field}[${index}]`
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw invalid(at, `${at} must be an object with id and text, got ${show(item)}`)
    }
    const record = item as Record<string, unknown>
    const id = record.id
    if (id === undefined || id === null) throw invalid(`${at}.id`, `${at}.id is missing`)
    if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
      throw invalid(`${at}.id`, `${at}.id must be a string or a number, got ${show(id)}`)
    }
    const text = record.text
    if (typeof text !== 'string') {
      throw invalid(`${at}.text`, `${at}.text must be a string, got ${show(text)} (id ${show(id)})`)
    }
    const key = String(id)
    const first = seen.get(key)
    if (first !== undefined) {
      throw invalid(`${at}.id`, `${at}.id ${show(key)} is duplicated (first at ${field}[${first}])`)
    }
    seen.set(key, index)
    entries.push({ id, key, text })
  })
  return entries
}

function readRougeTypes (value: unknown): string[] {
  if (value === undefined) return [...DEFAULT_ROUGE_TYPES]
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('rougeTypes', `rougeTypes must be a non-empty array, got ${show(value)}`)
  }
  const types: string[] = []
  value.forEach((type: unknown, index: number) => {
    const at = `rougeTypes[${index}]`
    if (typeof type !== 'string' || !isRougeType(type)) {
      throw invalid(at, `${at} ${show(type)} is not a ROUGE type; use rouge1..rouge9, rougeL or rougeLsum`)
    }
    if (types.includes(type)) throw invalid(at, `${at} ${show(type)} is duplicated`)
    types.push(type)
  })
  return types
}

function readBootstrap (value: unknown, maxSamples: number): { samples: number; confidence: number; seed: number } | null {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('bootstrap', `bootstrap must be an object, got ${show(value)}`)
  }
  const b = value as Record<string, unknown>
  const samples = b.samples ?? DEFAULT_BOOTSTRAP.samples
  const confidence = b.confidence ?? DEFAULT_BOOTSTRAP.confidence
  const seed = b.seed ?? DEFAULT_BOOTSTRAP.seed
  if (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > maxSamples) {
    throw invalid('bootstrap.samples', `bootstrap.samples must be an integer in 1..${maxSamples}, got ${show(samples)}`)
  }
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw invalid('bootstrap.confidence', `bootstrap.confidence must be a number in (0, 1), got ${show(confidence)}`)
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw invalid('bootstrap.seed', `bootstrap.seed must be an integer, got ${show(seed)}`)
  }
  return { samples, confidence, seed }
}

function readBoolean (value: unknown, field: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw invalid(field, `${field} must be a boolean, got ${show(value)}`)
  return value
}

/** Scores predictions against references as POST /v1/evaluate; throws EvaluationInputError on bad input. */
export function evaluate (request: EvaluationRequest, limits: EvaluationLimits = {}): EvaluationResult {
  const maxTokens = limits.maxTokens ?? DEFAULT_MAX_TOKENS
  const maxSamples = limits.maxBootstrapSamples ?? DEFAULT_MAX_BOOTSTRAP_SAMPLES
  if (typeof request !== 'object' || request === null) throw invalid('body', 'the body must be an object')

  const references = readItems(request.references, 'references')
  const predictions = readItems(request.predictions, 'predictions')
  if (references.length === 0) throw invalid('references', 'references must contain at least one record')
  const rougeTypes = readRougeTypes(request.rougeTypes)
  const useStemmer = readBoolean(request.useStemmer, 'useStemmer')
  const perRecord = readBoolean(request.perRecord, 'perRecord')
  const bootstrap = readBootstrap(request.bootstrap, maxSamples)

  const predictionIndex = new Map<string, number>()
  predictions.forEach((p, index) => predictionIndex.set(p.key, index))
  const referenceKeys = new Set(references.map((r) => r.key))
  const missing: Array<string | number> = []
  const unmatched = predictions.filter((p) => !referenceKeys.has(p.key)).map((p) => p.id)

  const scorer = new RougeScorer(rougeTypes, { useStemmer })
  const encode = (text: string, field: string, id: string | number): TokenizedText => {
    const encoded = scorer.tokenizer.encode(text)
    if (encoded.ids.length > maxTokens) {
      const message = `${field} id ${show(String(id))} has ${encoded.ids.length} tokens; the limit is ${maxTokens}`
      throw new EvaluationInputError('TEXT_TOO_LONG', field, message)
    }
    return encoded
  }
  // a reference without a prediction is scored against ""
  const empty = scorer.tokenizer.encode('')

  const types = rougeTypes.length
  // matrix[(r * types + t) * 3 + {0, 1, 2}] = precision, recall, fmeasure of reference r, type t
  const matrix = new Float64Array(references.length * types * 3)
  const records: EvaluationRecord[] | undefined = perRecord ? [] : undefined
  references.forEach((reference, r) => {
    const p = predictionIndex.get(reference.key)
    if (p === undefined) missing.push(reference.id)
    const encodedReference = encode(reference.text, `references[${r}].text`, reference.id)
    const encodedPrediction = p === undefined ? empty : encode(predictions[p].text, `predictions[${p}].text`, reference.id)
    const scores = scorer.scoreTokenized(encodedReference, encodedPrediction)
    for (let t = 0; t < types; t++) {
      const s = scores[rougeTypes[t]]
      const offset = (r * types + t) * 3
      matrix[offset] = s.precision
      matrix[offset + 1] = s.recall
      matrix[offset + 2] = s.fmeasure
    }
    if (records !== undefined) records.push({ id: reference.id, ...scores })
  })

  const count = references.length
  const sums = new Float64Array(types * 3)
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < types * 3; k++) sums[k] += matrix[r * types * 3 + k]
  }
  const interval = bootstrap === null ? null : bootstrapInterval(matrix, count, types * 3, bootstrap)

  const scores: Record<string, AggregateScore> = {}
  rougeTypes.forEach((type, t) => {
    const mean = (k: number): number => sums[t * 3 + k] / count
    const aggregate: AggregateScore = { precision: mean(0), recall: mean(1), fmeasure: mean(2) }
    if (interval !== null) {
      // Clamp only guards last-bit rounding (e.g. all records equal): low <= mean <= high.
      const low = (k: number): number => Math.min(interval.low[t * 3 + k], mean(k))
      const high = (k: number): number => Math.max(interval.high[t * 3 + k], mean(k))
      aggregate.low = { precision: low(0), recall: low(1), fmeasure: low(2) }
      aggregate.high = { precision: high(0), recall: high(1), fmeasure: high(2) }
    }
    scores[type] = aggregate
  })

  const result: EvaluationResult = { count, missing, unmatched, scores }
  if (records !== undefined) result.records = records
  return result
}
