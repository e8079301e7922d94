/**
 * A transform job's results, joined back to its input: one line per input record in input
 * order, `{"id","generated_texts"}` or `{"id","error":{code,message}}`.
 *
 * Batch Transform writes `<S3OutputPath>/<input file>.out` per input object, one line per
 * record, in the input's order (AssembleWith Line), as JSON or as a Python-literal dict.
 * A record the job never finished (Failed, Stopped) simply has no line. So the join is a
 * zip of two ordered streams with one O(1) comparison per record, falling back to a bounded
 * look-ahead only where they diverge: a record without output, or lines out of place. Memory
 * is one line of each stream plus that window; nothing grows with the job's size.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { parsePythonLiteral, type PyValue } from '../sagemaker/python-literal.js'
import { splitLines } from '../sagemaker/lines.js'
import { getStream, listObjects } from '../sagemaker/s3-io.js'
import { basename, type S3Location } from '../sagemaker/s3-uri.js'

/** What a line of the results carries for one input record. */
export type ResultLine =
  | { id: string | number, generated_texts: string[] }
  | { id: string | number, error: { code: string, message: string } }

/** One input record: its id (or its 0-based position in the job when the line has none). */
export interface InputRecord {
  id: string | number
  /** Set when the input line itself is unreadable; the record is reported with this error. */
  error?: { code: string, message: string }
}

/** One output line, parsed. `id` is absent when the container did not echo it. */
export interface OutputRecord {
  id?: string | number
  texts?: string[]
  error?: { code: string, message: string }
  /** Size of the line, for the look-ahead's byte budget. */
  bytes: number
}

/** Bounds of the look-ahead used where input and output diverge. */
export interface JoinLimits {
  /** Output lines held while looking for an input's line, at most. */
  windowRecords: number
  /** Bytes of output lines held, at most. */
  windowBytes: number
  /**
   * Consecutive inputs that may find nothing while the window is full before the window is
   * emptied (only lines with ids foreign to the input stay that long). Default 10 x
   * windowRecords: sparse output with longer gaps than this is reported missing.
   */
  stuckAfter?: number
}

export const DEFAULT_JOIN_LIMITS: JoinLimits = { windowRecords: 1000, windowBytes: 64 * 1024 * 1024 }

/** Longest record line read back from S3 (bytes): SageMaker's MaxPayloadInMB ceiling. */
export const MAX_RECORD_BYTES = 100 * 1024 * 1024

/** Counters of one join, for one log line per request. */
export interface JoinStats {
  records: number
  missing: number
  /** Output lines that matched no input (duplicates, foreign ids, evicted from the window). */
  stray: number
  /** Input records matched out of place (found through the look-ahead). */
  reordered: number
}

type Texts = { texts: string[] } | { error: string }

type Dict = Record<string, PyValue>
const isDict = (v: PyValue | undefined): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * The sequences of a single-input container's answer, as a job joined by id holds it under
 * `SageMakerOutput` (requests.ts JOINED_BY_ID): TGI's `[{"generated_text", "details"?}]` (the
 * others of best_of in details.best_of_sequences), LMI's `{"generated_text"}`. A generation the
 * container reports as failed (LMI's finish_reason "error") is that record's error.
 */
function readGenerations (output: PyValue): Texts | { failed: string } {
  if (isDict(output) && output.generated_texts !== undefined) return readTexts(output)
  const items = Array.isArray(output) ? output : [output]
  if (items.length === 0) return { error: 'has an empty SageMakerOutput' }
  const texts: string[] = []
  for (const item of items) {
    if (!isDict(item) || typeof item.generated_text !== 'string') return { error: 'has a SageMakerOutput without generated_text' }
    const details = item.details
    if (isDict(details) && details.finish_reason === 'error') return { failed: 'the model reported an error generating this record' }
    texts.push(item.generated_text)
    const others = isDict(details) ? details.best_of_sequences : undefined
    if (Array.isArray(others)) {
      for (const other of others) {
        if (!isDict(other) || typeof other.generated_text !== 'string') return { error: 'has a best_of sequence without generated_text' }
        texts.push(other.generated_text)
      }
    }
  }
  return { texts }
}

/** Reads `generated_texts` in the shapes JumpStart containers write. */
function readTexts (value: Record<string, PyValue>): Texts {
  const raw = value.generated_texts ?? value.generated_text
  if (typeof raw === 'string') return { texts: [raw] }
  if (!Array.isArray(raw)) return { error: 'has no generated_texts' }
  const texts: string[] = []
  for (const item of raw) {
    if (typeof item === 'string') texts.push(item)
    else if (item !== null && typeof item === 'object' && !Array.isArray(item) && typeof item.generated_text === 'string') texts.push(item.generated_text)
    else if (Array.isArray(item) && item.every(s => typeof s === 'string')) texts.push(...(item as string[]))
    else return { error: 'has generated_texts that are not strings' }
  }
  return { texts }
}

/** Parses one output line (JSON or a Python-literal dict); never throws. */
export function parseOutputLine (text: string, lineNumber: number, file: string): OutputRecord {
  const bytes = text.length
  let value: PyValue | undefined
  try {
    value = JSON.parse(text) as PyValue
  } catch {
    try {
      value = parsePythonLiteral(text)
    } catch {
      return { bytes, error: { code: 'INVALID_OUTPUT', message: `${file} line ${lineNumber} is neither JSON nor a Python literal` } }
    }
  }
  if (Array.isArray(value)) {
    // a single-input container's answer as written without DataProcessing: no id, line order only
    const generations = readGenerations(value)
    if ('texts' in generations) return { bytes, texts: generations.texts }
  }
  if (!isDict(value)) {
    return { bytes, error: { code: 'INVALID_OUTPUT', message: `${file} line ${lineNumber} is not an object` } }
  }
  const rawId = value.id
  const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : undefined
  const texts = value.SageMakerOutput !== undefined ? readGenerations(value.SageMakerOutput) : readTexts(value)
  if ('failed' in texts) return { id, bytes, error: { code: 'MODEL_ERROR', message: `${file} line ${lineNumber}: ${texts.failed}` } }
  if ('error' in texts) return { id, bytes, error: { code: 'INVALID_OUTPUT', message: `${file} line ${lineNumber} ${texts.error}` } }
  return { id, bytes, texts: texts.texts }
}

/** Reads an input line's id; `position` (0-based, across the job) stands in when it has none. */
export function parseInputLine (text: string, position: number, file: string, lineNumber: number): InputRecord {
  try {
    const value = JSON.parse(text) as unknown
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const id = (value as Record<string, unknown>).id
      if (typeof id === 'string' || typeof id === 'number') return { id }
    }
    return { id: position }
  } catch {
    return { id: position, error: { code: 'INVALID_INPUT', message: `${file} line ${lineNumber} is not JSON` } }
  }
}

function toLine (id: string | number, out: OutputRecord): ResultLine {
  if (out.error !== undefined) return { id, error: out.error }
  return { id, generated_texts: out.texts ?? [] }
}

/**
 * Joins input records to output records by id (compared as strings), in input order.
 *
 * In step (the normal case) each input reads exactly one output line: a zip. Where they
 * diverge, output lines are read ahead and held by id until their input comes, at most
 * `windowRecords` lines and `windowBytes` bytes; an input whose line is neither held nor read
 * before the window is full gets `missing(id)`. Held lines are not evicted while searching:
 * under the ordered model the oldest held line is the next one needed, so sparse output (a
 * Failed or Stopped job, a skipped record) is matched exactly however far apart the lines
 * are, as long as no more than `windowRecords` are outstanding and gaps are shorter than
 * `stuckAfter` inputs. A line whose id belongs to an input already passed (late beyond the
 * window, or a duplicate) is dropped as stray. Lines with ids foreign to the input would
 * block the window; after `stuckAfter` inputs in a row found nothing in a full window, the
 * window is emptied and the zip picks up again. Output lines without an id are taken to be
 * the current input's.
 *
 * Memory: the held lines, plus `stuckAfter + windowRecords` remembered ids; nothing grows
 * with the job.
 */
export async function * joinResults (
  inputs: AsyncIterable<InputRecord>,
  outputs: AsyncIterable<OutputRecord>,
  missing: (id: string | number) => { code: string, message: string },
  limits: JoinLimits = DEFAULT_JOIN_LIMITS,
  stats: JoinStats = { records: 0, missing: 0, stray: 0, reordered: 0 }
): AsyncGenerator<ResultLine> {
  const it = outputs[Symbol.asyncIterator]()
  const stuckAfter = limits.stuckAfter ?? 10 * limits.windowRecords
  let exhausted = false
  // Map and Set keep insertion order: the first entry is the oldest
  const held = new Map<string, OutputRecord>()
  let heldBytes = 0
  const passed = new Set<string>()
  let misses = 0 // consecutive inputs that found nothing while the window was full
  const full = (): boolean => held.size >= limits.windowRecords || heldBytes >= limits.windowBytes
  // remembers enough passed ids to recognise the lines of every input missed while stuck
  const remember = stuckAfter + limits.windowRecords
  const pass = (key: string): void => {
    passed.add(key)
    if (passed.size > remember) passed.delete(passed.values().next().value as string)
  }

  try {
    for await (const input of inputs) {
      stats.records++
      const key = String(input.id)
      if (input.error !== undefined) {
        pass(key)
        yield { id: input.id, error: input.error }
        continue
      }
      const early = held.get(key)
      if (early !== undefined) {
        held.delete(key)
        heldBytes -= early.bytes
        stats.reordered++
        misses = 0
        pass(key)
        yield toLine(input.id, early)
        continue
      }
      let found: OutputRecord | undefined
      while (!exhausted && !full()) {
        const next = await it.next()
        if (next.done === true) { exhausted = true; break }
        const out = next.value
        if (out.id === undefined || String(out.id) === key) { found = out; break }
        const outKey = String(out.id)
        // its input has passed (a late or duplicate line), or it is already held (a duplicate)
        if (passed.has(outKey) || held.has(outKey)) { stats.stray++; continue }
        held.set(outKey, out)
        heldBytes += out.bytes
      }
      pass(key)
      if (found !== undefined) {
        misses = 0
        yield toLine(input.id, found)
        continue
      }
      stats.missing++
      if (full() && ++misses >= stuckAfter) {
        // nothing held matched for stuckAfter inputs: these lines belong to no input
        stats.stray += held.size
        held.clear()
        heldBytes = 0
        misses = 0
      }
      yield { id: input.id, error: missing(input.id) }
    }
    // what is left over matched no input
    stats.stray += held.size
    if (!exhausted) {
      for (let next = await it.next(); next.done !== true; next = await it.next()) stats.stray++
    }
  } finally {
    await it.return?.()
  }
}

/** Where a job's input is and where its output goes. */
export interface JobResultsSource {
  s3: S3Client
  input: S3Location
  output: S3Location
  /** Error for an input record with no output line (worded for the job's status). */
  missing: (id: string | number) => { code: string, message: string }
  limits?: JoinLimits
  stats?: JoinStats
}

/**
 * The output object SageMaker writes for input object `key` read through prefix `inputKey`,
 * in the order worth trying: path relative to the prefix, then the basename (what a
 * single-object input produces), then path relative to the prefix's folder.
 */
export function outputCandidates (inputKey: string, key: string, outputKey: string): string[] {
  const out = outputKey.replace(/\/+$/, '')
  const relative = key.slice(inputKey.length).replace(/^\/+/, '')
  const slash = inputKey.lastIndexOf('/')
  const fromFolder = key.slice(slash + 1)
  const names = [relative === '' ? basename(key) : relative, basename(key), fromFolder]
  return [...new Set(names)].map(n => (out === '' ? n : `${out}/${n}`) + '.out')
}

async function * inputRecords (source: AsyncIterable<Uint8Array>, file: string, position: { next: number }): AsyncGenerator<InputRecord> {
  for await (const line of splitLines(source, MAX_RECORD_BYTES)) {
    if (line.text !== undefined && line.text.trim() === '') continue
    const at = position.next++
    if (line.text === undefined) {
      yield { id: at, error: { code: 'INVALID_INPUT', message: `${file} line ${line.number} is ${line.tooLong === true ? `longer than ${MAX_RECORD_BYTES} bytes` : 'not UTF-8'}` } }
      continue
    }
    yield parseInputLine(line.text, at, file, line.number)
  }
}

async function * outputRecords (source: AsyncIterable<Uint8Array> | undefined, file: string): AsyncGenerator<OutputRecord> {
  if (source === undefined) return
  for await (const line of splitLines(source, MAX_RECORD_BYTES)) {
    if (line.text === undefined) {
      yield { bytes: 0, error: { code: 'INVALID_OUTPUT', message: `${file} line ${line.number} is ${line.tooLong === true ? `longer than ${MAX_RECORD_BYTES} bytes` : 'not UTF-8'}` } }
      continue
    }
    if (line.text.trim() === '') continue
    yield parseOutputLine(line.text, line.number, file)
  }
}

/**
 * Streams a job's results: input objects in key order (as SageMaker lists them), each joined
 * with its `.out` object. An input object with no output object yields `missing` for each of
 * its records. S3 streams are destroyed when the consumer stops early.
 */
export async function * jobResults (source: JobResultsSource): AsyncGenerator<ResultLine> {
  const { s3, input, output } = source
  const position = { next: 0 }
  for await (const obj of listObjects(s3, input.bucket, input.key)) {
    if (obj.key.endsWith('/')) continue
    const inStream = await getStream(s3, input.bucket, obj.key)
    if (inStream === undefined) continue // deleted since the listing
    let outStream
    let outKey = ''
    try {
      for (const candidate of outputCandidates(input.key, obj.key, output.key)) {
        outStream = await getStream(s3, output.bucket, candidate)
        if (outStream !== undefined) { outKey = candidate; break }
      }
      yield * joinResults(
        inputRecords(inStream, basename(obj.key), position),
        outputRecords(outStream, basename(outKey)),
        source.missing,
        source.limits,
        source.stats
      )
    } finally {
      inStream.destroy()
      outStream?.destroy()
    }
  }
}
