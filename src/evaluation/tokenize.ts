// rouge-score's tokenizer (rouge/tokenize.py), producing interned integer ids:
//   text.lower(); re.sub(r"[^a-z0-9]+", " "); re.split(r"\s+");
//   stem tokens longer than 3 characters; keep tokens matching ^[a-z0-9]+$.
// JavaScript's toLowerCase and Python's str.lower agree on every code point whose lowercase
// contains an ASCII letter or digit (only U+0130 'İ' -> 'i̇' and U+212A KELVIN SIGN -> 'k'
// besides A-Z), so lowering the whole string first and then scanning ASCII is exact.
import { porterStem } from './porter.js'

/** A tokenised text: interned token ids and the newline-separated lines they fall in. */
export interface TokenizedText {
  /** Token ids in text order, from the Tokenizer that produced them. */
  readonly ids: Int32Array
  /**
   * Token offsets where each '\n'-separated line starts, plus ids.length at the end, so line k
   * is ids[lineStarts[k] .. lineStarts[k + 1]). Lines with no tokens are kept; they cannot
   * change any score (rouge-score drops only zero-length lines, which also have no tokens).
   */
  readonly lineStarts: Int32Array
}

const NEWLINE = 10

function isTokenChar (c: number): boolean {
  // [a-z0-9] on already lowered text
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}

/** Interns rouge-score tokens (optionally Porter-stemmed) to dense integer ids 0..size-1. */
export class Tokenizer {
  readonly useStemmer: boolean
  // raw (unstemmed) token -> id of its final (stemmed) form; doubles as the stem cache
  private readonly rawToId = new Map<string, number>()
  private readonly tokenToId = new Map<string, number>()
  private readonly idToToken: string[] = []
  // growable scratch buffers reused across texts; only the encoded copies escape
  private idBuf: Int32Array = new Int32Array(256)
  private lineBuf: Int32Array = new Int32Array(16)

  constructor (useStemmer = false) {
    this.useStemmer = useStemmer
  }

  /** Number of distinct tokens interned so far; every id is below this. */
  get size (): number {
    return this.idToToken.length
  }

  /** The token string an id stands for. */
  token (id: number): string {
    const token = this.idToToken[id]
    if (token === undefined) throw new RangeError(`unknown token id ${id}`)
    return token
  }

  /** Tokenises and interns text, recording where each newline-separated line starts. */
  encode (text: string): TokenizedText {
    const lower = text.toLowerCase()
    const n = lower.length
    let count = 0
    let lines = 1
    this.lineBuf[0] = 0
    let start = -1
    for (let i = 0; i <= n; i++) {
      const c = i < n ? lower.charCodeAt(i) : NEWLINE
      if (isTokenChar(c)) {
        if (start < 0) start = i
        continue
      }
      if (start >= 0) {
        const id = this.intern(lower.slice(start, i))
        start = -1
        if (id >= 0) {
          if (count === this.idBuf.length) this.idBuf = grow(this.idBuf)
          this.idBuf[count++] = id
        }
      }
      if (c === NEWLINE && i < n) {
        if (lines === this.lineBuf.length) this.lineBuf = grow(this.lineBuf)
        this.lineBuf[lines++] = count
      }
    }
    if (lines === this.lineBuf.length) this.lineBuf = grow(this.lineBuf)
    this.lineBuf[lines++] = count
    return { ids: this.idBuf.slice(0, count), lineStarts: this.lineBuf.slice(0, lines) }
  }

  /** Tokenises text to token strings, as rouge-score's tokenize.tokenize(text, stemmer). */
  tokenize (text: string): string[] {
    return Array.from(this.encode(text).ids, (id) => this.idToToken[id])
  }

  private intern (raw: string): number {
    const known = this.rawToId.get(raw)
    if (known !== undefined) return known
    const token = this.useStemmer && raw.length > 3 ? porterStem(raw) : raw
    let id: number
    if (!isValidToken(token)) {
      // rouge-score's final ^[a-z0-9]+$ filter; a stem is never empty for these inputs,
      // but the filter is part of the contract so it is kept.
      id = -1
    } else {
      const existing = this.tokenToId.get(token)
      if (existing !== undefined) {
        id = existing
      } else {
        id = this.idToToken.length
        this.idToToken.push(token)
        this.tokenToId.set(token, id)
      }
    }
    this.rawToId.set(raw, id)
    return id
  }
}

function isValidToken (token: string): boolean {
  if (token.length === 0) return false
  for (let i = 0; i < token.length; i++) {
    if (!isTokenChar(token.charCodeAt(i))) return false
  }
  return true
}

function grow (buf: Int32Array): Int32Array {
  const next = new Int32Array(buf.length * 2)
  next.set(buf)
  return next
}

/** Splits text into rouge-score tokens (strings), Porter-stemming tokens longer than 3 when asked. */
export function tokenize (text: string, useStemmer = false): string[] {
  return new Tokenizer(useStemmer).tokenize(text)
}
