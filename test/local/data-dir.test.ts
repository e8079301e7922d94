import t from 'tap'
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVER_TS = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

t.test('a LOCAL_DATA_DIR this user cannot write stops the boot with a message naming it and the fix, not a stack', async t => {
  const dir = await mkdtemp(join(tmpdir(), 't2t-ro-data-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // read-only to everyone but root; as root, run the gateway as uid 1000 (the image's user)
  await chmod(dir, 0o555)
  const asRoot = process.getuid?.() === 0
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
