// `text2text-gateway evaluate`: ROUGE for two local JSONL files of {"id", "text"}, with the
// same scoring as POST /v1/evaluate. Exit codes: 0 success, 2 anything the user must fix
// (usage, unreadable file, bad line, invalid input), 1 unexpected failure.
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { evaluate, EvaluationInputError, type EvaluationItem, type EvaluationResult } from '../evaluation/evaluate.js'

const USAGE = `usage: text2text-gateway evaluate --predictions p.jsonl --references r.jsonl
         [--rouge-types rouge1,rouge2,rougeL,rougeLsum] [--use-stemmer] [--per-record]
         [--bootstrap N] [--confidence 0.95] [--seed 0] [--max-tokens 20000] [--json]

Each file holds one {"id": string|number, "text": string} per line; blank lines are skipped.
Predictions are joined to references on id (compared as strings); a reference without a
prediction is scored against "" and listed as missing.`

const EXIT_OK = 0
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

/** A problem the user must fix; printed as one line, exit code 2. */
class UserError extends Error {}

interface LoadedFile {
  path: string
  items: EvaluationItem[]
  /** 1-based line number of items[i] in the file. */
  lines: number[]
}

/** Streams a JSONL file of {id, text} records, naming file:line on the first bad line. */
async function readRecords (path: string): Promise<LoadedFile> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    throw new UserError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const items: EvaluationItem[] = []
  const lines: number[] = []
  try {
    const reader = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity })
    let lineNumber = 0
    for await (const line of reader) {
      lineNumber++
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        throw new UserError(`${path}:${lineNumber}: invalid JSON (${error instanceof Error ? error.message : String(error)})`)
      }
      const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null
      const id = record?.id
      const text = record?.text
      if (record === null || !(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) || typeof text !== 'string') {
        throw new UserError(`${path}:${lineNumber}: expected {"id": string|number, "text": string}, got ${preview(line)}`)
      }
      items.push({ id, text })
      lines.push(lineNumber)
    }
  } finally {
    await handle.close()
  }
  return { path, items, lines }
}

function preview (line: string): string {
  return line.length > 80 ? `${line.slice(0, 77)}...` : line
}

/** Prefixes an evaluation error with the file:line its `predictions[i]` / `references[i]` came from. */
function locate (error: EvaluationInputError, files: { predictions: LoadedFile; references: LoadedFile }): string {
  const m = /^(predictions|references)\[(\d+)\]/.exec(error.field)
  if (m === null) return error.message
  const file = m[1] === 'predictions' ? files.predictions : files.references
  const line = file.lines[Number(m[2])]
  return line === undefined ? error.message : `${file.path}:${line}: ${error.message}`
}

function fixed (x: number): string {
  return x.toFixed(4)
}

/** The human-readable report: a header line, a scores table, and per-record F-measures if asked. */
export function formatTable (result: EvaluationResult, useStemmer: boolean, confidence: number | null): string {
  const types = Object.keys(result.scores)
  const out: string[] = []
  const { count, missing, unmatched } = result
  out.push(`references ${count}  missing ${missing.length}  unmatched ${unmatched.length}  stemmer ${useStemmer ? 'on' : 'off'}`)
  const ciHeader = confidence === null ? '' : `  fmeasure ${Math.round(confidence * 100)}% CI`
  const width = Math.max(9, ...types.map((t) => t.length))
  out.push(`${'type'.padEnd(width)}  precision  recall  fmeasure${ciHeader}`)
  for (const type of types) {
    const s = result.scores[type]
    const ci = s.low !== undefined && s.high !== undefined ? `  [${fixed(s.low.fmeasure)}, ${fixed(s.high.fmeasure)}]` : ''
    const cells = [fixed(s.precision).padStart(9), fixed(s.recall).padStart(6), fixed(s.fmeasure).padStart(8)]
    out.push(`${type.padEnd(width)}  ${cells.join('  ')}${ci}`)
  }
  if (result.missing.length > 0) out.push(`missing: ${result.missing.join(', ')}`)
  if (result.unmatched.length > 0) out.push(`unmatched: ${result.unmatched.join(', ')}`)
  if (result.records !== undefined) {
    const idWidth = Math.max(2, ...result.records.map((r) => String(r.id).length))
    out.push('')
    out.push(`${'id'.padEnd(idWidth)}  ${types.map((t) => `${t} F`.padStart(Math.max(t.length + 2, 8))).join('  ')}`)
    for (const record of result.records) {
      const cells = types.map((t) => {
        const s = record[t]
        const f = typeof s === 'object' ? fixed(s.fmeasure) : ''
        return f.padStart(Math.max(t.length + 2, 8))
      })
      out.push(`${String(record.id).padEnd(idWidth)}  ${cells.join('  ')}`)
    }
  }
  return out.join('\n') + '\n'
}

function parseNumber (value: string | undefined, flag: string, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !check(n)) throw new UserError(`${flag} must be ${expected}, got ${JSON.stringify(value)}`)
  return n
}

/** Runs `evaluate` with the arguments after the subcommand name; resolves to the exit code. */
export async function evaluateCommand (argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    let parsed
    try {
      parsed = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          predictions: { type: 'string' },
          references: { type: 'string' },
          'rouge-types': { type: 'string' },
          'use-stemmer': { type: 'boolean', default: false },
          'per-record': { type: 'boolean', default: false },
          bootstrap: { type: 'string' },
          confidence: { type: 'string' },
          seed: { type: 'string' },
          'max-tokens': { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false }
        }
      })
    } catch (error) {
      throw new UserError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
    }
    const v = parsed.values
    if (v.help) {
      out.write(USAGE + '\n')
      return EXIT_OK
    }
    if (v.predictions === undefined || v.references === undefined) {
      throw new UserError(`--predictions and --references are required\n${USAGE}`)
    }
    const rougeTypes = v['rouge-types']?.split(',').map((t) => t.trim()).filter((t) => t !== '')
    const samples = parseNumber(v.bootstrap, '--bootstrap', (n) => Number.isInteger(n) && n >= 1, 'a positive integer')
    const confidence = parseNumber(v.confidence, '--confidence', (n) => n > 0 && n < 1, 'a number in (0, 1)')
    const seed = parseNumber(v.seed, '--seed', Number.isSafeInteger, 'an integer')
    const maxTokens = parseNumber(v['max-tokens'], '--max-tokens', (n) => Number.isInteger(n) && n >= 1, 'a positive integer')
    if (samples === undefined && (confidence !== undefined || seed !== undefined)) {
      throw new UserError('--confidence and --seed apply only with --bootstrap N')
    }

    const predictions = await readRecords(v.predictions)
    const references = await readRecords(v.references)
    const useStemmer = v['use-stemmer']
    let result: EvaluationResult
    try {
      result = evaluate(
        {
          predictions: predictions.items,
          references: references.items,
          rougeTypes,
          useStemmer,
          perRecord: v['per-record'],
          bootstrap: samples === undefined ? undefined : { samples, confidence, seed }
        },
        { maxTokens }
      )
    } catch (error) {
      if (error instanceof EvaluationInputError) throw new UserError(locate(error, { predictions, references }))
      throw error
    }
    const shownConfidence = samples === undefined ? null : (confidence ?? 0.95)
    out.write(v.json ? JSON.stringify(result, null, 2) + '\n' : formatTable(result, useStemmer, shownConfidence))
    return EXIT_OK
  } catch (error) {
    if (error instanceof UserError) {
      err.write(`error: ${error.message}\n`)
      return EXIT_USAGE
    }
    err.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT_FAILURE
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  evaluateCommand(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
    process.exitCode = code
  })
}
