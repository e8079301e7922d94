/**
 * Incremental text framing for streamed container answers: bytes cut anywhere (inside a UTF-8
 * character, inside a line ending) in, complete lines and server-sent events out. Used by the
 * stream parsers of the TGI (server-sent events) and LMI (JSON Lines or server-sent events)
 * contracts.
 */

/** Splits a byte stream into lines ended by LF, CRLF or CR (the endings the SSE spec allows). */
export class LineReader {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private pending = ''

  /** The complete lines in `chunk` (without their endings); a partial line waits for the next chunk. */
  push (chunk: Uint8Array): string[] {
    this.pending += this.decoder.decode(chunk, { stream: true })
    return this.take(false)
  }

  /** The last line when the stream ends without a line ending; throws TypeError on a cut UTF-8 character. */
  finish (): string[] {
    this.pending += this.decoder.decode()
    return this.take(true)
  }

  private take (final: boolean): string[] {
    const lines: string[] = []
    let start = 0
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending.charCodeAt(i)
      if (c !== 0x0a && c !== 0x0d) continue
      // a CR last in the buffer may be the first half of a CRLF: wait for the next chunk
      if (c === 0x0d && i === this.pending.length - 1 && !final) break
      lines.push(this.pending.slice(start, i))
      if (c === 0x0d && this.pending.charCodeAt(i + 1) === 0x0a) i++
      start = i + 1
    }
    this.pending = this.pending.slice(start)
    if (final && this.pending !== '') {
      lines.push(this.pending)
      this.pending = ''
    }
    return lines
  }
}

/** One server-sent event: its `event` name (`message` when unnamed) and its data lines joined by LF. */
export interface ServerSentEvent {
  event: string
  data: string
}

/**
 * Server-sent events from a byte stream, per the WHATWG HTML "event stream interpretation":
 * `field:value` lines (one leading space of the value dropped), `:` comments (TGI's keep-alives)
 * ignored, an event dispatched at each blank line when it has data.
 */
export class SseReader {
  private readonly lines = new LineReader()
  private event = ''
  private data: string[] = []

  /** The events completed by `chunk`. */
  push (chunk: Uint8Array): ServerSentEvent[] {
    return this.read(this.lines.push(chunk))
  }

  /** Events completed at the end of the stream, and whether an unterminated one was left (a cut stream). */
  finish (): { events: ServerSentEvent[], unterminated: boolean } {
    const events = this.read(this.lines.finish())
    // the spec discards an event not followed by a blank line; the caller decides what that means
    return { events, unterminated: this.data.length > 0 }
  }

  private read (lines: string[]): ServerSentEvent[] {
    const out: ServerSentEvent[] = []
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') })
        this.event = ''
        this.data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') this.data.push(value)
      else if (field === 'event') this.event = value
    }
    return out
  }
}
