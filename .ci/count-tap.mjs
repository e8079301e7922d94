// Reads TAP (tap's `tap` reporter) on stdin, echoes it, and prints one closing line:
// "N passed, M failed, K skipped", counting leaf test points (assertions and
// subtests without children) at every level. Exit code 1 when anything failed.
import { createInterface } from 'node:readline'

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
let passed = 0; let failed = 0; let skipped = 0; let failedParents = 0
let prevIndent = -1
const point = /^(\s*)(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b)?/i
for await (const line of rl) {
  process.stdout.write(line + '\n')
  const m = point.exec(line)
  if (m === null) continue
  const indent = m[1].length
  // a point whose previous point was deeper is a parent summarising its children
  const isParent = prevIndent > indent
  prevIndent = indent
  if (isParent) {
    if (m[2] === 'not ok' && !m[3]) failedParents++
    continue
  }
  if (m[3]) skipped++
  else if (m[2] === 'ok') passed++
  else failed++
}
// a failing file with no failing leaf (crash, timeout) still counts as one failure
if (failed === 0 && failedParents > 0) failed = failedParents
// nothing counted at all: the runner never started (e.g. the typecheck before it failed)
if (passed + failed + skipped === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
