// Ray Serve as a peer in the peer bench: starts bench/ray/serve_app.py (a Ray Serve app with
// @serve.batch calling the endpoint through boto3) as the root of its own process tree, changes
// its batch wait over stdin, and stops it so that no Ray process outlives the bench.
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BENCH_CREDENTIALS, freePort } from './gateway-process.js'
import { processTree, stillRunning, type ProcStat } from './proc-tree.js'

// dist/bench/ray-serve.js -> <repo>/bench/ray/serve_app.py (Python is not compiled)
const RAY_APP = fileURLToPath(new URL('../../bench/ray/serve_app.py', import.meta.url))

// ms; Ray starts GCS, a raylet, its agents and three actors before the app answers (18 s on a
// quiet 2-core machine)
const START_TIMEOUT_MS = 90_000
// ms; serve.shutdown() waits for the replica to drain, then ray.shutdown() stops the rest
const STOP_TIMEOUT_MS = 45_000

/** Ray's version where `import ray.serve, boto3` works in python3, else why not (the bench installs nothing). */
export function rayServeVersion (): { version: string } | { skipped: string } {
  const r = spawnSync('python3', ['-c', 'import boto3, ray, ray.serve; print(ray.__version__)'], { encoding: 'utf8', timeout: 60_000 })
  if (r.status === 0) return { version: r.stdout.trim() }
  const why = r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${String(r.status)}`
  return { skipped: `python3 -c "import boto3, ray.serve" failed (${why}); install them as the README's Benchmarks section says (the bench installs nothing)` }
}

/** A running Ray Serve app: its direct-ingress URL and the pid at the root of everything Ray started. */
export interface RayServe {
  url: string
  pid: number
  /** Sets the @serve.batch batch_wait_timeout_s of the running replica (s). */
  setBatchWait: (seconds: number) => Promise<void>
  /** Stops Serve and Ray; kills whatever of the tree is left after STOP_TIMEOUT_MS. Resolves with the pids that had to be killed. */
  stop: () => Promise<number[]>
}

/** Starts the app in front of `endpointUrl` with at most `concurrency` invocations in flight. */
export async function startRayServe (opts: { endpointUrl: string, concurrency: number, batchWaitS: number }): Promise<RayServe> {
  const [httpPort, proxyPort, grpcPort] = [await freePort(), await freePort(), await freePort()]
  const child = spawn('python3', [RAY_APP, '--endpoint-url', opts.endpointUrl, '--concurrency', String(opts.concurrency),
    '--http-port', String(httpPort), '--proxy-port', String(proxyPort), '--grpc-port', String(grpcPort), '--batch-wait-timeout-s', String(opts.batchWaitS)], {
    // its own process group: the bench's Ctrl-C does not reach Ray half-way; stop() ends it
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: '1',
      // boto3 gets its keys in code; the machine's AWS files and instance metadata stay out
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey
    }
  })
  const pid = child.pid as number
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-8000) })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  /** The app's next stdout line as JSON, within `ms`. */
  const next = async (ms: number): Promise<Record<string, unknown>> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`Ray Serve app did not answer within ${ms} ms: ${stderr}`)) }, ms) })
    const failed = exited.then(() => { throw new Error(`Ray Serve app exited with ${String(child.exitCode ?? child.signalCode)}: ${stderr}`) })
    try {
      const line = await Promise.race([lines.next(), timeout, failed])
      if (line.done === true) throw new Error(`Ray Serve app closed its stdout: ${stderr}`)
      return JSON.parse(line.value) as Record<string, unknown>
    } finally { clearTimeout(timer) }
  }
  const stop = async (): Promise<number[]> => {
    const tree = child.exitCode === null ? processTree(pid) : []
    child.stdin.end()
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, STOP_TIMEOUT_MS))])
    // actors run in process groups of their own: each left over is killed by its pid. The tree
    // is walked again only while the app itself still runs: once it has exited its pid may be
    // another process's (the snapshot above holds everything it had started)
    const running = child.exitCode === null && child.signalCode === null
    const members = new Map([...tree, ...(running ? processTree(pid) : [])].map(p => [p.pid, p]))
    const left = stillRunning([...members.values()])
    for (const p of left) { try { process.kill(p.pid, 'SIGKILL') } catch {} }
    return left.map((p: ProcStat) => p.pid)
  }
  let ready: Record<string, unknown>
  try {
    ready = await next(START_TIMEOUT_MS)
    if (ready.ready !== true || typeof ready.url !== 'string') throw new Error(`Ray Serve app said ${JSON.stringify(ready)}`)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    url: ready.url,
    pid,
    setBatchWait: async (seconds) => {
      child.stdin.write(JSON.stringify({ batch_wait_timeout_s: seconds }) + '\n')
      const ack = await next(30_000)
      if (ack.batch_wait_timeout_s !== seconds) throw new Error(`Ray Serve app answered ${JSON.stringify(ack)} to batch_wait_timeout_s ${seconds}`)
    },
    stop
  }
}
