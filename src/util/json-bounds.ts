/**
 * Bounds on JSON a caller sends: how deep it may nest, and a bounded rendering for messages.
 * Both are iterative: recursion over a value nested thousands deep overflows the stack (in
 * JSON.stringify, ajv, or any walker), so nothing here recurses.
 */

/**
 * True when `text` nests objects/arrays deeper than `max`. One pass over the characters,
 * skipping strings; it does not validate JSON (the parser does that afterwards).
 */
export function exceedsJsonDepth (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) { // { [
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) { // } ]
      depth--
    }
  }
  return false
}

/** One open array or object: its keys (undefined for an array), the next index, members written. */
type Frame = { keys: string[] | undefined, value: unknown[] | Record<string, unknown>, i: number, written: number }

/** JSON-quoted, bounded rendering of a value for messages (80 characters). */
export function show (value: unknown): string {
  return preview(value, 80)
}

/**
 * JSON text of `value` for messages, cut to `maxChars` (ending in `...`). Iterative, and it
 * stops as soon as the cut is reached, so a deep or huge value costs at most `maxChars` of
 * work beyond the walk to its first leaves. `undefined` prints as `undefined`.
 */
export function preview (value: unknown, maxChars = 80): string {
  const limit = maxChars + 1
  let out = ''
  const stack: Frame[] = []
  const emit = (v: unknown, inArray: boolean): boolean => {
    if (v !== null && typeof v === 'object') {
      const isArray = Array.isArray(v)
      out += isArray ? '[' : '{'
      stack.push({ keys: isArray ? undefined : Object.keys(v), value: v as unknown[] | Record<string, unknown>, i: 0, written: 0 })
      return true
    }
    const text = typeof v === 'bigint' ? String(v) : JSON.stringify(v)
    if (text === undefined) {
      if (!inArray) return false
      out += 'null'
    } else {
      out += text
    }
    return true
  }
  if (value === undefined) return 'undefined'
  emit(value, true)
  while (stack.length > 0 && out.length < limit) {
    const frame = stack[stack.length - 1] as Frame
    const length = frame.keys === undefined ? (frame.value as unknown[]).length : frame.keys.length
    if (frame.i >= length) {
      out += frame.keys === undefined ? ']' : '}'
      stack.pop()
      continue
    }
    const index = frame.i++
    if (frame.keys === undefined) {
      if (index > 0) out += ','
      emit((frame.value as unknown[])[index], true)
    } else {
      const key = frame.keys[index] as string
      const item = (frame.value as Record<string, unknown>)[key]
      // JSON.stringify leaves such members out of objects
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
      if (frame.written++ > 0) out += ','
      out += JSON.stringify(key) + ':'
      emit(item, false)
    }
  }
  return out.length > maxChars ? `${out.slice(0, maxChars - 3)}...` : out
}

/** Largest integer a JSON number keeps exactly here (JSON.parse reads numbers as doubles): 2^53 - 1. */
export const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER

// 2^53 has 16 digits: text without such a run and without an exponent (9.007199254740993e15,
// 1e21) cannot hold an integer JSON.parse altered
const MAYBE_BIG_INTEGER = /\d{16}|\d[eE]/

/**
 * The first integer in `value` beyond ±MAX_EXACT_INTEGER, which JSON.parse has already rounded
 * (9007199254740993 reads as …992), and its path (`.input.records[1].id`; `` for the value
 * itself); undefined when there is none. `text` is the JSON it was parsed from: without a run
 * of 16 digits or an exponent in it nothing is walked. Iterative (values nest up to MAX_JSON_DEPTH, schemas/json-bounds.ts).
 */
export function inexactInteger (text: string, value: unknown): { path: string, value: number } | undefined {
  if (!MAYBE_BIG_INTEGER.test(text)) return undefined
  const stack: Array<{ path: string, value: unknown }> = [{ path: '', value }]
  while (stack.length > 0) {
    const { path, value: v } = stack.pop() as { path: string, value: unknown }
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return { path, value: v }
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ path: `${path}[${i}]`, value: v[i] })
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>)
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, member] = entries[i] as [string, unknown]
        stack.push({ path: `${path}.${key}`, value: member })
      }
    }
  }
  return undefined
}

/** The message for an integer inexactInteger found at `field`: what happened and what to send instead. */
export function inexactIntegerMessage (field: string, value: number): string {
  // an id may be a string and is then kept exactly; a number the model takes (a seed, a
  // length) must be a number, so the advice for it is the range
  const advice = /(^|\.)id$/.test(field) ? 'send it as a string' : `send a number within ±${MAX_EXACT_INTEGER}`
  return `${field} is an integer beyond ±${MAX_EXACT_INTEGER} (2^53 - 1); JSON numbers that large are not kept exactly (it reads as ${String(value)}): ${advice}`
}
