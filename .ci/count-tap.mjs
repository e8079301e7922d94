// Reads TAP (tap's `tap` reporter) on stdin, echoes it, and prints one closing line:
// "N passed, M failed, K skipped", counting leaf test points (assertions and
// subtests without children) at every level. Exit code 1 when anything failed.
//
// The input may hold several runs (stages), each opened by a line `# ci-stage: <name>` and
// closed by `# ci-stage-exit: <exit code>`. Each stage is judged on its own: a stage that
// counted nothing (its runner never started, e.g. the typecheck before it failed), or that
// exited non-zero with no failing point (a crash, a failed lint), counts as one failure. A
// `# <name>: ...` line per stage comes before the closing line, which totals them all.
//
// Before those lines, every failing point is named again with the subtests it sits in and the
// start of its diagnostic (`# FAILED [stage] file > test > assertion`): the end of a long run is
// what a CI page shows, and a failure 30 minutes up the log is otherwise lost.
import { createInterface } from 'node:readline'

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
const point = /^(\s*)(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b)?/i
const stageStart = /^# ci-stage: (.*)$/
const stageExit = /^# ci-stage-exit: (-?\d+)\s*$/
const subtest = /^(\s*)# Subtest: (.*)$/
// what is kept of each failure: its diagnostic's first lines, and the first failures
const DIAGNOSTIC_LINES = 12
const FAILURES_SHOWN = 20

const newStage = (name) => ({ name, passed: 0, failed: 0, skipped: 0, failedParents: 0, prevIndent: -1, exit: undefined, path: [], failures: [] })
const stages = []
let stage
// the failure whose diagnostic (an indented YAML block, `---` to `...`) is being read
let reading

for await (const line of rl) {
  process.stdout.write(line + '\n')
  const start = stageStart.exec(line)
  if (start !== null) { stage = newStage(start[1]); stages.push(stage); continue }
  if (stage === undefined) { stage = newStage('tap'); stages.push(stage) }
  const exit = stageExit.exec(line)
  if (exit !== null) { stage.exit = Number(exit[1]); continue }
  if (reading !== undefined) {
    const text = line.trim()
    if (!reading.open && text === '---') { reading.open = true; reading.indent = line.indexOf('-'); continue }
    if (reading.open && text !== '...') {
      if (reading.diagnostic.length < DIAGNOSTIC_LINES) reading.diagnostic.push(line.slice(reading.indent).trimEnd())
      continue
    }
    const closing = reading.open
    reading = undefined
    if (closing) continue
  }
  const sub = subtest.exec(line)
  if (sub !== null) {
    const indent = sub[1].length
    stage.path = stage.path.filter(p => p.indent < indent)
    stage.path.push({ indent, name: sub[2] })
    continue
  }
  const m = point.exec(line)
  if (m === null) continue
  const indent = m[1].length
  // a point whose previous point was deeper is a parent summarising its children
  const isParent = stage.prevIndent > indent
  stage.prevIndent = indent
  const failing = m[2] === 'not ok' && !m[3]
  // a parent's own `# Subtest:` line sits at its indent: it is closed now
  stage.path = stage.path.filter(p => p.indent < indent)
  const where = stage.path.map(p => p.name)
  if (isParent) {
    if (failing) {
      stage.failedParents++
      stage.failures.push({ parent: true, where, text: line.trim(), diagnostic: [] })
    }
    continue
  }
  if (m[3]) stage.skipped++
  else if (m[2] === 'ok') stage.passed++
  else {
    stage.failed++
    reading = { parent: false, where, text: line.trim(), diagnostic: [], open: false }
    stage.failures.push(reading)
  }
}
if (stages.length === 0) stages.push(newStage('tap'))

// the failures named again: a leaf's, or where a file failed with none (a crash, a timeout) its own
const failures = stages.flatMap(s => {
  const leaves = s.failures.filter(f => !f.parent)
  return (leaves.length > 0 ? leaves : s.failures).map(f => ({ ...f, stage: s.name }))
})
if (failures.length > 0) {
  console.log(`# ${failures.length} failing point${failures.length === 1 ? '' : 's'}:`)
  for (const f of failures.slice(0, FAILURES_SHOWN)) {
    console.log(`# FAILED [${f.stage}] ${[...f.where, f.text.replace(/^not ok \d+ - /, '')].join(' > ')}`)
    for (const d of f.diagnostic) console.log(`#     ${d}`)
  }
  if (failures.length > FAILURES_SHOWN) console.log(`# ... and ${failures.length - FAILURES_SHOWN} more (see above)`)
}

let passed = 0; let failed = 0; let skipped = 0
for (const s of stages) {
  // a failing file with no failing leaf (crash, timeout) still counts as one failure
  if (s.failed === 0 && s.failedParents > 0) s.failed = s.failedParents
  // nothing counted at all: the runner never started; or it failed with nothing to show for it
  if (s.passed + s.failed + s.skipped === 0 || (s.failed === 0 && s.exit !== undefined && s.exit !== 0)) s.failed++
  if (stages.length > 1) console.log(`# ${s.name}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${s.exit === undefined ? '' : ` (exit ${s.exit})`}`)
  passed += s.passed; failed += s.failed; skipped += s.skipped
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
