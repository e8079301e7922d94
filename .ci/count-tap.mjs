// Reads TAP (tap's `tap` reporter) on stdin, echoes it, and prints one closing line:
// "N passed, M failed, K skipped", counting leaf test points (assertions and
// subtests without children) at every level. Exit code 1 when anything failed.
//
// The input may hold several runs (stages), each opened by a line `# ci-stage: <name>` and
// closed by `# ci-stage-exit: <exit code>`. Each stage is judged on its own: a stage that
// counted nothing (its runner never started, e.g. the typecheck before it failed), or that
// exited non-zero with no failing point (a crash, a failed lint), counts as one failure. A
// `# <name>: ...` line per stage comes before the closing line, which totals them all.
import { createInterface } from 'node:readline'

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
const point = /^(\s*)(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b)?/i
const stageStart = /^# ci-stage: (.*)$/
const stageExit = /^# ci-stage-exit: (-?\d+)\s*$/

const newStage = (name) => ({ name, passed: 0, failed: 0, skipped: 0, failedParents: 0, prevIndent: -1, exit: undefined })
const stages = []
let stage

for await (const line of rl) {
  process.stdout.write(line + '\n')
  const start = stageStart.exec(line)
  if (start !== null) { stage = newStage(start[1]); stages.push(stage); continue }
  if (stage === undefined) { stage = newStage('tap'); stages.push(stage) }
  const exit = stageExit.exec(line)
  if (exit !== null) { stage.exit = Number(exit[1]); continue }
  const m = point.exec(line)
  if (m === null) continue
  const indent = m[1].length
  // a point whose previous point was deeper is a parent summarising its children
  const isParent = stage.prevIndent > indent
  stage.prevIndent = indent
  if (isParent) {
    if (m[2] === 'not ok' && !m[3]) stage.failedParents++
    continue
  }
  if (m[3]) stage.skipped++
  else if (m[2] === 'ok') stage.passed++
  else stage.failed++
}
if (stages.length === 0) stages.push(newStage('tap'))

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
