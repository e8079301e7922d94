import t from 'tap'
import { fileURLToPath } from 'node:url'
import { startGateway } from '../../bench/gateway-process.js'

const SERVER_TS = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

t.test('SIGTERM drains: queued and in-flight requests are answered, /ready turns 503, exit 0', async t => {
  const gw = await startGateway({
    LOCAL_LATENCY_BASE_MS: 300, BATCH_MAX_SIZE: 4, MAX_CONCURRENT_INVOCATIONS: 2, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 5
  }, { entry: SERVER_TS, execArgv: ['--import', 'tsx'] })
  const requests = Array.from({ length: 20 }, async (_, i) => {
    const res = await fetch(`${gw.url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `Request ${i} is here.` }) })
    return { status: res.status, body: await res.json() as { summary?: string } }
  })
  await new Promise(resolve => setTimeout(resolve, 100))
  const exited = new Promise<number | null>(resolve => gw.child.once('exit', code => { resolve(code) }))
  gw.child.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 50))
  const ready = await fetch(`${gw.url}/ready`).then(r => r.status, () => 'refused')
  t.equal(ready, 503, '/ready answers 503 while draining')
  const late = await fetch(`${gw.url}/v1/summarize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Too late.' }) })
    .then(r => r.status, () => 'refused')
  t.equal(late, 503, 'no new work is accepted while draining')
  const results = await Promise.all(requests)
  results.forEach((r, i) => {
    t.equal(r.status, 200, `request ${i}`)
    t.equal(r.body.summary, `Request ${i} is here.`)
  })
  t.equal(await exited, 0, 'exit code 0')
})
