// CPU time of processes from /proc/<pid>/stat: of one process, or of a process and every
// descendant (a Ray Serve app is a driver, GCS, raylet and worker processes; a gateway may fork).
// Field numbers from proc(5): pid 1, comm 2 (parenthesised, may hold spaces and parentheses),
// state 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17 (clock ticks), starttime 22.
import { readdirSync, readFileSync } from 'node:fs'

// USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s on Linux (sysconf(_SC_CLK_TCK))
export const CLOCK_TICKS_PER_SEC = 100

/** The fields of one /proc/<pid>/stat line that CPU accounting needs (times in clock ticks; starttime tells a reused pid apart). */
export interface ProcStat { pid: number, ppid: number, utime: number, stime: number, cutime: number, cstime: number, starttime: number }

/** Parses a /proc/<pid>/stat line. */
export function parseStat (line: string): ProcStat {
  const close = line.lastIndexOf(')')
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`)
  // fields after the command: state is field 3, so field n is at index n - 3
  const f = line.slice(close + 2).split(' ')
  return { pid: Number(line.slice(0, line.indexOf(' '))), ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]), starttime: Number(f[19]) }
}

/** utime + stime of `pid` in seconds. */
export function processCpuSec (pid: number): number {
  const s = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  return (s.utime + s.stime) / CLOCK_TICKS_PER_SEC
}

/** `root` and every process descending from it (by ppid) among `stats`; root first. */
export function descendants (stats: readonly ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>()
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s])
  const tree = stats.filter(s => s.pid === root)
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get((tree[i] as ProcStat).pid) ?? []))
  return tree
}

/**
 * CPU seconds of a process tree: user + system time of each live member plus the time of the
 * children each has reaped (cutime + cstime). With the reaped children's share, a member that
 * exits between two readings moves its time into its parent's instead of losing it, so the
 * difference between two readings is the tree's CPU in between. A member reparented out of the
 * tree (its parent exited first: to init or a subreaper) is no longer counted.
 */
export function treeCpuTicks (stats: readonly ProcStat[], root: number): number {
  return descendants(stats, root).reduce((a, s) => a + s.utime + s.stime + s.cutime + s.cstime, 0)
}

/** Every process's stat line now; processes that exit while being read are skipped. */
export function readAllStats (): ProcStat[] {
  const stats: ProcStat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try { stats.push(parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'))) } catch {}
  }
  return stats
}

/** CPU seconds of `root` and its descendants (treeCpuTicks over /proc now). */
export function processTreeCpuSec (root: number): number {
  return treeCpuTicks(readAllStats(), root) / CLOCK_TICKS_PER_SEC
}

/** `root` and its descendants now. */
export function processTree (root: number): ProcStat[] {
  return descendants(readAllStats(), root)
}

/** Those of `procs` still running as the same processes (same pid and start time). */
export function stillRunning (procs: readonly ProcStat[]): ProcStat[] {
  const now = new Map(readAllStats().map(s => [s.pid, s.starttime]))
  return procs.filter(p => now.get(p.pid) === p.starttime)
}
