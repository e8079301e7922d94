import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { startGateway, type GatewayProcess } from '../../bench/gateway-process.js'

const SERVER_TS = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

/** A gateway in its own process (TypeScript via tsx), with its local SageMaker on a known port. */
export interface SpawnedGateway extends GatewayProcess {
  /** Base URL of the local SageMaker (for /_local/stats). */
  localUrl: string
  stats: () => Promise<{ invocations: number, items: number, outcomes: Record<string, number>, batchSizes: number[] }>
  resetStats: () => Promise<void>
  /** Resident set size of the gateway process (bytes). */
  rss: () => Promise<number>
  /** Open file descriptors of the gateway process (sockets, files). */
  fds: () => Promise<number>
}

/** Spawns `src/server.ts` in local mode with env on top of quiet defaults. */
export async function spawnGateway (env: Record<string, string | number> = {}, dataDir?: string): Promise<SpawnedGateway> {
  // the local SageMaker's port is picked afresh with the gateway's at every start attempt
  const gw = await startGateway(env, { entry: SERVER_TS, execArgv: ['--import', 'tsx'], dataDir, portVariables: ['LOCAL_SAGEMAKER_PORT'] })
  const localUrl = `http://127.0.0.1:${gw.ports.LOCAL_SAGEMAKER_PORT}`
  const pid = gw.child.pid as number
  return {
    ...gw,
    localUrl,
    stats: async () => await (await fetch(`${localUrl}/_local/stats`)).json() as Awaited<ReturnType<SpawnedGateway['stats']>>,
    resetStats: async () => { await fetch(`${localUrl}/_local/stats/reset`, { method: 'POST' }) },
    rss: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024
    },
    fds: async () => {
      const { readdir } = await import('node:fs/promises')
      return (await readdir(`/proc/${pid}/fd`)).length
    }
  }
}
