import t from 'tap'
import { splitLines, type Line } from '../../src/sagemaker/lines.js'

async function lines (chunks: Array<string | Uint8Array>, max = 1024): Promise<Line[]> {
  const out: Line[] = []
  async function * src (): AsyncGenerator<string | Uint8Array> { for (const c of chunks) yield c }
  for await (const line of splitLines(src(), max)) out.push(line)
  return out
}

t.test('lines split across chunks, CRLF, a last line without newline, blank lines kept', async t => {
  const got = await lines(['{"a":', '1}\r\n\n{"b"', ':2}\n', 'tail'])
  t.same(got.map(l => l.text), ['{"a":1}', '', '{"b":2}', 'tail'])
  t.same(got.map(l => l.number), [1, 2, 3, 4])
  t.same(await lines(['x\n']), [{ number: 1, text: 'x', bytes: 1 }], 'no phantom line after a final newline')
})

t.test('multi-byte UTF-8 split between chunks decodes; invalid UTF-8 is flagged', async t => {
  const bytes = Buffer.from('{"t":"héllo wörld €"}\n', 'utf8')
  const got = await lines([bytes.subarray(0, 8), bytes.subarray(8, 9), bytes.subarray(9)])
  t.equal(got[0]?.text, '{"t":"héllo wörld €"}')
  const bad = await lines([Buffer.from([0x7b, 0xff, 0x7d, 0x0a])])
  t.same(bad, [{ number: 1, bytes: 3, invalidUtf8: true, invalidAt: 1 }], 'flagged at the offset of the bad byte')
})

t.test('a line over the limit is reported with its size, never held, and the next line is fine', async t => {
  const long = 'x'.repeat(5000)
  const got = await lines([long.slice(0, 2000), long.slice(2000), '\nok\n'], 100)
  t.same(got, [{ number: 1, bytes: 5000, tooLong: true }, { number: 2, text: 'ok', bytes: 2 }])
  const exact = await lines(['y'.repeat(100) + '\r\n'], 100)
  t.equal(exact[0]?.text?.length, 100, 'the limit excludes the \\r of a CRLF')
})
