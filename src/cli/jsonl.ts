// JSON Lines input of the client commands (`summarize --jsonl`, `jobs evaluate --references`):
// read chunk by chunk, so a file of any size is never held whole, one parsed value per
// non-blank line with its line number; a bad line is a UsageError naming `file:line`.
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { isRecord } from './client.js'
import { UsageError } from './errors.js'

/**
 * Longest line accepted (characters). A file without newlines would otherwise be buffered
 * whole; no real record comes near it (the gateway refuses bodies far smaller).
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024

/** Characters of a bad line quoted in its error message. */
const PREVIEW_CHARS = 80

/** One non-blank line: its 1-based number and its parsed JSON value. */
export interface JsonLine {
  line: number
  value: unknown
  /** The raw line, for messages. */
  text: string
}

/** A record id as the gateway accepts it (RecordId): a string or a finite number. */
export type RecordId = string | number

/** A `{"id", "text"}` line (other fields are ignored). */
export interface TextRecord {
  id: RecordId
  text: string
  line: number
}

/** A JSONL input: where it is read from and how messages name it. */
export interface JsonlInput {
  /** "stdin", or the path as given. */
  label: string
  stream: NodeJS.ReadableStream
}

/** A line shortened for an error message. */
export function preview (line: string): string {
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 3)}...` : line
}

/**
 * Opens `path` ("-" = stdin) for reading, after checking it is a readable regular file so a
 * typo is one clear line before any work starts. `flag` names the option in messages.
 */
export async function openJsonl (path: string, flag: string, stdin: NodeJS.ReadableStream, command: string): Promise<JsonlInput> {
  if (path === '-') return { label: 'stdin', stream: stdin }
  try {
    const s = await stat(path)
    if (!s.isFile()) throw new UsageError(`${flag} ${path} is not a file`, command)
    await access(path, constants.R_OK)
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read ${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`, command)
  }
  return { label: path, stream: createReadStream(path) }
}

/**
 * The non-blank lines of `input`, parsed, as they stream in. Stopping early (break / return)
 * destroys the input stream. CRLF endings and a leading byte-order mark are accepted.
 */
export async function * jsonLines (input: JsonlInput, command: string): AsyncGenerator<JsonLine> {
  const decoder = new TextDecoder()
  let partial = ''
  let lineNumber = 0
  let first = true

  const parse = (raw: string): JsonLine | undefined => {
    lineNumber++
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (first) {
      first = false
      if (text.startsWith('\uFEFF')) text = text.slice(1)
    }
    if (text.trim() === '') return undefined
    try {
      return { line: lineNumber, value: JSON.parse(text), text }
    } catch (error) {
      throw new UsageError(`${input.label}:${lineNumber}: invalid JSON (${error instanceof Error ? error.message : String(error)})`, command)
    }
  }

  try {
    for await (const chunk of input.stream) {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
      // only the new text is searched, so a long line split over many chunks stays linear
      let start = 0
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const parsed = parse(partial + text.slice(start, nl))
        partial = ''
        start = nl + 1
        if (parsed !== undefined) yield parsed
      }
      partial += text.slice(start)
      if (partial.length > MAX_LINE_CHARS) {
        throw new UsageError(`${input.label}:${lineNumber + 1}: line longer than ${MAX_LINE_CHARS} characters; is this a JSON Lines file?`, command)
      }
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    // a read failure (EIO, EISDIR on some systems, a broken pipe upstream)
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read ${input.label}: ${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)}`, command)
  }
  const last = parse(partial + decoder.decode())
  if (last !== undefined) yield last
}

/** Fields that hold the text in other formats, named when a line has one instead of "text". */
const OTHER_TEXT_FIELDS = ['article', 'text_inputs', 'document', 'content', 'input']

/** Checks that a line is `{"id": string|number, "text": string}`; other fields are ignored. */
export function textRecord (item: JsonLine, label: string, command: string): TextRecord {
  const { value } = item
  const id = isRecord(value) ? value.id : undefined
  const text = isRecord(value) ? value.text : undefined
  if (!isRecord(value) || !(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) || typeof text !== 'string') {
    // a CNN/DailyMail "article" or a JumpStart "text_inputs" line is a near miss worth naming
    const other = isRecord(value) && typeof text !== 'string' ? OTHER_TEXT_FIELDS.find((f) => typeof value[f] === 'string') : undefined
    const hint = other === undefined ? '' : ` ("${other}" is not read; name the field "text")`
    throw new UsageError(`${label}:${item.line}: expected {"id": string|number, "text": string}${hint}, got ${preview(item.text)}`, command)
  }
  return { id, text, line: item.line }
}
