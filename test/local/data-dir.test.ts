import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVER_TS = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

const asRoot = process.getuid?.() === 0
// as root the gateway runs as uid 1000 (the image's user), which must be able to run this node
// (not so for one kept under root's home, as .ci/run's Node 22 is)
const cannotRunAs1000 = asRoot && spawnSync(process.execPath, ['--version'], { uid: 1000, gid: 1000 }).status !== 0

t.test('a LOCAL_DATA_DIR this user cannot write stops the boot with a message naming it and the fix, not a stack', {
  skip: cannotRunAs1000 ? `uid 1000 cannot run ${process.execPath}` : false
}, async t => {
  const dir = await mkdtemp(join(tmpdir(), 't2t-ro-data-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // read-only to everyone but root
  await chmod(dir, 0o555)
  // through env(1): tap adds its process-info hook (NODE_OPTIONS) to every child it sees spawned,
  // and that hook would write into .tap/ as uid 1000 and fail with a stack of its own
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx', SERVER_TS], {
    env: { ...process.env, LOCAL_DATA_DIR: join(dir, 'data'), PORT: '0', LOG_LEVEL: 'silent' },
    ...(asRoot ? { uid: 1000, gid: 1000 } : {}),
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  const uid = asRoot ? 1000 : process.getuid?.()
  t.equal(code, 1, 'exit code 1')
  t.match(stderr, `LOCAL_DATA_DIR ${join(dir, 'data')} is not writable by this process (uid ${uid}`)
  t.match(stderr, `chown -R ${uid} <host folder>`)
  t.match(stderr, /group 0 \(OpenShift\)/)
  t.notMatch(stderr, /\n\s+at /, 'no stack')
})
