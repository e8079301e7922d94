// `node dist/bench/load-worker.js '<json LoadJob>'`: one closed-loop run (or, with `ratePerSec`,
// an open-loop one) from a process of its own, so the load generator's CPU is nobody's gateway's. It reads the target process's CPU
// time (/proc/<pid>/stat; with `cpuOf: 'tree'`, of the process and all its descendants) at the
// start and the end of the measured window and prints one JSON line: the LoadResult plus the
// target's CPU seconds inside the window.
import { closedLoop, openLoop, type LoadResult } from './load.js'
import { processCpuSec, processTreeCpuSec } from './proc-tree.js'

/** What the parent asks for: closedLoop's options, bodies as a template, and whose CPU to read. */
export interface LoadJob {
  url: string
  concurrency: number
  durationMs: number
  warmupMs: number
  headers: Record<string, string>
  /** The body with `{i}` replaced by the request's sequence number (each body differs). */
  bodyTemplate: string
  /** Process whose utime + stime is read at the window's edges. */
  pid: number
  /** 'process' (default): `pid` alone; 'tree': `pid` and every descendant (processTreeCpuSec). */
  cpuOf?: 'process' | 'tree'
  /** Clients' starts spread over this many ms (closedLoop's startSpreadMs; default 0). */
  startSpreadMs?: number
  /** Independent callers instead of `concurrency` closed-loop clients: requests per second, Poisson (`openLoop`). */
  ratePerSec?: number
}

export interface LoadJobResult extends LoadResult {
  /** The target's user + system CPU inside the measured window (s), from /proc clock ticks. */
  targetCpuSec: number
}

const job = JSON.parse(process.argv[2] as string) as LoadJob
const cpuSec = job.cpuOf === 'tree' ? processTreeCpuSec : processCpuSec
let cpuAtStart = NaN
let cpuAtEnd = NaN
// the window's edges as closedLoop counts them (from its start); timers fire within a few ms
setTimeout(() => { cpuAtStart = cpuSec(job.pid) }, job.warmupMs)
setTimeout(() => { cpuAtEnd = cpuSec(job.pid) }, job.warmupMs + job.durationMs)
const [head, tail] = job.bodyTemplate.split('{i}')
const body = tail === undefined ? () => job.bodyTemplate : (i: number) => `${head}${i}${tail}`
const result = job.ratePerSec !== undefined
  ? await openLoop({ url: job.url, ratePerSec: job.ratePerSec, durationMs: job.durationMs, warmupMs: job.warmupMs, headers: job.headers, body })
  : await closedLoop({
    url: job.url,
    concurrency: job.concurrency,
    durationMs: job.durationMs,
    warmupMs: job.warmupMs,
    headers: job.headers,
    startSpreadMs: job.startSpreadMs,
    body
  })
const out: LoadJobResult = { ...result, targetCpuSec: cpuAtEnd - cpuAtStart }
process.stdout.write(JSON.stringify(out) + '\n')
