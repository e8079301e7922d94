// Clients we did not write: the official Python `openai` client (openai_client.py) and LangChain's
// ChatOpenAI (langchain_client.py) against a gateway process in local mode with API keys of three
// tenants. Each script prints one JSON line per named check (checks.py); each becomes its own
// assertion here, so a failure names the call that broke. The OpenAI API reference pages each
// check comes from are cited in the scripts.
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { sharedData } from '../../bench/shared-data.js'
import { LOCAL_MODEL_NAME } from '../../src/config.js'
import { spawnGateway, type SpawnedGateway } from '../helpers/process.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const KEY_A = 'conformance-key-a'
const KEY_B = 'conformance-key-b'
// tenant c spends its whole budget of requests per minute; a's (the scripts' calls and polls)
// stay far below it
const KEY_C = 'conformance-key-c'
const RATE_LIMIT_MAX = 400
// the local model fails on inputs holding it (LOCAL_FAULT_MODEL_ERROR_PATTERN)
const POISON = 'POISON-PILL'
// the 250 articles, read at run time from ../shared/data (never committed)
const CNN = sharedData('cnn_dailymail', 'test-cased-250.jsonl')
// ms per model call: the 100-request batch that is cancelled runs for about 4 s (and 250 CNN
// requests for about 10 s), while real-time calls stay quick
const LATENCY_MS = 40
// a script's whole run; its calls time out much sooner (20 s, 40 s for uploads)
const SCRIPT_TIMEOUT_MS = 170_000

/** Why `python3 -c 'import <modules>'` fails, or false when it works. */
function missing (modules: string, install: string): string | false {
  const run = spawnSync('python3', ['-c', `import ${modules}`], { encoding: 'utf8' })
  if (run.status === 0) return false
  const why = (run.error?.message ?? run.stderr).trim().split('\n').at(-1) ?? ''
  return `python3 cannot import ${modules} (${why}); ${install} (.ci/run tries it)`
}

const noOpenAi = missing('openai', 'pip install openai')
const noLangChain = noOpenAi !== false ? noOpenAi : missing('langchain_openai', 'pip install langchain-openai')

interface Line { check?: string, ok?: boolean, detail?: string, skip?: string, done?: number }

/** Runs a script against the gateway; each of its checks is one assertion of `t`. */
async function runChecks (t: Test, script: string, env: Record<string, string>): Promise<void> {
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    const child = execFile('python3', [script], {
      cwd: HERE,
      // no .pyc files beside the scripts
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
      timeout: SCRIPT_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024
    }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
    child.stdin?.end()
  })
  const lines = run.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Line)
  let checks = 0
  for (const line of lines) {
    if (line.check === undefined) continue
    checks++
    if (line.skip !== undefined) t.pass(line.check, { skip: line.skip })
    else t.ok(line.ok, line.check, line.ok === true ? {} : { detail: line.detail })
  }
  t.equal(run.code, 0, `${script} exited ${String(run.code)}`, run.code === 0 ? {} : { stderr: run.stderr.slice(-3000) })
  t.equal(lines.at(-1)?.done, checks, 'the script ran to its end: every check it started reported')
}

t.test('Python clients against local mode', { skip: noOpenAi }, async t => {
  const gateway: SpawnedGateway = await spawnGateway({ API_KEYS: `a:${KEY_A},b:${KEY_B},c:${KEY_C}`, LOCAL_LATENCY_BASE_MS: LATENCY_MS, RATE_LIMIT_MAX, LOCAL_FAULT_MODEL_ERROR_PATTERN: POISON })
  t.teardown(async () => { await gateway.stop() })
  const env = { GATEWAY_URL: gateway.url, POISON, API_KEY: KEY_A, OTHER_API_KEY: KEY_B, LIMITED_API_KEY: KEY_C, RATE_LIMIT_MAX: String(RATE_LIMIT_MAX), MODEL: LOCAL_MODEL_NAME, CNN_PATH: existsSync(CNN) ? CNN : '' }

  await t.test('openai (Python): completions, chat, streaming, models, files, batches, errors, headers, async, real sizes', async t => {
    await runChecks(t, 'openai_client.py', env)
  })
  await t.test('LangChain ChatOpenAI: invoke, batch, stream', { skip: noLangChain }, async t => {
    await runChecks(t, 'langchain_client.py', env)
  })
})
