import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

t.test('drain: SIGTERM with 60 requests in flight; all answered 200, /ready 503, no new work, exit 0', async t => {
  const gw = await spawnGateway({ LOCAL_LATENCY_BASE_MS: 300, BATCH_MAX_SIZE: 8, MAX_CONCURRENT_INVOCATIONS: 2, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 5 })
  t.teardown(async () => { await gw.stop() })
  const inFlight = Array.from({ length: 60 }, async (_, i) => await post(`${gw.url}/v1/summarize`, { text: `Request ${i} is here.` }))
  await new Promise(resolve => setTimeout(resolve, 150))
  const exited = new Promise<number | null>(resolve => gw.child.once('exit', code => { resolve(code) }))
  gw.child.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 50))
  const ready = await fetch(`${gw.url}/ready`).then(r => r.status, () => 'refused')
  t.equal(ready, 503, '/ready answers 503 while draining')
  const late = await post(`${gw.url}/v1/summarize`, { text: 'Too late.' })
  t.equal(late.status, 503, 'no new work accepted while draining')
  t.equal(late.body.code, 'SHUTTING_DOWN', 'with the catalog error shape')
  t.ok(Number(late.retryAfter) >= 1, 'and Retry-After')
  const results = await Promise.all(inFlight)
  const stats = await gw.stats().catch(() => undefined)
  t.comment(`drain: ${results.filter(r => r.status === 200).length}/60 answered 200${stats === undefined ? '' : `, ${stats.items} items sent`}`)
  results.forEach((r, i) => {
    t.equal(r.status, 200, `request ${i}`)
    t.equal(r.body.summary, `Request ${i} is here.`)
  })
  t.equal(await exited, 0, 'exit code 0')
})
