// RATE_LIMIT_MAX holds across replicas and restarts when REDIS_URL is set: two gateway
// processes behind a (simulated) balancer share one key's budget through Redis, the store
// @fastify/rate-limit supports. Debian's redis-server is started here on a free port and
// stopped after; .ci/run installs the package.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { freePort } from '../../bench/gateway-process.js'
import { spawnGateway } from '../helpers/process.js'

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(p => existsSync(p))

async function startRedis (t: Test): Promise<string> {
  const port = await freePort()
  const child = spawn(REDIS_SERVER as string, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  t.teardown(() => { child.kill('SIGTERM') })
  const { Redis } = await import('ioredis')
  const deadline = Date.now() + 10_000
  for (;;) {
    const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      return `redis://127.0.0.1:${port}`
    } catch {
      probe.disconnect()
      if (Date.now() > deadline) throw new Error('redis-server did not start')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
}

t.test('one key\'s rate limit is shared by two replicas and survives a restart', { skip: REDIS_SERVER === undefined ? 'redis-server is not installed (apt-get install redis-server; .ci/run does)' : false }, async t => {
  const redisUrl = await startRedis(t)
  const env = { API_KEYS: 'acme:shared-key', RATE_LIMIT_MAX: 30, REDIS_URL: redisUrl }
  const a = await spawnGateway(env)
  let b = await spawnGateway(env)
  t.teardown(async () => { await a.stop(); await b.stop() })
  const call = async (url: string): Promise<number> => (await fetch(`${url}/v1/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer shared-key' },
    body: JSON.stringify({ predictions: [{ id: 1, text: 'a b' }], references: [{ id: 1, text: 'a b' }] })
  })).status
  const statuses: number[] = []
  for (let i = 0; i < 60; i++) statuses.push(await call(i % 2 === 0 ? a.url : b.url))
  const ok = statuses.filter(s => s === 200).length
  t.equal(ok, 30, `60 requests alternating over two replicas: ${ok} × 200 (limit 30 per minute in all)`)
  t.equal(statuses.filter(s => s === 429).length, 30, 'the rest 429')
  t.same(statuses.slice(0, 30), Array(30).fill(200), 'the first 30 pass, in order')

  // a restarted replica still counts the same window
  await b.stop()
  b = await spawnGateway(env)
  t.equal(await call(b.url), 429, 'after a restart the window is still spent')
})

t.test('an unreachable REDIS_URL stops the boot, naming it', { skip: REDIS_SERVER === undefined ? 'redis-server is not installed' : false }, async t => {
  const port = await freePort()
  await t.rejects(spawnGateway({ API_KEYS: 'k', RATE_LIMIT_MAX: 5, REDIS_URL: `redis://127.0.0.1:${port}` }), /REDIS_URL: cannot connect/)
})
