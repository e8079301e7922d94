// .ci/count-tap.mjs: CI's judge of the TAP of its stages. A CI page shows the end of a run, so the
// failures are named again at the end, with the subtests they sit in and their diagnostic's start
// (a failure half an hour up a 30,000-line log was otherwise not to be found from the page).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../../.ci/count-tap.mjs', import.meta.url))

function judge (tap: string[]): { lines: string[], status: number | null } {
  const run = spawnSync(process.execPath, [script], { input: tap.join('\n') + '\n', encoding: 'utf8' })
  return { lines: run.stdout.trimEnd().split('\n'), status: run.status }
}

const failingRun = [
  '# ci-stage: Node.js 20: npm test',
  'TAP version 14',
  '# Subtest: test/a.test.ts',
  '    # Subtest: adds',
  '        ok 1 - one and one',
  '        not ok 2 - two and two',
  '          ---',
  '          found: 5',
  '          wanted: 4',
  '          at:',
  '            fileName: test/a.test.ts',
  '          ...',
  '        1..2',
  '    not ok 1 - adds # time=3ms',
  '    1..1',
  'not ok 1 - test/a.test.ts # time=5ms',
  '# Subtest: test/b.test.ts',
  '    ok 1 - b # SKIP no redis',
  '    1..1',
  'ok 2 - test/b.test.ts',
  '1..2',
  '# ci-stage-exit: 1',
  '# ci-stage: container',
  '# Subtest: test/container/image.test.ts',
  '    ok 1 - built',
  'not ok 1 - test/container/image.test.ts # timeout!',
  '# ci-stage-exit: 1'
]

t.test('every failure is named again at the end: where it sits, and what its diagnostic says', async t => {
  const { lines, status } = judge(failingRun)
  t.equal(status, 1)
  t.same(lines.slice(-10), [
    '# 2 failing points:',
    '# FAILED [Node.js 20: npm test] test/a.test.ts > adds > two and two',
    '#     found: 5',
    '#     wanted: 4',
    '#     at:',
    '#       fileName: test/a.test.ts',
    // a file that failed with no failing assertion (a crash, a timeout) is named itself
    '# FAILED [container] test/container/image.test.ts # timeout!',
    '# Node.js 20: npm test: 1 passed, 1 failed, 1 skipped (exit 1)',
    '# container: 1 passed, 1 failed, 0 skipped (exit 1)',
    '2 passed, 2 failed, 1 skipped'
  ])
  // the input is echoed whole before the judgement
  t.same(lines.slice(0, failingRun.length), failingRun)
})

t.test('a diagnostic is cut after 12 lines, and a run with no failure names none', async t => {
  const long = ['not ok 1 - long', '  ---', ...Array.from({ length: 30 }, (_, i) => `  line${i}: ${i}`), '  ...', '1..1']
  const { lines } = judge(long)
  const named = lines.indexOf('# FAILED [tap] long')
  t.ok(named > 0)
  t.same(lines.slice(named + 1, named + 14), [...Array.from({ length: 12 }, (_, i) => `#     line${i}: ${i}`), '0 passed, 1 failed, 0 skipped'])
  const passing = judge(['ok 1 - fine', '1..1'])
  t.equal(passing.status, 0)
  t.same(passing.lines.filter(l => l.startsWith('# FAILED') || l.includes('failing point')), [])
})
