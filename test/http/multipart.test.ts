// formParts over a body stream, with limits small enough to reach: what each limit says.
import { Readable } from 'node:stream'
import t from 'tap'
import { formParts, type FormLimits } from '../../src/http/multipart.js'
import { isCatalogError } from '../../src/errors.js'

const LIMITS: FormLimits = { fileBytes: 1000, files: 1, fields: 2, fieldBytes: 16 }
const headers = { 'content-type': 'multipart/form-data; boundary=x' }
const form = (...parts: string[]): string => parts.map(p => `--x\r\n${p}\r\n`).join('') + '--x--\r\n'
const file = (content: string): string => `Content-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n${content}`
const field = (name: string, value: string): string => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`

/** Reads every part (file bytes included) in chunks of 64 bytes; returns what was read or the error thrown. */
async function read (body: string): Promise<{ parts: Array<[string, string]>, error?: { statusCode: number, code: string, message: string } }> {
  const chunks = Buffer.from(body).toString('latin1').match(/[\s\S]{1,64}/g) ?? []
  const parts: Array<[string, string]> = []
  try {
    for await (const part of formParts(Readable.from(chunks.map(c => Buffer.from(c, 'latin1'))), headers, LIMITS, ['file'])) {
      if (part.kind === 'field') parts.push([part.name, part.value])
      else if (part.kind === 'file') {
        let text = ''
        for await (const chunk of part.bytes) text += chunk.toString()
        parts.push([part.name, text])
      } else parts.push([part.name, '(no filename)'])
    }
    return { parts }
  } catch (err) {
    if (!isCatalogError(err)) throw err
    return { parts, error: { statusCode: err.statusCode, code: err.code, message: err.message } }
  }
}

t.test('parts in order; a file at its limit passes', async t => {
  const content = 'y'.repeat(1000)
  t.same(await read(form(field('purpose', 'batch'), file(content))), { parts: [['purpose', 'batch'], ['file', content]] })
})

t.test('each limit is a catalog error naming it', async t => {
  t.match(await read(form(file('y'.repeat(1001)))), { error: { statusCode: 413, code: 'BODY_TOO_LARGE', message: 'form file "file" is larger than 1000 bytes' } })
  t.match(await read(form(field('purpose', 'b'.repeat(17)), file('y'))), { error: { statusCode: 400, code: 'INVALID_REQUEST', message: 'form field "purpose" is longer than 16 bytes' } })
  t.match(await read(form(field('a', '1'), field('b', '2'), field('c', '3'))), { error: { statusCode: 400, message: /too many parts/ } })
  t.match(await read(form(file('y'), file('z'))), { error: { statusCode: 400, message: /too many parts/ } })
})
