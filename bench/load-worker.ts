// `node dist/bench/load-worker.js '<json LoadJob>'`: one closed-loop run from a process of its
// own, so the load generator's CPU is nobody's gateway's. It reads the target process's CPU
// time (/proc/<pid>/stat) at the start and the end of the measured window and prints one JSON
// line: the LoadResult plus the target's CPU seconds inside the window.
import { readFileSync } from 'node:fs'
import { closedLoop, type LoadResult } from './load.js'

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
  /** Clients' starts spread over this many ms (closedLoop's startSpreadMs; default 0). */
  startSpreadMs?: number
}

export interface LoadJobResult extends LoadResult {
  /** The target's user + system CPU inside the measured window (s), from /proc clock ticks. */
  targetCpuSec: number
}

// USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s on Linux (sysconf(_SC_CLK_TCK))
const CLOCK_TICKS_PER_SEC = 100

/** utime + stime of `pid` in seconds. */
export function processCpuSec (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // fields after the parenthesised command (which may hold spaces): state is field 3, utime 14, stime 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC
}

const job = JSON.parse(process.argv[2] as string) as LoadJob
let cpuAtStart = NaN
let cpuAtEnd = NaN
// the window's edges as closedLoop counts them (from its start); timers fire within a few ms
setTimeout(() => { cpuAtStart = processCpuSec(job.pid) }, job.warmupMs)
setTimeout(() => { cpuAtEnd = processCpuSec(job.pid) }, job.warmupMs + job.durationMs)
const [head, tail] = job.bodyTemplate.split('{i}')
const result = await closedLoop({
  url: job.url,
  concurrency: job.concurrency,
  durationMs: job.durationMs,
  warmupMs: job.warmupMs,
  headers: job.headers,
  startSpreadMs: job.startSpreadMs,
  body: tail === undefined ? () => job.bodyTemplate : i => `${head}${i}${tail}`
})
const out: LoadJobResult = { ...result, targetCpuSec: cpuAtEnd - cpuAtStart }
process.stdout.write(JSON.stringify(out) + '\n')
