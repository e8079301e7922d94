import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { listeningApp } from '../helpers/local-app.js'

const ROOT = resolve(import.meta.dirname, '../..')
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly')
const CONFIG = join(ROOT, 'redocly.yaml')

interface Problem { ruleId: string, severity: 'error' | 'warn', message: string, location: Array<{ pointer: string }> }
interface LintReport { totals: { errors: number, warnings: number }, problems: Problem[] }

/**
 * Runs `redocly lint` on a document file with the project's ruleset. Offline: telemetry is off
 * (here and in redocly.yaml) and the update check is suppressed, so it opens no connection.
 */
async function lint (file: string): Promise<{ exitCode: number, report: LintReport, stderr: string }> {
  return await new Promise((resolve, reject) => {
    execFile(REDOCLY, ['lint', '--config', CONFIG, '--format', 'json', file], {
      cwd: ROOT,
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
    }, (err, stdout, stderr) => {
      const exitCode = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      if (exitCode === -1) { reject(err ?? new Error('redocly did not run')); return }
      try {
        resolve({ exitCode, report: JSON.parse(stdout) as LintReport, stderr })
      } catch (parseError) {
        reject(new Error(`redocly printed no JSON report (exit ${exitCode}): ${stderr}`, { cause: parseError }))
      }
    })
  })
}

const show = (problems: Problem[]): string => problems.map(p => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`).join('\n')

t.test('the served OpenAPI document passes redocly lint with no errors or warnings', async t => {
  const { url } = await listeningApp(t)
  const res = await fetch(`${url}/docs/json`)
  t.equal(res.status, 200)
  const dir = await mkdtemp(join(tmpdir(), 't2t-openapi-lint-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'openapi.json')
  await writeFile(file, await res.text())

  const { exitCode, report } = await lint(file)
  t.equal(report.totals.errors, 0, `no lint errors\n${show(report.problems)}`)
  t.equal(report.totals.warnings, 0, `no lint warnings (fix the document, or turn the rule off in redocly.yaml with a reason)\n${show(report.problems)}`)
  t.equal(exitCode, 0, 'redocly exits 0')
})

t.test('the ruleset catches what matters to clients (the lint can fail)', async t => {
  const { url } = await listeningApp(t)
  const doc = await (await fetch(`${url}/docs/json`)).json() as {
    paths: Record<string, Record<string, { description?: string, responses: Record<string, { headers?: Record<string, unknown>, content?: Record<string, { example?: unknown }> }> }>>
  }
  const summarize = doc.paths['/v1/summarize']?.post
  if (summarize === undefined) throw new Error('no POST /v1/summarize in the document')
  // a 429 without Retry-After, a response example that does not match its schema, no description
  delete summarize.responses['429']?.headers
  const ok = summarize.responses['200']?.content?.['application/json']
  if (ok !== undefined) ok.example = { summary: 1 }
  delete summarize.description

  const dir = await mkdtemp(join(tmpdir(), 't2t-openapi-lint-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'broken.json')
  await writeFile(file, JSON.stringify(doc, null, 2))

  const { exitCode, report } = await lint(file)
  t.not(exitCode, 0, 'redocly exits non-zero')
  const rules = new Set(report.problems.filter(p => p.severity === 'error').map(p => p.ruleId))
  for (const rule of ['response-contains-header', 'no-invalid-media-type-examples', 'operation-description']) {
    t.ok(rules.has(rule), `${rule} is reported`)
  }
})
