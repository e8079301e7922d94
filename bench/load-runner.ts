import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadJob, LoadJobResult } from './load-worker.js'

const LOAD_WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url))

/**
 * One closed-loop run from a load-generator process of its own (`load-worker.ts`), so that its
 * CPU is neither the gateway's nor the endpoint's; the target process's CPU is read there.
 */
export async function runLoad (job: LoadJob): Promise<LoadJobResult> {
  const child = spawn(process.execPath, [LOAD_WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`load worker exited with ${code}: ${stderr}`)
  // JSON has no NaN: a run without one ok response has no quantiles (null)
  const r = JSON.parse(stdout) as LoadJobResult
  for (const k of ['p50Ms', 'p90Ms', 'p99Ms', 'paceRatePerSec', 'targetCpuSec'] as const) r[k] = r[k] ?? NaN
  return r
}
