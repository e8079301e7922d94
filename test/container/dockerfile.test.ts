import t from 'tap'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

// The image's properties as the Dockerfile states them, checked everywhere in `npm test`; the
// image itself is built and run by image.test.ts (podman, in .ci/run).
const root = new URL('../../', import.meta.url)
const text = await readFile(new URL('Dockerfile', root), 'utf8')
// one instruction per entry, continuation lines joined, comments dropped
const instructions = text.replace(/\\\n/g, ' ').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
const stages: string[][] = []
for (const line of instructions) {
  if (/^FROM\s/i.test(line)) stages.push([])
  stages[stages.length - 1]?.push(line)
}
const final = stages[stages.length - 1] ?? []
const find = (lines: string[], op: string): string[] => lines.filter(l => new RegExp(`^${op}\\s`, 'i').test(l))

t.test('multi-stage, production dependencies only in the final image', async t => {
  t.ok(stages.length >= 2, `${stages.length} stages`)
  const all = instructions.join('\n')
  t.match(all, /npm ci --omit=dev/, 'production install with npm ci --omit=dev')
  t.notMatch(final.join('\n'), /npm (ci|install)(?![^\n]*--omit=dev)/, 'the final stage installs nothing with dev dependencies')
  t.notOk(find(final, 'COPY').some(l => /\btest\b|\bbench\b[^/]/.test(l) && !/--from/.test(l)), 'no tests copied into the final image')
})

t.test('runs as a non-root user, with a health check and SIGTERM reaching node', async t => {
  const users = find(final, 'USER')
  t.ok(users.length > 0 && !/\broot\b|\b0\b/.test(users[users.length - 1] ?? ''), `USER ${users.join(', ')}`)
  const health = find(final, 'HEALTHCHECK')
  t.equal(health.length, 1)
  t.match(health[0], /\/health/)
  const entry = find(final, 'ENTRYPOINT').concat(find(final, 'CMD'))
  t.ok(entry.length > 0)
  const last = entry[entry.length - 1] ?? ''
  t.match(last, /^(ENTRYPOINT|CMD)\s+\[\s*"node"/, 'exec form with node first: no shell between docker and node')
  t.match(text, /EXPOSE\s+3000/)
})

t.test('every path the Dockerfile copies from the build context exists', async t => {
  for (const line of find(instructions, 'COPY').filter(l => !/--from/.test(l))) {
    const parts = line.replace(/--\S+/g, '').split(/\s+/).slice(1)
    for (const src of parts.slice(0, -1)) t.ok(existsSync(new URL(src, root)), `${src} exists`)
  }
  const ignore = await readFile(new URL('.dockerignore', root), 'utf8')
  t.match(ignore, /^node_modules$/m, '.dockerignore keeps node_modules out of the context')
})

t.test('Node.js 22, no Docker Hub frontend, code owned by root', async t => {
  for (const stage of stages) t.match(stage[0], /^FROM\s+node:22-bookworm-slim\b/i, stage[0])
  t.notMatch(text, /^#\s*syntax=/im, 'no `# syntax=` line: BuildKit would pull its frontend from Docker Hub')
  t.same(find(final, 'COPY').filter(l => /--chown/.test(l)), [], 'the final stage copies code as root (no --chown): read-only to the user that runs it')
  t.notOk(find(instructions, 'COPY').some(l => /\bbench\b/.test(l)), 'benchmarks are neither built nor shipped')
})
