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
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0
    if (need === 0) return i
    // E0: no overlong forms; ED: no surrogates; F0: no overlong forms; F4: nothing past U+10FFFF
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined) return i
      if (k === 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xbf)) return i
    }
    i += need + 1
  }
  return undefined
}
