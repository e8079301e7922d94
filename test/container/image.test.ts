/**
 * The image, built and run: podman builds the Dockerfile unchanged on a stand-in for its base
 * (stand-in-base.sh: debootstrap + Node.js from the npm registry, since Docker Hub is out of
 * reach), then runs it as a user would. Slow (minutes on a cold cache), so it is not part of
 * `npm test`: `.ci/run` runs it (`npx tap --timeout=900 test/container/image.test.ts`). It skips,
 * saying why, where podman cannot build or run containers (not root, no podman, no debootstrap).
 * Docker's and podman's `stop` wait 10 s before SIGKILL:
 * https://docs.docker.com/reference/cli/docker/container/stop/ ; podman-stop(1) `--time`.
 */
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { request } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../bench/gateway-process.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const IMAGE = 'localhost/text2text-gateway:container-test'
const KEY = 'container-test-key'
const run = `t2t-${process.pid}`
// no load shedding: on a busy machine the first second after start lags past any fixed bound
// (under-pressure's first sample holds the start-up), as testConfig does for the rest of the suite
const QUIET = ['-e', 'SHED_EVENT_LOOP_DELAY_MS=0']

interface Outcome { code: number, stdout: string, stderr: string, ms: number }

/** Runs a command to its end (never throws on a non-zero exit). */
async function sh (cmd: string, args: string[], opts: { input?: string, timeoutMs?: number } = {}): Promise<Outcome> {
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 600_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    child.on('error', reject)
    child.on('close', code => { resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - started }) })
    child.stdin.end(opts.input)
  })
}

/** Why this machine cannot run the test, or undefined when it can. */
function cannotRun (): string | undefined {
  if (process.platform !== 'linux') return 'podman containers need Linux'
  if (process.getuid?.() !== 0) return 'building the stand-in base needs root (debootstrap, rootful podman); run as root or in .ci/run'
  for (const tool of ['podman', 'debootstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian: apt-get install podman runc debootstrap; .ci/run installs them)`
  }
  const info = spawnSync('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { encoding: 'utf8' })
  if (info.status !== 0) return `podman cannot run here: ${info.stderr.trim().split('\n').pop() ?? ''}`
  return undefined
}

/**
 * Resource limits every `podman run` gets: rootful podman raises nofile and nproc to its own
 * defaults, which a host without CAP_SYS_RESOURCE (a sandbox, some CI runners) refuses.
 */
function ulimits (): string[] {
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim())
  const nofile = Number.isFinite(hard) && hard > 0 ? Math.min(hard, 16_384) : 4096
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096']
}

/** `podman run -d`; returns the container's name. */
async function start (t: Test, name: string, args: string[]): Promise<string> {
  const out = await sh('podman', ['run', '-d', '--name', name, ...ulimits(), ...args, IMAGE])
  t.teardown(async () => { await sh('podman', ['rm', '-f', '-v', name]) })
  if (out.code !== 0) throw new Error(`podman run failed: ${out.stderr}`)
  return name
}

/** Polls `url` until it answers `status` (ms bound); throws with the container's log otherwise. */
async function until (url: string, status: number, container: string, boundMs = 60_000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < boundMs) {
    const got = await fetch(url).then(r => r.status, () => 0)
    if (got === status) return performance.now() - started
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  const logs = await sh('podman', ['logs', '--tail', '20', container])
  throw new Error(`${url} did not answer ${status} within ${boundMs} ms; log:\n${logs.stdout}${logs.stderr}`)
}

async function json (url: string, init: RequestInit = {}): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${KEY}`, ...init.headers } })
  const text = await res.text()
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

/** A request on a fresh connection (no pooled socket): what a new client sees. */
async function fresh (url: string, body?: unknown): Promise<{ status: number, code?: string, retryAfter?: string } | { refused: string }> {
  return await new Promise(resolve => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (s: string) => { text += s })
      res.on('end', () => {
        let code: string | undefined
        try { code = (JSON.parse(text) as { code?: string }).code } catch {}
        resolve({ status: res.statusCode ?? 0, ...(code === undefined ? {} : { code }), ...(typeof res.headers['retry-after'] === 'string' ? { retryAfter: res.headers['retry-after'] } : {}) })
      })
    })
    req.on('error', err => { resolve({ refused: (err as NodeJS.ErrnoException).code ?? err.message }) })
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/**
 * A dataset upload that keeps sending (a line every 200 ms, ~2.5 KB/s: above the default
 * DATASET_MIN_BYTES_PER_SECOND) until the gateway answers; resolves with that answer.
 */
function tricklingUpload (url: string): { answer: Promise<{ status: number, code?: string, lines: number } | { error: string, lines: number }> } {
  let lines = 0
  const req = request(`${url}/v1/datasets`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' } })
  const timer = setInterval(() => {
    lines++
    req.write(JSON.stringify({ id: lines, text: `Line ${lines} of an upload still going when the container is stopped. `.padEnd(480, '.') }) + '\n')
  }, 200)
  const answer = new Promise<{ status: number, code?: string, lines: number } | { error: string, lines: number }>(resolve => {
    req.on('response', res => {
      clearInterval(timer)
      let text = ''
      res.setEncoding('utf8').on('data', (s: string) => { text += s })
      res.on('end', () => {
        let code: string | undefined
        try { code = (JSON.parse(text) as { code?: string }).code } catch {}
        resolve({ status: res.statusCode ?? 0, ...(code === undefined ? {} : { code }), lines })
      })
    })
    req.on('error', err => { clearInterval(timer); resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message, lines }) })
  })
  req.flushHeaders()
  return { answer }
}

const reason = cannotRun()
if (reason !== undefined) {
  t.plan(0, `container test skipped: ${reason}`)
} else {
  const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8')
  const bases = [...new Set([...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map(m => m[1]))]

  t.test('the stand-in base and the image build from the Dockerfile unchanged', async t => {
    t.equal(bases.length, 1, `one base image for every stage (${bases.join(', ')})`)
    t.match(bases[0], /^node:22-/, 'based on Node.js 22')
    t.notMatch(dockerfile, /^#\s*syntax=/m, 'no `# syntax=` line (BuildKit would pull its frontend from Docker Hub)')
    const base = await sh('bash', [join(root, 'test/container/stand-in-base.sh'), bases[0]])
    t.equal(base.code, 0, `stand-in base ${bases[0]} ready in ${(base.ms / 1000).toFixed(1)} s`)
    if (base.code !== 0) t.comment(base.stderr)
    t.comment(base.stderr.trim())
    // docker format keeps HEALTHCHECK (OCI image configs have no such field)
    const build = await sh('podman', ['build', '--format', 'docker', '--pull=never', '-t', IMAGE, '.'])
    t.equal(build.code, 0, `podman build in ${(build.ms / 1000).toFixed(1)} s`)
    if (build.code !== 0) t.comment(build.stdout.slice(-4000), build.stderr.slice(-4000))
  })

  t.test('the image: its config, and nothing in it but production code owned by root', async t => {
    const inspect = await sh('podman', ['image', 'inspect', IMAGE, '--format', 'json'])
    const config = (JSON.parse(inspect.stdout) as Array<{ Config: { User: string, Env: string[], ExposedPorts: Record<string, unknown>, Volumes: Record<string, unknown> }, Healthcheck?: { Test: string[] }, Size: number }>)[0]
    t.equal(config?.Config.User, 'node')
    t.ok(config?.Config.ExposedPorts['3000/tcp'] !== undefined, 'exposes 3000')
    t.ok(config?.Config.Volumes['/data'] !== undefined, 'declares the /data volume')
    t.ok(config?.Config.Env.includes('LOCAL_DATA_DIR=/data'))
    t.match(config?.Healthcheck?.Test.join(' ') ?? '', /\/health/, 'HEALTHCHECK on /health')
    t.comment(`image ${((config?.Size ?? 0) / 1e6).toFixed(0)} MB`)

    // every dev-only package of the lockfile must be absent
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev === true).map(([path]) => path)
    const script = `
      const fs = require('node:fs'), path = require('node:path')
      const devOnly = JSON.parse(fs.readFileSync(0, 'utf8'))
      const files = []
      const walk = d => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); files.push(p); if (e.isDirectory()) walk(p) } }
      walk('/app')
      const stats = files.map(f => [f, fs.lstatSync(f)])
      let writable = []
      for (const [f] of stats) { try { fs.accessSync(f, fs.constants.W_OK); writable.push(f) } catch {} }
      console.log(JSON.stringify({
        uid: process.getuid(),
        files: files.length,
        devPresent: devOnly.filter(p => fs.existsSync('/app/' + p)),
        notRoot: stats.filter(([, s]) => s.uid !== 0 || s.gid !== 0).map(([f]) => f),
        groupOrOtherWritable: stats.filter(([, s]) => !s.isSymbolicLink() && (s.mode & 0o022) !== 0).map(([f]) => f),
        writableByUser: writable,
        maps: files.filter(f => f.endsWith('.map')),
        declarations: files.filter(f => /\\.d\\.[cm]?ts$/.test(f)),
        markdown: files.filter(f => /\\.md$/i.test(f)),
        bench: fs.existsSync('/app/dist/bench') || fs.existsSync('/app/bench'),
        tests: fs.existsSync('/app/test') || fs.existsSync('/app/dist/test'),
        entry: fs.existsSync('/app/dist/src/server.js')
      }))`
    const out = await sh('podman', ['run', '--rm', '-i', ...ulimits(), '--entrypoint', 'node', IMAGE, '-e', script], { input: JSON.stringify(devOnly) })
    t.equal(out.code, 0, 'the listing ran in the image')
    if (out.code !== 0) t.comment(out.stderr)
    const c = JSON.parse(out.stdout) as Record<string, unknown>
    t.equal(c.uid, 1000, 'runs as uid 1000')
    t.ok(c.entry, 'dist/src/server.js is there')
    t.same(c.devPresent, [], `none of the lockfile's ${devOnly.length} dev-only packages`)
    t.same(c.notRoot, [], `all ${String(c.files)} files under /app owned by root:root`)
    t.same(c.groupOrOtherWritable, [], 'none writable by group or others (OpenShift runs in group 0)')
    t.same(c.writableByUser, [], 'none writable by the user the gateway runs as')
    t.same(c.maps, [], 'no source maps')
    t.same(c.declarations, [], 'no .d.ts files')
    t.same(c.markdown, [], 'no .md files')
    t.equal(c.bench, false, 'no benchmarks')
    t.equal(c.tests, false, 'no tests')
  })

  t.test('no API_KEYS on the image\'s 0.0.0.0: refuses to start, naming what to set', async t => {
    const out = await sh('podman', ['run', '--rm', ...ulimits(), IMAGE], { timeoutMs: 60_000 })
    t.equal(out.code, 1, 'exit code 1')
    t.match(out.stderr, /HOST=0\.0\.0\.0/)
    t.match(out.stderr, /API_KEYS/)
    t.match(out.stderr, /ALLOW_OPEN_ACCESS=true/)
    t.notMatch(out.stderr, /\n\s+at /, 'a message, not a stack')
  })

  t.test('a /data this user cannot write: a message naming /data and the fix', async t => {
    const dir = await mkdtemp(join(tmpdir(), 't2t-data-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    // a root-owned bind mount (mkdtemp makes it 0700, root's)
    const out = await sh('podman', ['run', '--rm', ...ulimits(), '-e', `API_KEYS=${KEY}`, '-v', `${dir}:/data`, IMAGE], { timeoutMs: 60_000 })
    t.equal(out.code, 1, 'exit code 1')
    t.match(out.stderr, /LOCAL_DATA_DIR \/data is not writable/)
    t.match(out.stderr, /uid 1000/)
    t.match(out.stderr, /chown -R 1000/)
    t.match(out.stderr, /group 0/)
    t.notMatch(out.stderr, /\n\s+at /, 'a message, not a stack')
  })

  t.test('OpenShift: a random uid in group 0 runs on the image\'s volume; ALLOW_OPEN_ACCESS=true serves without keys', async t => {
    const port = await freePort()
    const name = await start(t, `${run}-openshift`, ['--user', '1000620000:0', ...QUIET, '-e', 'ALLOW_OPEN_ACCESS=true', '-p', `127.0.0.1:${port}:3000`])
    const url = `http://127.0.0.1:${port}`
    await until(`${url}/ready`, 200, name)
    const res = await fetch(`${url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Open on purpose. Nobody needs a key.' }) })
    t.equal(res.status, 200, 'served without a key')
    t.match(((await sh('podman', ['logs', name])).stdout), /API_KEYS is not set/, 'and warned')
  })

  t.test('the gateway in its container: routes, a job, read-only root, HEALTHCHECK, and docker stop during an upload', async t => {
    const port = await freePort()
    const volume = `${run}-data`
    t.teardown(async () => { await sh('podman', ['volume', 'rm', '-f', volume]) })
    // Docker's --read-only mounts no tmpfs on /tmp; podman's does unless told not to
    const name = await start(t, `${run}-main`, ['--read-only', '--read-only-tmpfs=false', ...QUIET, '-v', `${volume}:/data`, '-e', `API_KEYS=${KEY}`, '-p', `127.0.0.1:${port}:3000`])
    const url = `http://127.0.0.1:${port}`
    const readyMs = await until(`${url}/ready`, 200, name)
    t.comment(`ready ${(readyMs / 1000).toFixed(1)} s after start`)

    t.equal((await fetch(`${url}/health`)).status, 200, '/health')
    const docs = await fetch(`${url}/docs`)
    t.equal(docs.status, 200, '/docs')
    t.match(await docs.text(), /swagger/i)
    t.equal((await fetch(`${url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' })).status, 401, 'a /v1 route without the key: 401')
    const text = 'The river rose four metres overnight. Residents were moved to the school gym. The bridge stays closed until Friday.'
    const summary = await json(`${url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })
    t.equal(summary.status, 200, 'POST /v1/summarize')
    t.match(summary.body.summary, /^The river rose four metres overnight\./)

    // a small job end to end: upload, submit, wait, results in input order
    const ids = ['a', 'b', 'c']
    const ndjson = ids.map(id => JSON.stringify({ id, text: `Record ${id} says one thing. Then another.` })).join('\n') + '\n'
    const dataset = await json(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ndjson })
    t.equal(dataset.status, 201, 'dataset stored')
    const job = await json(`${url}/v1/transform-jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'container-job', input: { s3Uri: dataset.body.s3Uri } }) })
    t.equal(job.status, 202, `job accepted (${String(job.body.status)})`)
    let status = ''
    for (let i = 0; i < 240 && (status === '' || status === 'InProgress'); i++) {
      await new Promise(resolve => setTimeout(resolve, 250))
      status = String((await json(`${url}/v1/transform-jobs/container-job`)).body.status)
    }
    t.equal(status, 'Completed', 'the job completed')
    const results = await fetch(`${url}/v1/transform-jobs/container-job/results`, { headers: { authorization: `Bearer ${KEY}` } })
    const lines = (await results.text()).trim().split('\n').map(l => JSON.parse(l) as { id: string })
    t.same(lines.map(l => l.id), ids, 'results: every id once, in input order')

    const uid = await sh('podman', ['exec', name, 'sh', '-c', "awk '/^Uid:/ {print $2}' /proc/1/status"])
    t.equal(uid.stdout.trim(), '1000', 'the gateway (PID 1) runs as uid 1000')
    // podman's own bind mounts (hosts, hostname, resolv.conf, .containerenv) show up as changes
    const ownMounts = new Set(['/etc', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run', '/run/.containerenv'])
    const diff = (await sh('podman', ['diff', name])).stdout.trim().split('\n').filter(l => l !== '' && !ownMounts.has(l.slice(2)))
    t.same(diff, [], 'nothing changed outside /data')
    const writes = await sh('podman', ['exec', name, 'sh', '-c', 'for d in /app /app/dist /tmp /home/node /data; do touch $d/.probe 2>/dev/null && echo "$d writable" && rm $d/.probe; done'])
    t.equal(writes.stdout.trim(), '/data writable', 'read-only root filesystem: only /data takes writes')
    const health = await sh('podman', ['healthcheck', 'run', name])
    t.equal(health.code, 0, `HEALTHCHECK passes ${health.stdout.trim()}`)

    // docker stop with its default timeout (10 s, then SIGKILL) while an upload is still sending
    const upload = tricklingUpload(url)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const stop = sh('podman', ['stop', name])
    let ready: Awaited<ReturnType<typeof fresh>> | undefined
    // SIGTERM reaches node within moments; new connections meanwhile are answered, not refused
    for (let i = 0; i < 40; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      ready = await fresh(`${url}/ready`)
      if ('status' in ready && ready.status === 503) break
    }
    t.match(ready, { status: 503 }, '/ready: 503 while draining')
    const during = await fresh(`${url}/v1/summarize`, { text: 'Too late for this one.' })
    t.match(during, { status: 503, code: 'SHUTTING_DOWN' }, 'a new connection while draining: 503 SHUTTING_DOWN, not refused')
    t.ok('retryAfter' in during && Number(during.retryAfter) >= 1, 'with Retry-After')
    const answered = await upload.answer
    const stopped = await stop
    t.match(answered, { status: 503, code: 'SHUTTING_DOWN' }, `the upload still sending is answered 503 SHUTTING_DOWN (after ${answered.lines} lines)`)
    t.equal(stopped.code, 0, 'podman stop')
    t.ok(stopped.ms < 10_000, `stopped in ${(stopped.ms / 1000).toFixed(1)} s, before the 10 s SIGKILL`)
    const exit = await sh('podman', ['inspect', name, '--format', '{{.State.ExitCode}}'])
    t.equal(exit.stdout.trim(), '0', 'exit code 0 (not 137: no SIGKILL)')
  })
}
