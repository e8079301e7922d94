// The conformance suite: the AWS notebook's own SDK calls (test/conformance/notebook.py, boto3)
// run unmodified against a gateway process in local mode, with ordinary credentials, and must
// see what they would see on AWS.
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort } from '../../bench/gateway-process.js'
import { spawnGateway } from '../helpers/process.js'

const SCRIPT = fileURLToPath(new URL('./notebook.py', import.meta.url))

// Debian's python3-boto3 (.ci/run installs it); without it the suite cannot run
const boto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' })
const skip = boto3.status === 0 ? false : 'python3 with boto3 is not available (apt-get install python3-boto3; .ci/run does)'

t.test('the notebook\'s boto3 calls against local mode: real time, batch transform, deploy, and user mistakes as AWS answers them', { skip }, async t => {
  const s3Port = await freePort()
  // endpoints come up (and go away) in 500 ms, so the SDK's waiters (Delay 1 s) see every state
  const gateway = await spawnGateway({ LOCAL_S3_PORT: s3Port, LOCAL_ENDPOINT_TRANSITION_MS: 500 })
  t.teardown(async () => { await gateway.stop() })
  const work = await mkdtemp(join(tmpdir(), 't2t-boto3-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    SAGEMAKER_ENDPOINT_URL: gateway.localUrl,
    S3_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
    // ordinary credentials, as a user's environment holds them (AWS's documented example pair)
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_DEFAULT_REGION: 'us-east-1',
    // nothing from this machine's own AWS configuration
    AWS_CONFIG_FILE: join(work, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true'
  }
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    const child = execFile('python3', [SCRIPT], { cwd: work, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
    child.stdin?.end()
  })
  t.equal(run.code, 0, `notebook.py exited ${String(run.code)}:\n${run.stdout.split('\n').slice(-5).join('\n')}\n${run.stderr.slice(-3000)}`)
  const lines = run.stdout.split('\n')
  t.notOk(lines.some(l => l.startsWith('not ok')), 'no failed check')
  t.match(lines.filter(l => l !== '').at(-1), /^conformance: \d+ checks passed$/)
  for (const check of [
    'CreateBucket of one\'s own bucket again: 200 in us-east-1',
    'upload_file of articles.jsonl with ordinary credentials',
    'ast.literal_eval of every line; every id exactly once',
    'HYPER_PARAMS set: the records\' own max_length 3 is not used',
    'HYPER_PARAMS unset: the records\' own max_length 3 is used',
    'endpoint_in_service waiter',
    'each answer the input\'s generated texts: print(*generated_text_list) prints the summaries',
    'missing bucket: ValidationException, no S3 objects',
    'missing prefix: ValidationException, no S3 objects',
    'duplicate job name: ResourceInUse',
    'invalid job name: ValidationException naming the pattern',
    'unknown endpoint: ValidationError',
    'unknown model: ValidationException',
    'payload over 6 MB: 413'
  ]) t.ok(lines.includes(`ok - ${check}`), check)
  // the notebook's print(*generated_text_list, sep="\n"): one summary per line, not dict keys
  const printed = lines.filter(l => l.startsWith('['))
  t.equal(printed.length, 10, 'ten printed answers')
  t.notOk(lines.includes('generated_texts'), 'no dict key printed')
})

/** The python block after the README's `<!-- boto3-local` marker. */
async function readmeBoto3Snippet (): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const match = /<!-- boto3-local[^\n]*-->\n```python\n([\s\S]*?)\n```/.exec(readme)
  if (match === null) throw new Error('README.md has no boto3-local python block')
  return match[1] as string
}

t.test('the README\'s boto3 snippet for local mode runs as written', { skip }, async t => {
  const s3Port = await freePort()
  const gateway = await spawnGateway({ LOCAL_S3_PORT: s3Port })
  t.teardown(async () => { await gateway.stop() })
  const work = await mkdtemp(join(tmpdir(), 't2t-boto3-readme-'))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
  const sagemakerPort = new URL(gateway.localUrl).port
  const snippet = await readmeBoto3Snippet()
  t.match(snippet, /127\.0\.0\.1:8081/, 'the snippet names the ports of the README\'s start command')
  // the ports are free ones here (others run tests on this machine); nothing else is changed
  const script = join(work, 'snippet.py')
  await writeFile(script, snippet.replaceAll('127.0.0.1:8081', `127.0.0.1:${sagemakerPort}`).replaceAll('127.0.0.1:8082', `127.0.0.1:${s3Port}`))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    // no AWS settings at all: the snippet must carry what it needs
    AWS_CONFIG_FILE: join(work, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true'
  }
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    execFile('python3', [script], { cwd: work, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
  t.equal(run.code, 0, `the snippet exited ${String(run.code)}: ${run.stderr.slice(-2000)}`)
  const lines = run.stdout.trim().split('\n')
  t.equal(lines.length, 3, run.stdout)
  t.match(lines[0], /^\['[^']+'\]$/, 'the endpoint\'s generated texts')
  t.equal(lines[1], "['in/articles.jsonl']", 'the object it wrote, listed')
  t.equal(lines[2], 'flan-t5-local', 'the built-in model, described')
})
