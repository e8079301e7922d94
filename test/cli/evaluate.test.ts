import { join } from 'node:path'
import t from 'tap'
import { evaluateCommand } from '../../src/cli/evaluate.js'
import { jsonl, sink, type Run } from '../helpers/cli.js'

/** Runs the command, capturing stdout/stderr as strings. */
async function run (argv: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await evaluateCommand(argv, sink((s) => (stdout += s)), sink((s) => (stderr += s)))
  return { code, stdout, stderr }
}

t.test('prints a score table; JSON with --json', async (t) => {
  const dir = t.testdir({
    'p.jsonl': jsonl([{ id: 1, text: 'the cat sat' }, { id: 'x', text: 'stray' }]) + '\n\n',
    'r.jsonl': '\n' + jsonl([{ id: '1', text: 'the cat sat on the mat' }, { id: 2, text: 'dogs bark' }])
  })
  const args = ['--predictions', join(dir, 'p.jsonl'), '--references', join(dir, 'r.jsonl')]

  const table = await run([...args, '--rouge-types', 'rouge1,rougeL'])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /references 2 {2}missing 1 {2}unmatched 1 {2}stemmer off/)
  // rouge1 on record 1: p=1, r=0.5, f=2/3; record 2 scores 0 -> means 0.5, 0.25, 0.3333
  t.match(table.stdout, /rouge1\s+0\.5000\s+0\.2500\s+0\.3333/)
  t.match(table.stdout, /rougeL\s+0\.5000\s+0\.2500\s+0\.3333/)
  t.notMatch(table.stdout, /rouge2/)
  t.match(table.stdout, /missing: 2/)
  t.match(table.stdout, /unmatched: x/)

  const json = await run([...args, '--json', '--per-record', '--use-stemmer', '--bootstrap', '50', '--seed', '1'])
  t.equal(json.code, 0, json.stderr)
  const result = JSON.parse(json.stdout) as {
    count: number
    missing: unknown[]
    unmatched: unknown[]
    scores: Record<string, { fmeasure: number; low?: { fmeasure: number }; high?: { fmeasure: number } }>
    records: Array<{ id: unknown }>
  }
  t.equal(result.count, 2)
  t.same(result.missing, [2])
  t.same(result.unmatched, ['x'])
  t.same(Object.keys(result.scores), ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'])
  t.same(result.records.map((r) => r.id), ['1', 2])
  t.ok(result.scores.rouge1.low !== undefined && result.scores.rouge1.high !== undefined, 'bootstrap bounds present')
})

t.test('table with --per-record and --bootstrap shows records and the interval', async (t) => {
  const dir = t.testdir({
    'p.jsonl': jsonl([{ id: 'a', text: 'one two three' }, { id: 'b', text: 'four five' }]),
    'r.jsonl': jsonl([{ id: 'a', text: 'one two three' }, { id: 'b', text: 'six' }])
  })
  const res = await run(['--predictions', join(dir, 'p.jsonl'), '--references', join(dir, 'r.jsonl'), '--per-record', '--bootstrap', '100', '--rouge-types', 'rouge1'])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /fmeasure 95% CI/)
  t.match(res.stdout, /rouge1\s+0\.5000\s+0\.5000\s+0\.5000\s+\[0\.\d{4}, 1\.0000\]/)
  t.match(res.stdout, /\na\s+1\.0000\n/)
  t.match(res.stdout, /\nb\s+0\.0000\n/)
})

t.test('a bad line is one error naming file:line, exit 2', async (t) => {
  const dir = t.testdir({
    'p.jsonl': jsonl([{ id: 1, text: 'fine' }]) + '{"id": 2, "text": \n',
    'q.jsonl': jsonl([{ id: 1, text: 'fine' }, { id: 2, text: 7 }]),
    'r.jsonl': jsonl([{ id: 1, text: 'fine' }]),
    'dup.jsonl': jsonl([{ id: 1, text: 'a' }]) + '\n' + jsonl([{ id: '1', text: 'b' }])
  })
  const refs = ['--references', join(dir, 'r.jsonl')]

  const badJson = await run(['--predictions', join(dir, 'p.jsonl'), ...refs])
  t.equal(badJson.code, 2)
  t.match(badJson.stderr, new RegExp(`^error: ${join(dir, 'p.jsonl')}:2: invalid JSON`))
  t.equal(badJson.stderr.trim().split('\n').length, 1, 'one line')
  t.equal(badJson.stdout, '')

  const badText = await run(['--predictions', join(dir, 'q.jsonl'), ...refs])
  t.equal(badText.code, 2)
  t.match(badText.stderr, /q\.jsonl:2: expected \{"id": string\|number, "text": string\}/)

  const dup = await run(['--predictions', join(dir, 'dup.jsonl'), ...refs])
  t.equal(dup.code, 2)
  t.match(dup.stderr, /dup\.jsonl:3: predictions\[1\]\.id "1" is duplicated/)
})

t.test('usage errors exit 2', async (t) => {
  const dir = t.testdir({ 'r.jsonl': jsonl([{ id: 1, text: 'a b c' }]) })
  const r = join(dir, 'r.jsonl')
  t.match(await run([]), { code: 2, stderr: /--predictions and --references are required/ })
  t.match(await run(['--predictions', r, '--references', r, '--bogus']), { code: 2, stderr: /Unknown option '--bogus'/ })
  t.match(await run(['--predictions', r, '--references', r, '--bootstrap', 'many']), { code: 2, stderr: /--bootstrap must be a positive integer, got "many"/ })
  t.match(await run(['--predictions', join(dir, 'nope.jsonl'), '--references', r]), { code: 2, stderr: /cannot read .*nope\.jsonl/ })
  t.match(await run(['--predictions', r, '--references', r, '--rouge-types', 'rouge1,bleu']), { code: 2, stderr: /rougeTypes\[1\] "bleu" is not a ROUGE type/ })
  t.match(await run(['--predictions', r, '--references', r, '--max-tokens', '2']), { code: 2, stderr: /r\.jsonl:1: references\[0\]\.text id "1" has 3 tokens; the limit is 2/ })
  t.match(await run(['--help']), { code: 0, stdout: /usage: text2text-gateway evaluate/ })
})
