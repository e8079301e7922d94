import t from 'tap'
import {
  joinResults, outputCandidates, parseInputLine, parseOutputLine,
  type InputRecord, type JoinLimits, type JoinStats, type OutputRecord, type ResultLine
} from '../../src/jobs/results.js'

async function * from<T> (items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item
}

const missing = (): { code: string, message: string } => ({ code: 'NO_OUTPUT', message: 'none' })

async function join (inputs: Array<string | number>, outputs: OutputRecord[], limits: JoinLimits = { windowRecords: 1000, windowBytes: 1 << 30 }): Promise<{ lines: ResultLine[], stats: JoinStats, pulled: number }> {
  const stats: JoinStats = { records: 0, missing: 0, stray: 0, reordered: 0 }
  let pulled = 0
  async function * counted (): AsyncGenerator<OutputRecord> {
    for (const o of outputs) { pulled++; yield o }
  }
  const lines: ResultLine[] = []
  for await (const line of joinResults(from(inputs.map((id): InputRecord => ({ id }))), counted(), missing, limits, stats)) lines.push(line)
  return { lines, stats, pulled }
}

const out = (id: string | number | undefined, text: string): OutputRecord => ({ ...(id !== undefined ? { id } : {}), texts: [text], bytes: 10 })

t.test('output lines parse as JSON or as Python-literal dicts', async t => {
  t.same(parseOutputLine('{"id": "a", "generated_texts": ["x", "y"]}', 1, 'f.out'), { id: 'a', texts: ['x', 'y'], bytes: 42 })
  t.same(parseOutputLine("{'id': 7, 'generated_texts': ['it\\'s \"quoted\"']}", 1, 'f.out').texts, ['it\'s "quoted"'])
  t.equal(parseOutputLine("{'id': 7, 'generated_texts': ['x']}", 1, 'f.out').id, 7)
  t.same(parseOutputLine('{"id": 1, "generated_text": "one"}', 1, 'f.out').texts, ['one'], 'a single generated_text')
  t.same(parseOutputLine('{"id": 1, "generated_texts": [{"generated_text": "a"}, {"generated_text": "b"}]}', 1, 'f.out').texts, ['a', 'b'], 'a list of objects')
  t.same(parseOutputLine('{"generated_texts": ["no id"]}', 1, 'f.out'), { id: undefined, texts: ['no id'], bytes: 30 })
  const bad = parseOutputLine('not a literal', 4, 'f.out')
  t.same(bad.error, { code: 'INVALID_OUTPUT', message: 'f.out line 4 is neither JSON nor a Python literal' })
  t.match(parseOutputLine('[1, 2]', 2, 'f.out').error?.message, /is not an object/)
  t.match(parseOutputLine('{"id": 3, "generated_texts": [1]}', 2, 'f.out'), { id: 3, error: { code: 'INVALID_OUTPUT' } })
})

t.test('input lines give their id, or their position when they have none', async t => {
  t.same(parseInputLine('{"id": "x", "text_inputs": "t"}', 5, 'in.jsonl', 6), { id: 'x' })
  t.same(parseInputLine('{"text_inputs": "t"}', 5, 'in.jsonl', 6), { id: 5 })
  t.same(parseInputLine('{oops', 5, 'in.jsonl', 6), { id: 5, error: { code: 'INVALID_INPUT', message: 'in.jsonl line 6 is not JSON' } })
})

t.test('in step: a zip, one output read per input', async t => {
  const ids = Array.from({ length: 50 }, (_, i) => `r${i}`)
  const { lines, stats, pulled } = await join(ids, ids.map(id => out(id, `text of ${id}`)))
  t.same(lines, ids.map(id => ({ id, generated_texts: [`text of ${id}`] })))
  t.equal(pulled, 50)
  t.same(stats, { records: 50, missing: 0, stray: 0, reordered: 0 })
})

t.test('ids compare as strings: input 7 matches output "7" and keeps the input\'s id', async t => {
  const { lines } = await join([7, '8'], [out('7', 'a'), out(8, 'b')])
  t.same(lines, [{ id: 7, generated_texts: ['a'] }, { id: '8', generated_texts: ['b'] }])
})

t.test('records without output are reported in place; the rest still match', async t => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f']
  const { lines, stats } = await join(ids, [out('a', 'A'), out('c', 'C'), out('f', 'F')])
  t.same(lines, [
    { id: 'a', generated_texts: ['A'] },
    { id: 'b', error: { code: 'NO_OUTPUT', message: 'none' } },
    { id: 'c', generated_texts: ['C'] },
    { id: 'd', error: { code: 'NO_OUTPUT', message: 'none' } },
    { id: 'e', error: { code: 'NO_OUTPUT', message: 'none' } },
    { id: 'f', generated_texts: ['F'] }
  ])
  t.equal(stats.missing, 3)
  t.equal(stats.stray, 0)
})

t.test('a failed job: output stops early, every later record is missing', async t => {
  const ids = Array.from({ length: 10 }, (_, i) => i)
  const { lines } = await join(ids, ids.slice(0, 4).map(i => out(i, `t${i}`)))
  t.same(lines.map(l => 'error' in l ? 'missing' : l.generated_texts[0]), ['t0', 't1', 't2', 't3', 'missing', 'missing', 'missing', 'missing', 'missing', 'missing'])
})

t.test('out-of-order lines are matched through the look-ahead', async t => {
  const { lines, stats } = await join(['a', 'b', 'c', 'd'], [out('b', 'B'), out('d', 'D'), out('a', 'A'), out('c', 'C')])
  t.same(lines, [
    { id: 'a', generated_texts: ['A'] },
    { id: 'b', generated_texts: ['B'] },
    { id: 'c', generated_texts: ['C'] },
    { id: 'd', generated_texts: ['D'] }
  ])
  t.equal(stats.reordered, 2)
  t.equal(stats.missing, 0)
})

t.test('stray and duplicate output lines are counted, never emitted', async t => {
  const { lines, stats } = await join(['a', 'b'], [out('a', 'A'), out('zzz', 'Z'), out('b', 'B'), out('b', 'B2')])
  t.same(lines, [{ id: 'a', generated_texts: ['A'] }, { id: 'b', generated_texts: ['B'] }])
  t.equal(stats.stray, 2)
})

t.test('output lines without an id are taken in place', async t => {
  const { lines } = await join(['a', 'b'], [out(undefined, 'A'), out(undefined, 'B')])
  t.same(lines, [{ id: 'a', generated_texts: ['A'] }, { id: 'b', generated_texts: ['B'] }])
})

t.test('an unreadable output line becomes that record\'s error', async t => {
  const { lines } = await join(['a', 'b'], [parseOutputLine('garbage', 1, 'x.out'), out('b', 'B')])
  t.same(lines[0], { id: 'a', error: { code: 'INVALID_OUTPUT', message: 'x.out line 1 is neither JSON nor a Python literal' } })
  t.same(lines[1], { id: 'b', generated_texts: ['B'] })
})

t.test('sparse output is matched exactly with a small window', async t => {
  // 10,000 inputs, output only for every 50th; a window of 8 lines finds them all, since
  // the oldest held line is always the next one needed (gaps stay under stuckAfter = 80)
  const ids = Array.from({ length: 10_000 }, (_, i) => i)
  const outputs = ids.filter(i => i % 50 === 0).map(i => out(i, `t${i}`))
  const { lines, stats, pulled } = await join(ids, outputs, { windowRecords: 8, windowBytes: 1 << 30 })
  t.equal(lines.length, 10_000)
  t.same(lines.filter(l => 'generated_texts' in l).map(l => l.id), ids.filter(i => i % 50 === 0))
  t.equal(stats.missing, 9_800)
  t.equal(pulled, 200)
})

t.test('the window bounds what is held: a missing record reads at most windowRecords lines ahead', async t => {
  const ids = Array.from({ length: 1000 }, (_, i) => i)
  const outputs = ids.slice(1).map(i => out(i, `t${i}`))
  const seen: number[] = []
  let pulled = 0
  async function * watched (): AsyncGenerator<OutputRecord> {
    for (const o of outputs) { pulled++; yield o }
  }
  const limits = { windowRecords: 16, windowBytes: 1 << 30 }
  for await (const line of joinResults(from(ids.map(id => ({ id }))), watched(), missing, limits)) {
    seen.push(pulled - (line.id as number))
  }
  t.ok(Math.max(...seen) <= limits.windowRecords, `read at most ${Math.max(...seen)} lines ahead of the input`)
})

t.test('the byte budget bounds the window too', async t => {
  const ids = Array.from({ length: 100 }, (_, i) => i)
  // record 0 has no output; lines are 10 bytes against a 30-byte budget, so only 3 are held,
  // and the in-step zip carries on from there
  const { lines, stats } = await join(ids, ids.slice(1).map(i => out(i, `t${i}`)), { windowRecords: 1000, windowBytes: 30 })
  t.same(lines[0], { id: 0, error: { code: 'NO_OUTPUT', message: 'none' } })
  t.equal(lines.filter(l => 'generated_texts' in l).length, 99)
  t.equal(stats.missing, 1)
})

t.test('a line displaced beyond the window is reported missing (and counted stray)', async t => {
  const ids = Array.from({ length: 20 }, (_, i) => i)
  // record 0's line comes last, 19 lines late; window 4
  const outputs = [...ids.slice(1).map(i => out(i, `t${i}`)), out(0, 't0')]
  const { lines, stats } = await join(ids, outputs, { windowRecords: 4, windowBytes: 1 << 30 })
  t.same(lines[0], { id: 0, error: { code: 'NO_OUTPUT', message: 'none' } })
  t.same(lines.slice(1).map(l => 'generated_texts' in l ? l.generated_texts[0] : 'missing'), ids.slice(1).map(i => `t${i}`))
  t.equal(stats.stray, 1, 'the late line matched nothing')
})

t.test('lines with foreign ids that fill the window are dropped and the join re-synchronises', async t => {
  const ids = Array.from({ length: 200 }, (_, i) => `r${i}`)
  const outputs = [...Array.from({ length: 6 }, (_, i) => out(`junk${i}`, 'x')), ...ids.map(id => out(id, id))]
  const { lines, stats } = await join(ids, outputs, { windowRecords: 4, windowBytes: 1 << 30, stuckAfter: 8 })
  t.same(lines.slice(-150).map(l => 'generated_texts' in l ? l.generated_texts[0] : 'missing'), ids.slice(-150), 'in step again')
  t.ok(stats.stray >= 6)
})

t.test('output object candidates: relative path, basename, path from the prefix folder', async t => {
  t.same(outputCandidates('p/d/x.jsonl', 'p/d/x.jsonl', 'p/out'), ['p/out/x.jsonl.out'])
  t.same(outputCandidates('p/d/', 'p/d/sub/x.jsonl', 'p/out/'), ['p/out/sub/x.jsonl.out', 'p/out/x.jsonl.out'])
  t.same(outputCandidates('p/d', 'p/d/x.jsonl', 'p/out'), ['p/out/x.jsonl.out', 'p/out/d/x.jsonl.out'])
})

t.test('property: any subsequence of the input, locally shuffled, is joined exactly', async t => {
  const fc = await import('fast-check')
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 300 }),
    fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
    fc.array(fc.integer({ min: 0, max: 299 }), { maxLength: 30 }),
    async (n, keep, swaps) => {
      const ids = Array.from({ length: n }, (_, i) => i)
      const present = ids.filter(i => keep[i] === true)
      const outputs = present.map(i => out(i, `t${i}`))
      // swap neighbours a few places apart: displacement stays well inside the window
      for (const s of swaps) {
        const a = s % Math.max(1, outputs.length)
        const b = Math.min(outputs.length - 1, a + 3)
        if (b > a) [outputs[a], outputs[b]] = [outputs[b] as OutputRecord, outputs[a] as OutputRecord]
      }
      const { lines } = await join(ids, outputs, { windowRecords: 64, windowBytes: 1 << 30 })
      if (lines.length !== n) return false
      return lines.every((l, i) => l.id === i && (keep[i] === true ? 'generated_texts' in l && l.generated_texts[0] === `t${i}` : 'error' in l))
    }
  ), { numRuns: 200 })
  t.pass('held for 200 runs')
})
