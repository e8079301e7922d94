import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { request } from 'node:http'
import { post } from '../helpers/http.js'

/**
 * A request on a connection of its own, closed after. While the gateway drains it drops its idle
 * keep-alive sockets, so a request that fetch sends on a pooled one fails as refused though the
 * listener still answers; a fresh connection asks the listener itself.
 */
async function fresh (method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number, retryAfter?: string, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text, ...(typeof res.headers['retry-after'] === 'string' ? { retryAfter: res.headers['retry-after'] } : {}) }) })
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

t.test('drain: SIGTERM with 60 requests in flight; all answered 200, /ready 503, no new work, exit 0', async t => {
  const gw = await spawnGateway({ LOCAL_LATENCY_BASE_MS: 300, BATCH_MAX_SIZE: 8, MAX_CONCURRENT_INVOCATIONS: 2, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 5 })
  t.teardown(async () => { await gw.stop() })
  const inFlight = Array.from({ length: 60 }, async (_, i) => await post(`${gw.url}/v1/summarize`, { text: `Request ${i} is here.` }))
  // in flight means admitted: wait until every request is queued or sent (a busy machine can
  // take longer than any fixed pause to deliver 60 requests)
  for (let i = 0; i < 1000; i++) {
    const metrics = (await fresh('GET', `${gw.url}/metrics`)).text
    const queued = Number(/^t2t_queue_depth (\d+)/m.exec(metrics)?.[1] ?? 0)
    if (queued + (await gw.stats()).items >= 60) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const exited = new Promise<number | null>(resolve => gw.child.once('exit', code => { resolve(code) }))
  gw.child.kill('SIGTERM')
  // the signal takes its time on a busy machine: poll until /ready stops saying 200. Closing,
  // the server stops listening and drops idle keep-alive sockets, so a new connection is refused;
  // a request that still gets in (a connection that was live) is answered 503 SHUTTING_DOWN.
  // Either way no new work is taken, while the 60 in flight are all answered (below)
  let ready: number | string = 200
  for (let i = 0; i < 500 && ready === 200; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    ready = await fresh('GET', `${gw.url}/ready`).then(r => r.status, () => 'refused')
  }
  t.ok(ready === 503 || ready === 'refused', `/ready is 503 or refused while draining (got ${ready})`)
  const late = await fresh('POST', `${gw.url}/v1/summarize`, { text: 'Too late.' }).catch(() => undefined)
  if (late === undefined) t.pass('no new work accepted while draining: the connection is refused')
  else {
    t.equal(late.status, 503, 'no new work accepted while draining')
    t.equal((JSON.parse(late.text) as { code?: string }).code, 'SHUTTING_DOWN', 'with the catalog error shape')
    t.ok(Number(late.retryAfter) >= 1, 'and Retry-After')
  }
  const results = await Promise.all(inFlight)
  const stats = await gw.stats().catch(() => undefined)
  t.comment(`drain: ${results.filter(r => r.status === 200).length}/60 answered 200${stats === undefined ? '' : `, ${stats.items} items sent`}`)
  results.forEach((r, i) => {
    t.equal(r.status, 200, `request ${i}`)
    t.equal(r.body.summary, `Request ${i} is here.`)
  })
  t.equal(await exited, 0, 'exit code 0')
})
