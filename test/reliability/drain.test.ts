import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

t.test('drain: SIGTERM with 60 requests in flight; all answered 200, /ready 503, no new work, exit 0', async t => {
  const gw = await spawnGateway({ LOCAL_LATENCY_BASE_MS: 300, BATCH_MAX_SIZE: 8, MAX_CONCURRENT_INVOCATIONS: 2, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 5 })
  t.teardown(async () => { await gw.stop() })
  const inFlight = Array.from({ length: 60 }, async (_, i) => await post(`${gw.url}/v1/summarize`, { text: `Request ${i} is here.` }))
  // in flight means admitted: wait until every request is queued or sent (a busy machine can
  // take longer than any fixed pause to deliver 60 requests)
  for (let i = 0; i < 1000; i++) {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    const queued = Number(/^t2t_queue_depth (\d+)/m.exec(metrics)?.[1] ?? 0)
    if (queued + (await gw.stats()).items >= 60) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const exited = new Promise<number | null>(resolve => gw.child.once('exit', code => { resolve(code) }))
  gw.child.kill('SIGTERM')
  // the signal takes its time on a busy machine: poll /ready (the drain itself lasts > 1 s:
  // 60 items in batches of 8 on 2 slots at 300 ms) until it answers 503 or the process is gone
  let ready: number | string = 200
  for (let i = 0; i < 500 && ready === 200; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    ready = await fetch(`${gw.url}/ready`).then(r => r.status, () => 'refused')
  }
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
