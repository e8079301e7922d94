/**
 * Strict UTF-8: where a byte sequence stops being UTF-8. Decoding with replacement would turn a
 * bad byte into U+FFFD and change what the caller sent without a word; callers refuse instead,
 * naming the offset.
 */
import { isUtf8 } from 'node:buffer'

/**
 * The offset of the first byte of `bytes` that does not start or continue a valid UTF-8 sequence
 * (overlong forms, surrogates and code points past U+10FFFF are invalid, as in TextDecoder's
 * fatal mode); undefined when all of it is UTF-8.
 */
export function invalidUtf8Offset (bytes: Uint8Array): number | undefined {
  if (isUtf8(bytes)) return undefined
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    if (b < 0x80) { i++; continue }
    // the allowed range of the second byte depends on the first (RFC 3629 §4)
    let need: number
    let lo = 0x80
    let hi = 0xbf
    if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) { need = 2; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f }
    else return i
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined) return i
      if (k === 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xbf)) return i
    }
    i += need + 1
  }
  return undefined
}
