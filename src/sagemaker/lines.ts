/**
 * Streaming line splitter for JSON Lines over S3 bodies and request streams. Memory is
 * bounded by `maxLineBytes`: a longer line is reported (and skipped) instead of buffered, so a
 * file with no newlines cannot exhaust the heap.
 */

import { invalidUtf8Offset } from '../util/utf8.js'

/** One line: its 1-based number, its text (no `\n`/`\r\n`), or `tooLong` with its size. */
export type Line =
  | { number: number, text: string, bytes: number, tooLong?: undefined, invalidUtf8?: undefined }
  | { number: number, text?: undefined, bytes: number, tooLong: true, invalidUtf8?: undefined }
  | { number: number, text?: undefined, bytes: number, tooLong?: undefined, invalidUtf8: true, /** of the first bad byte, in the line */ invalidAt: number }

const NEWLINE = 0x0a
const CR = 0x0d

/**
 * Yields each line of a byte stream in order, including blank ones (callers decide). `bytes`
 * counts the line's bytes without its terminator. Lines are split on bytes, which is safe for
 * UTF-8 (0x0A never occurs inside a multi-byte sequence), and decoded strictly.
 */
export async function * splitLines (source: AsyncIterable<Uint8Array | string>, maxLineBytes: number): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let parts: Buffer[] = []
  let held = 0 // bytes in `parts`
  let lineBytes = 0 // bytes of the current line so far, including any dropped while too long
  let number = 0

  const finish = (): Line => {
    number++
    // held while within the limit plus one byte for a trailing \r
    const dropped = lineBytes > maxLineBytes + 1
    let buf = dropped ? Buffer.alloc(0) : Buffer.concat(parts, held)
    let bytes = lineBytes
    if (!dropped && buf.length > 0 && buf[buf.length - 1] === CR) { buf = buf.subarray(0, buf.length - 1); bytes-- }
    parts = []
    held = 0
    lineBytes = 0
    if (dropped || bytes > maxLineBytes) return { number, bytes, tooLong: true }
    try {
      return { number, text: decoder.decode(buf), bytes }
    } catch {
      return { number, bytes, invalidUtf8: true, invalidAt: invalidUtf8Offset(buf) ?? 0 }
    }
  }

  for await (const chunk of source) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    for (;;) {
      const nl = buf.indexOf(NEWLINE)
      const piece = nl < 0 ? buf : buf.subarray(0, nl)
      lineBytes += piece.length
      // past the limit the line is only counted, never held
      if (lineBytes <= maxLineBytes + 1 && piece.length > 0) { parts.push(Buffer.from(piece)); held += piece.length }
      if (lineBytes > maxLineBytes + 1 && held > 0) { parts = []; held = 0 }
      if (nl < 0) break
      yield finish()
      buf = buf.subarray(nl + 1)
    }
  }
  if (lineBytes > 0 || parts.length > 0) yield finish()
}
