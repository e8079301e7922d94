import { spawn } from 'node:child_process'
import t from 'tap'
import { descendants, parseStat, processCpuSec, processTree, processTreeCpuSec, treeCpuTicks, type ProcStat } from '../../bench/proc-tree.js'

// a /proc/<pid>/stat line as proc(5) lays it out, fields 1 to 22 (times in clock ticks)
const statLine = (pid: number, comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 4242 123456 789`

const stat = (pid: number, ppid: number, utime: number, cutime = 0): ProcStat => ({ pid, ppid, utime, stime: 1, cutime, cstime: 0, starttime: pid })

t.test('parseStat reads the fields after a command holding spaces and parentheses', async t => {
  t.same(parseStat(statLine(4321, 'ray::Serve (a) b)', 17, 250, 30, 7, 3)), { pid: 4321, ppid: 17, utime: 250, stime: 30, cutime: 7, cstime: 3, starttime: 4242 })
  t.throws(() => parseStat('garbage'), /not a \/proc\/<pid>\/stat line/)
})

t.test('a tree is the root and every descendant by ppid, nothing else', async t => {
  // 10 -> 11 -> 12, 10 -> 13; 20 -> 21 and 1 are not in it
  const stats = [stat(1, 0, 500), stat(10, 1, 5), stat(11, 10, 7), stat(12, 11, 11), stat(13, 10, 13), stat(20, 1, 1000), stat(21, 20, 2000)]
  t.same(descendants(stats, 10).map(s => s.pid).sort(), [10, 11, 12, 13])
  t.same(descendants(stats, 11).map(s => s.pid).sort(), [11, 12])
  t.same(descendants(stats, 99), [], 'a root that is gone has no tree')
  // utime + stime (1 each) + cutime
  t.equal(treeCpuTicks(stats, 10), 5 + 7 + 11 + 13 + 4)
})

t.test('a member that exits and is reaped keeps its time in the tree (its parent\'s cutime)', async t => {
  const before = [stat(10, 1, 5), stat(11, 10, 7)]
  // 11 ran 3 more ticks, exited, and 10 reaped it: its utime + stime (10 + 1) moved to 10's cutime
  const after = [stat(10, 1, 5, 11)]
  t.equal(treeCpuTicks(after, 10) - treeCpuTicks(before, 10), 3)
})

t.test('processTreeCpuSec counts a child\'s CPU that processCpuSec of its parent does not, after the child exited', async t => {
  // the shell spends nothing itself; its child burns 300 ms of CPU, exits, and is reaped; then
  // the shell execs sleep (CPU times survive exec)
  const burn = 'const s = process.cpuUsage(); while (process.cpuUsage(s).user < 300_000) {}'
  const sh = spawn('/bin/sh', ['-c', `"${process.execPath}" -e '${burn}'; exec sleep 60`], { stdio: 'ignore' })
  const pid = sh.pid as number
  t.teardown(() => { sh.kill('SIGKILL') })
  const deadline = Date.now() + 30_000
  // until the child has run and is gone (the shell is sleep then, alone in its tree)
  const done = (): boolean => processTree(pid).length === 1 && processTreeCpuSec(pid) >= 0.3
  while (!done() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(processTree(pid).length, 1, 'the child exited')
  t.ok(processTreeCpuSec(pid) >= 0.3, `tree ${processTreeCpuSec(pid)} s`)
  t.ok(processCpuSec(pid) < 0.1, `the shell alone ${processCpuSec(pid)} s`)
})
