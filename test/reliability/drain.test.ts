import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { request } from 'node:http'
import { heldUpload, post } from '../helpers/http.js'

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

/**
 * What a caller sees once SIGTERM is sent: polls /ready on fresh connections until it stops
 * saying 200 (the signal takes its time on a busy machine), then sends new work. Each is a
 * status, or the connection error's code (ECONNREFUSED once the listener is closed).
 */
async function seenWhileDraining (url: string): Promise<{ ready: number | string, late: { status: number, retryAfter?: string, text: string } | string }> {
  let ready: number | string = 200
  for (let i = 0; i < 500 && ready === 200; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    ready = await fresh('GET', `${url}/ready`).then(r => r.status, (err: NodeJS.ErrnoException) => err.code ?? 'refused')
  }
  const late = await fresh('POST', `${url}/v1/summarize`, { text: 'Too late.' }).catch((err: NodeJS.ErrnoException) => err.code ?? 'refused')
  return { ready, late }
}

t.test('drain: SIGTERM with 60 requests and an upload in flight; all answered, /ready 503, new work 503 (not refused), exit 0', async t => {
  // the drain deadline is set far off so that only a defect, not a slow machine, cuts a request
  const gw = await spawnGateway({ LOCAL_LATENCY_BASE_MS: 300, BATCH_MAX_SIZE: 8, MAX_CONCURRENT_INVOCATIONS: 2, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 5, SHUTDOWN_TIMEOUT_MS: 30_000 })
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
  // an upload in flight too, held open until the checks below are done: the drain waits for it,
  // so they run while the gateway drains however fast the 60 are answered on this machine
  const upload = heldUpload(gw.url, JSON.stringify({ id: 1, text: 'An upload in flight at SIGTERM.' }))
  await new Promise(resolve => setTimeout(resolve, 200))
  const exited = new Promise<number | null>(resolve => gw.child.once('exit', code => { resolve(code) }))
  gw.child.kill('SIGTERM')
  // the listener stays open while in-flight requests drain (http/drain.ts), so a new connection
  // is answered, not refused: 503 SHUTTING_DOWN, no new work taken, while the 60 in flight and
  // the upload are all answered (below)
  const { ready, late } = await seenWhileDraining(gw.url)
  t.equal(ready, 503, '/ready is 503 while draining')
  t.equal(typeof late === 'string' ? late : late.status, 503, 'a new connection while draining: no new work, and no refusal')
  if (typeof late !== 'string') {
    t.equal((JSON.parse(late.text) as { code?: string }).code, 'SHUTTING_DOWN', 'with the catalog error shape')
    t.ok(Number(late.retryAfter) >= 1, 'and Retry-After')
  }
  const stored = await upload.finish(JSON.stringify({ id: 2, text: 'Its last line, sent while the gateway drains.' }))
  t.equal(stored.status, 201, 'the upload in flight at SIGTERM is finished and stored')
  const results = await Promise.all(inFlight)
  const stats = await gw.stats().catch(() => undefined)
  t.comment(`drain: ${results.filter(r => r.status === 200).length}/60 answered 200${stats === undefined ? '' : `, ${stats.items} items sent`}`)
  results.forEach((r, i) => {
    t.equal(r.status, 200, `request ${i}`)
    t.equal(r.body.summary, `Request ${i} is here.`)
  })
  t.equal(await exited, 0, 'exit code 0')
})

t.test('drain deadline: an upload still arriving is answered 503 SHUTTING_DOWN before SHUTDOWN_TIMEOUT_MS, then exit 0', async t => {
  // 3 s in all: the drain deadline is 2.25 s after SIGTERM (a reserve of a quarter)
  const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: 3000 })
  t.teardown(async () => { await gw.stop() })
  // an upload that has sent one line and waits (well inside its DATASET_RATE_WINDOW_MS grace)
  const upload = heldUpload(gw.url, JSON.stringify({ id: 1, text: 'The first line of a long upload.' }))
  const answered = upload.response.then(r => ({ ...r, at: performance.now() }), (err: NodeJS.ErrnoException) => ({ status: err.code ?? 'error', body: '', at: performance.now() }))
  // give the first line time to arrive
  await new Promise(resolve => setTimeout(resolve, 300))
  const exited = new Promise<{ code: number | null, at: number }>(resolve => gw.child.once('exit', code => { resolve({ code, at: performance.now() }) }))
  const signalled = performance.now()
  gw.child.kill('SIGTERM')
  const { ready, late } = await seenWhileDraining(gw.url)
  t.equal(ready, 503, '/ready is 503 while the upload holds the drain open')
  t.equal(typeof late === 'string' ? late : late.status, 503, 'a new connection meanwhile: 503, not refused')
  const answer = await answered
  const exit = await exited
  t.equal(answer.status, 503, 'the upload is answered')
  t.match(answer.body, /"code":"SHUTTING_DOWN"/)
  t.match(answer.body, /nothing was kept/)
  t.ok(answer.at <= exit.at, 'before the process exits')
  t.comment(`SIGTERM -> upload answered ${(answer.at - signalled).toFixed(0)} ms, exit ${(exit.at - signalled).toFixed(0)} ms`)
  t.equal(exit.code, 0, 'exit code 0: the drain ended in time, not by the backstop')
})
