/**
 * Python literals, both ways. SageMaker Batch Transform takes `Environment.HYPER_PARAMS` as
 * `str(dict)` (single quotes, True/False/None), and JumpStart containers may write output
 * lines the same way (the AWS example reads them with `ast.literal_eval`).
 */

/** A value a Python literal can carry (dict keys become strings). */
export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue }

/** Thrown on text that is not a Python literal; `offset` is where reading stopped. */
export class PythonLiteralError extends Error {
  override name = 'PythonLiteralError'
  constructor (message: string, readonly offset: number) { super(`${message} at offset ${offset}`) }
}

/** Python's repr of a str: single quotes unless only double quotes avoid escaping. */
export function pyString (s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    if (ch === '\\') out += '\\\\'
    else if (ch === quote) out += '\\' + quote
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (cp >= 0x80 && cp <= 0xa0) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\u' + cp.toString(16).padStart(4, '0') // lone surrogate
    else if (cp === 0x2028 || cp === 0x2029 || cp === 0xad) out += '\\u' + cp.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + quote
}

/** Python's repr of a float (shortest round-trip digits, always with a point or exponent). */
function pyFloat (n: number): string {
  if (Number.isNaN(n) || !Number.isFinite(n)) throw new TypeError(`${n} has no Python literal`)
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toFixed(1)
  // JS and Python agree on shortest digits; they differ only in exponent spelling
  const s = String(n)
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s)
  if (m === null) return s
  return `${m[1]}e${m[2]}${(m[3] as string).padStart(2, '0')}`
}

/**
 * Encodes a JSON-like value as Python would print it (`str(value)`). Integers stay ints;
 * non-integers are floats. Set `floats` to name keys whose values must print as floats
 * even when whole (so temperature 1 is sent as 1.0).
 */
export function toPythonLiteral (value: unknown, floats: ReadonlySet<string> = new Set(), key?: string): string {
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no Python literal`)
    if (Number.isInteger(value) && !(key !== undefined && floats.has(key))) return String(value)
    return pyFloat(value)
  }
  if (typeof value === 'string') return pyString(value)
  if (Array.isArray(value)) return '[' + value.map(v => toPythonLiteral(v, floats)).join(', ') + ']'
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pyString(k)}: ${toPythonLiteral(v, floats, k)}`)
    return '{' + parts.join(', ') + '}'
  }
  throw new TypeError(`${typeof value} has no Python literal`)
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': ''
}

/** Parses the subset of Python `ast.literal_eval` accepts that JSON-like data needs. */
export function parsePythonLiteral (text: string): PyValue {
  let i = 0
  const fail = (msg: string): never => { throw new PythonLiteralError(msg, i) }
  const ws = (): void => { while (i < text.length && /\s/.test(text[i] as string)) i++ }

  function str (): string {
    let raw = false
    while (/[rRuUbB]/.test(text[i] ?? '')) { if (/[rR]/.test(text[i] as string)) raw = true; i++ }
    const q = text[i]
    if (q !== "'" && q !== '"') return fail('expected a string')
    const triple = text.startsWith(q.repeat(3), i)
    const close = triple ? q.repeat(3) : q
    i += close.length
    let out = ''
    for (;;) {
      if (i >= text.length) return fail('unterminated string')
      if (text.startsWith(close, i)) { i += close.length; return out }
      const ch = text[i] as string
      if (!triple && ch === '\n') return fail('newline in string')
      if (ch !== '\\') { out += ch; i++; continue }
      const next = text[i + 1]
      if (next === undefined) return fail('unterminated escape')
      if (raw) { out += ch + next; i += 2; continue }
      if (next in SIMPLE_ESCAPES) { out += SIMPLE_ESCAPES[next]; i += 2; continue }
      const hexLen = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0
      if (hexLen > 0) {
        const hex = text.slice(i + 2, i + 2 + hexLen)
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) return fail(`bad \\${next} escape`)
        out += String.fromCodePoint(parseInt(hex, 16))
        i += 2 + hexLen
        continue
      }
      const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))
      if (oct !== null) { out += String.fromCodePoint(parseInt(oct[0], 8)); i += 1 + oct[0].length; continue }
      // Python keeps unknown escapes as written
      out += ch + next
      i += 2
    }
  }

  function strings (): string {
    let out = str()
    // adjacent literals concatenate: 'a' "b" == 'ab'
    for (;;) {
      const save = i
      ws()
      if (/^[rRuUbB]*['"]/.test(text.slice(i, i + 3))) out += str()
      else { i = save; return out }
    }
  }

  function num (): number {
    const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?[\d_]*(?:[eE][+-]?\d[\d_]*)?)/.exec(text.slice(i))
    if (m === null || m[0] === '' || /^[+-]?\.?$/.test(m[0])) return fail('expected a value')
    i += m[0].length
    const clean = m[0].replace(/_/g, '')
    const sign = clean.startsWith('-') ? -1 : 1
    const body = clean.replace(/^[+-]/, '')
    if (/^0[xob]/i.test(body)) return sign * parseInt(body.slice(2), body[1]?.toLowerCase() === 'x' ? 16 : body[1]?.toLowerCase() === 'o' ? 8 : 2)
    const n = Number(clean)
    if (Number.isNaN(n)) return fail(`bad number ${m[0]}`)
    return n
  }

  function seq (closeCh: string): PyValue[] {
    const out: PyValue[] = []
    i++
    ws()
    while (text[i] !== closeCh) {
      out.push(value())
      ws()
      if (text[i] === ',') { i++; ws(); continue }
      if (text[i] !== closeCh) return fail(`expected , or ${closeCh}`)
    }
    i++
    return out
  }

  function dict (): PyValue {
    const out: Record<string, PyValue> = {}
    i++
    ws()
    while (text[i] !== '}') {
      const k = value()
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean' && k !== null) return fail('dict keys must be str or number')
      ws()
      if (text[i] !== ':') return fail('expected :')
      i++
      // defineProperty: a key named __proto__ is data, not a prototype switch
      Object.defineProperty(out, String(k === null ? 'None' : k === true ? 'True' : k === false ? 'False' : k), { value: value(), enumerable: true, writable: true, configurable: true })
      ws()
      if (text[i] === ',') { i++; ws(); continue }
      if (text[i] !== '}') return fail('expected , or }')
    }
    i++
    return out
  }

  function value (): PyValue {
    ws()
    const ch = text[i]
    if (ch === undefined) return fail('unexpected end')
    if (ch === '{') return dict()
    if (ch === '[') return seq(']')
    if (ch === '(') {
      const items = seq(')')
      return items
    }
    if (ch === "'" || ch === '"' || (/[rRuUbB]/.test(ch) && /^[rRuUbB]{1,2}['"]/.test(text.slice(i, i + 3)))) return strings()
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, i) && !/\w/.test(text[i + word.length] ?? '')) { i += word.length; return v }
    }
    return num()
  }

  const result = value()
  ws()
  if (i !== text.length) fail('unexpected text after the value')
  return result
}
