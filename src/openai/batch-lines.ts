/**
 * The lines of an OpenAI batch input file, checked as OpenAI checks them
 * (https://platform.openai.com/docs/api-reference/batch/request-input): each line
 * `{"custom_id", "method": "POST", "url", "body"}`, `custom_id` unique in the file, `url` one of
 * the routes a batch can run, `body` valid for that route, and, as OpenAI requires, one
 * `body.model` (and here one `url`) per file. Pure: the upload streams lines through `check`.
 */
import type { ValidateFunction } from 'ajv'
import { Type } from 'typebox'
import { ChatCompletionBody, CompletionBody } from '../../schemas/openai.js'
import { BATCH_URLS, type BatchUrl } from '../../schemas/openai-batches.js'
import { describeValidation, validatorCompiler } from '../util/validation.js'
import { canonicalJson } from '../jobs/manifest.js'
import { show } from '../util/json-bounds.js'
import { isCatalogError } from '../errors.js'
import { chatCompletionRequest, completionRequest, type GenerationRequest } from './requests.js'

export { BATCH_URLS, type BatchUrl } from '../../schemas/openai-batches.js'

/** OpenAI's limit of requests in one batch file. */
export const MAX_BATCH_REQUESTS = 50_000
/** Longest custom_id accepted (characters). */
export const MAX_CUSTOM_ID = 512

const LineShape = Type.Object({
  custom_id: Type.String({ minLength: 1, maxLength: MAX_CUSTOM_ID }),
  method: Type.Literal('POST'),
  url: Type.Enum([...BATCH_URLS]),
  body: Type.Object({}, { additionalProperties: true })
}, { additionalProperties: false })

function compile (schema: object): ValidateFunction {
  return validatorCompiler({ schema, method: 'POST', url: '', httpPart: 'body' }) as ValidateFunction
}
const checkShape = compile(LineShape)
const checkBody: Record<BatchUrl, ValidateFunction> = {
  '/v1/completions': compile(CompletionBody),
  '/v1/chat/completions': compile(ChatCompletionBody)
}

/** A valid line: its custom_id, route, and what it asks of the model. */
export interface BatchLine {
  customId: string
  url: BatchUrl
  request: GenerationRequest
}

export type BatchLineVerdict = { ok: true, line: BatchLine } | { ok: false, message: string }

/** Reads one parsed line; messages name the field (`line.custom_id`, `line.body.max_tokens`) and value. Uniqueness is the caller's. */
export function readBatchLine (value: unknown): BatchLineVerdict {
  if (!checkShape(value)) return { ok: false, message: describeValidation(checkShape.errors ?? [], 'line', value).message }
  const line = value as { custom_id: string, url: BatchUrl, body: Record<string, unknown> }
  const check = checkBody[line.url]
  if (!check(line.body)) return { ok: false, message: describeValidation(check.errors ?? [], 'line.body', line.body).message }
  if (line.body.stream === true) return { ok: false, message: 'line.body.stream true is not supported in a batch (got true)' }
  let request: GenerationRequest
  try {
    // the real-time routes' own mapping: the same refusals, parameters and flattening
    request = line.url === '/v1/chat/completions' ? chatCompletionRequest(line.body as ChatCompletionBody) : completionRequest(line.body as CompletionBody)
  } catch (err) {
    if (!isCatalogError(err)) throw err
    return { ok: false, message: err.message.startsWith('body') ? `line.${err.message}` : `line.body.${err.message}` }
  }
  // a job record is one text: a list of prompts is several requests, one line each
  if (request.inputs.length !== 1) return { ok: false, message: `line.body.prompt has ${request.inputs.length} prompts; a batch request carries one (write one line per prompt)` }
  return { ok: true, line: { customId: line.custom_id, url: line.url, request } }
}

/** What every line of a file must share: the first line's url and model. */
export interface FileUniformity { url?: BatchUrl, model?: string, firstLine?: number, requests: number }

/**
 * The upload's check of one line: shape and body, the request limit, and one url and one model
 * per file (named with the first line's value). `custom_id` uniqueness is checked by the upload
 * (its id set).
 */
export function checkUploadLine (value: unknown, lineNumber: number, seen: FileUniformity): { ok: true, line: BatchLine } | { ok: false, message: string } {
  const verdict = readBatchLine(value)
  if (!verdict.ok) return verdict
  const { line } = verdict
  if (seen.requests >= MAX_BATCH_REQUESTS) return { ok: false, message: `a batch file holds at most ${MAX_BATCH_REQUESTS} requests` }
  if (seen.url === undefined) {
    seen.url = line.url
    seen.model = line.request.model
    seen.firstLine = lineNumber
  } else if (line.url !== seen.url) {
    return { ok: false, message: `line.url ${show(line.url)} differs from line ${seen.firstLine ?? 1}'s ${show(seen.url)}: every request of a batch file calls one url` }
  } else if (line.request.model !== seen.model) {
    return { ok: false, message: `line.body.model ${show(line.request.model)} differs from line ${seen.firstLine ?? 1}'s ${show(seen.model)}: every request of a batch file uses one model` }
  }
  seen.requests++
  return { ok: true, line }
}

/** The grouping key: lines with equal model and normalised parameters share a transform job. */
export function groupKey (request: GenerationRequest): string {
  return canonicalJson({ model: request.model, parameters: request.params })
}

/** One transform job's worth of lines: their positions in the file (0-based, in order). */
export interface LineGroup {
  key: string
  model: string
  parameters: GenerationRequest['params']
  positions: number[]
}

/** Groups lines by groupKey, groups in order of their first line, positions in input order. */
export function groupLines (requests: readonly GenerationRequest[]): LineGroup[] {
  const groups = new Map<string, LineGroup>()
  requests.forEach((request, position) => {
    const key = groupKey(request)
    let group = groups.get(key)
    if (group === undefined) {
      group = { key, model: request.model, parameters: request.params, positions: [] }
      groups.set(key, group)
    }
    group.positions.push(position)
  })
  return [...groups.values()]
}
