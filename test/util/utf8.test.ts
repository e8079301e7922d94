// invalidUtf8Offset agrees with the WHATWG decoder's fatal mode (what splitLines and every
// client use) on arbitrary bytes, and points at the start of the first bad sequence.
import t from 'tap'
import fc from 'fast-check'
import { invalidUtf8Offset } from '../../src/util/utf8.js'

const strict = new TextDecoder('utf-8', { fatal: true })
const decodes = (bytes: Uint8Array): boolean => { try { strict.decode(bytes); return true } catch { return false } }

t.test('valid exactly when the strict decoder accepts; the bytes before the offset decode', async t => {
  // bytes biased towards UTF-8 lead and continuation bytes, so both outcomes are common
  const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }))
  fc.assert(fc.property(fc.array(byte, { maxLength: 24 }), (array) => {
    const bytes = Uint8Array.from(array)
    const offset = invalidUtf8Offset(bytes)
    if (offset === undefined) return decodes(bytes)
    return !decodes(bytes) && decodes(bytes.subarray(0, offset)) && !decodes(bytes.subarray(offset))
  }), { numRuns: 20_000 })
  t.equal(invalidUtf8Offset(Buffer.from('café 🥐')), undefined)
  t.equal(invalidUtf8Offset(Buffer.from([0x61, 0xc0, 0xaf])), 1, 'an overlong form')
  t.equal(invalidUtf8Offset(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80])), 2, 'an encoded surrogate')
  t.equal(invalidUtf8Offset(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'past U+10FFFF')
  t.equal(invalidUtf8Offset(Buffer.from([0x61, 0xe2, 0x82])), 1, 'cut inside a sequence')
})
