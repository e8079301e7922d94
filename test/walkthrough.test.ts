import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { spawnGateway } from './helpers/process.js'

const root = fileURLToPath(new URL('../', import.meta.url))
const data = fileURLToPath(new URL('../../shared/data/cnn_dailymail/test-cased-250.jsonl', import.meta.url))

/** The bash blocks between the walkthrough markers of README.md, in order. */
export async function walkthroughBlocks (): Promise<string[]> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('<!-- walkthrough:start -->')
  const end = readme.indexOf('<!-- walkthrough:end -->')
  if (start < 0 || end < start) throw new Error('README.md has no walkthrough markers')
  return [...readme.slice(start, end).matchAll(/```bash\n([\s\S]*?)```/g)].map(m => m[1] as string)
}

const missing = !existsSync(data)
  ? `${data} is absent (the walkthrough reads the shared CNN/DailyMail sample)`
  : spawnSync('jq', ['--version']).status !== 0
    ? 'jq is not installed (apt-get install jq)'
    : !existsSync(new URL('../dist/src/cli/main.js', import.meta.url))
        ? 'the CLI is not built (npm run build)'
        : undefined

t.test('the README walkthrough runs as written against a fresh gateway', { skip: missing, timeout: 300_000 }, async t => {
  const blocks = await walkthroughBlocks()
  t.ok(blocks.length >= 8, `${blocks.length} blocks`)
  // endpoints the walkthrough deploys come up in half a second (3 s by default)
  const gw = await spawnGateway({ LOCAL_ENDPOINT_TRANSITION_MS: 500 })
  t.teardown(async () => {
    await gw.stop()
    await rm(new URL('../walkthrough/', import.meta.url), { recursive: true, force: true })
  })
  // the README's curl lines as written, except that an HTTP error fails the step here
  const strictCurl = 'curl () { command curl --fail-with-body "$@"; }'
  const script = ['set -euo pipefail', strictCurl, ...blocks].join('\n')
  const result = await new Promise<{ code: number | null, out: string, err: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: root, env: { ...process.env, URL: gw.url } })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    child.on('close', code => { resolve({ code, out, err }) })
  })
  t.equal(result.code, 0, `the walkthrough exits 0\n${result.err.slice(-2000)}`)
  t.match(result.out, /"s3Uri":"s3:\/\//, 'datasets uploaded')
  t.match(result.out, /"status": "Completed"/, 'the curl job completed')
  t.match(result.out, /rougeLsum/, 'evaluation printed')
  t.match(result.out, /"name":"flan-walkthrough","status":"Deleting","usage":\{"instanceType":"ml\.g5\.2xlarge"/, 'the walkthrough\'s endpoint deleted, with its usage')
  const results = (await readFile(new URL('../walkthrough/results.ndjson', import.meta.url), 'utf8')).trim().split('\n')
  const cli = (await readFile(new URL('../walkthrough/results-cli.ndjson', import.meta.url), 'utf8')).trim().split('\n')
  t.equal(results.length, 250, '250 results from curl')
  t.same(cli.map(l => (JSON.parse(l) as { id: string }).id), results.map(l => (JSON.parse(l) as { id: string }).id), 'CLI and curl results list the same ids in the same order')
  t.comment(result.out.split('\n').slice(-30).join('\n'))
})
