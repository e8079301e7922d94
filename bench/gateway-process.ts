import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LOCAL_MODEL_NAME } from '../src/config.js'

/** A gateway running as its own process (local mode), as a user would start it. */
export interface GatewayProcess {
  url: string
  dataDir: string
  child: ChildProcess
  /** The port each of StartOptions.portVariables was given. */
  ports: Readonly<Record<string, number>>
  stop: () => Promise<number | null>
}

/** A free loopback port (bound then released). */
export async function freePort (): Promise<number> {
  // the kernel may hand a just-released port out again: two ports picked one after the other
  // for one gateway (its own and its local SageMaker's) must differ
  for (let attempt = 0; ; attempt++) {
    const port = await releasedPort()
    if (!handedOut.has(port) || attempt >= 100) { handedOut.add(port); return port }
  }
}

// every port freePort gave in this process
const handedOut = new Set<number>()

async function releasedPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => { resolve(port) })
    })
  })
}

/** How often a process that lost its port to another between freePort and listen is started again. */
const PORT_RACE_ATTEMPTS = 3

/** True for a start that failed because its port was taken after freePort released it. */
function lostPortRace (err: unknown): boolean {
  return err instanceof Error && err.message.includes('EADDRINUSE')
}

/** Path of the compiled server entry next to this compiled file (dist/bench -> dist/src). */
export const SERVER_ENTRY = fileURLToPath(new URL('../src/server.js', import.meta.url))

/** Starts `node dist/src/server.js` (or `entry` with `args`) with env, waits for /ready (or `readyPath`), returns a handle. */
export async function startGateway (env: Record<string, string | number>, opts: StartOptions = {}): Promise<GatewayProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      const ports: Record<string, number> = {}
      for (const name of opts.portVariables ?? []) ports[name] = await freePort()
      return { ...await startOnce({ ...env, ...ports }, opts), ports }
    } catch (err) {
      if (!lostPortRace(err) || attempt >= PORT_RACE_ATTEMPTS) throw err
    }
  }
}

/** How to start the gateway process; `portVariables` are env variables given a fresh free port at every attempt (a second listener of the process). */
export interface StartOptions { entry?: string, execArgv?: string[], dataDir?: string, args?: (port: number) => string[], readyPath?: string, portVariables?: readonly string[] }

async function startOnce (env: Record<string, string | number>, opts: StartOptions): Promise<Omit<GatewayProcess, 'ports'>> {
  const port = await freePort()
  // a given dataDir belongs to the caller (restarts reuse it); a fresh one is removed on stop
  const ownDir = opts.dataDir === undefined
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 't2t-bench-'))
  // no load shedding unless asked: on a busy machine the event loop lags past any threshold,
  // and tests and benchmarks would measure 503s instead of the gateway
  const childEnv: Record<string, string> = { ...process.env as Record<string, string>, LOG_LEVEL: 'warn', SHED_EVENT_LOOP_DELAY_MS: '0', LOCAL_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' }
  // local mode unless the caller names an endpoint itself
  delete childEnv.SAGEMAKER_ENDPOINT_NAME
  for (const [k, v] of Object.entries(env)) childEnv[k] = String(v)
  const child = spawn(process.execPath, [...(opts.execArgv ?? []), opts.entry ?? SERVER_ENTRY, ...(opts.args?.(port) ?? [])], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const url = `http://127.0.0.1:${port}`
  // generous: under tsx a cold start compiles the sources, and a busy machine (CI) slows that down
  const deadline = Date.now() + 90_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${stderr}`)
    try {
      const res = await fetch(`${url}${opts.readyPath ?? '/ready'}`)
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`gateway did not become ready: ${stderr}`) }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url,
    dataDir,
    child,
    stop: async () => {
      let code = child.exitCode
      if (code === null && child.signalCode === null) {
        const exited = new Promise<number | null>(resolve => child.once('exit', c => { resolve(c) }))
        child.kill('SIGTERM')
        code = await exited
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true })
      return code
    }
  }
}

const ENDPOINT_ENTRY = fileURLToPath(new URL('./endpoint-server.js', import.meta.url))

/** Keys the gateway signs with against a local endpoint (which does not check them). */
export const BENCH_CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' }

/** An emulated endpoint: ms = baseMs + perItemMs · items, `slots` invocations at once (more are throttled). */
export interface EndpointShape { baseMs: number, perItemMs: number, slots: number }

/** The local stack alone, as its own process (`endpoint-server.ts`): a remote endpoint, as on AWS. */
export async function startEndpoint (shape: EndpointShape): Promise<GatewayProcess> {
  return await startLocalStackProcess({ LOCAL_LATENCY_BASE_MS: shape.baseMs, LOCAL_LATENCY_PER_ITEM_MS: shape.perItemMs, LOCAL_MAX_CONCURRENCY: shape.slots })
}

/** The local stack alone, as its own process, with `env` (LOCAL_* knobs). */
export async function startLocalStackProcess (env: Record<string, string | number>): Promise<GatewayProcess> {
  return await startGateway(env, { entry: ENDPOINT_ENTRY, readyPath: '/_local/stats' })
}

const HOP_PROXY_ENTRY = fileURLToPath(new URL('./hop-proxy-server.js', import.meta.url))

/** One bare HTTP hop to `targetUrl` as its own process (`hop-proxy.ts`): the floor under any gateway. */
export async function startHopProxy (targetUrl: string): Promise<GatewayProcess> {
  return await startGateway({ TARGET_URL: targetUrl }, { entry: HOP_PROXY_ENTRY })
}

/** The environment of a gateway in AWS mode whose SDK clients point at `endpointUrl`. */
export function awsModeEnv (endpointUrl: string): Record<string, string> {
  return {
    SAGEMAKER_ENDPOINT_NAME: LOCAL_MODEL_NAME,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey
  }
}
