import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { closedLoop, openLoop } from '../../bench/load.js'

// An endpoint that answers in lumps, as a micro-batching one does (every caller of a batch at
// once): the answers held are all released every 100 ms. Four closed-loop clients then get 40
// answers a second, whatever the window's phase; a count of the answers inside a 350 ms window,
// which holds 3 or 4 releases, says 34 or 46 by phase alone.
t.test("closedLoop's paceRatePerSec reads the rate of lumpy answers from each client's spacing", async t => {
  const held: ServerResponse[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { held.push(res) })
  })
  const release = setInterval(() => { for (const res of held.splice(0)) res.end('{}') }, 100)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    clearInterval(release)
    server.close()
  })
  const r = await closedLoop({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, concurrency: 4, durationMs: 350, warmupMs: 250, body: () => '{}' })
  t.ok(r.ok >= 8, `answers inside the window: ${r.ok}`)
  // within 10% of 40/s (timers on a busy machine run late now and then); the count is 14% off
  t.ok(Math.abs(r.paceRatePerSec - 40) < 4, `pace ${r.paceRatePerSec.toFixed(1)}/s against 40/s (count ${r.throughputPerSec.toFixed(1)}/s)`)
})

t.test('paceRatePerSec is NaN where a client had a single answer in the window (not a rate)', async t => {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { setTimeout(() => res.end('{}'), 400) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const r = await closedLoop({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, concurrency: 2, durationMs: 500, warmupMs: 200, body: () => '{}' })
  t.equal(r.ok, 2)
  t.ok(Number.isNaN(r.paceRatePerSec))
})

// The open-loop bench stands for independent callers only if arrivals do not wait for answers:
// against an endpoint that holds every request 200 ms, 100 requests a second keep about 20 in
// flight (one closed-loop client would keep 1 and send 5 a second), and every request sent in
// the window is counted however long its answer takes.
t.test('openLoop sends at its rate whatever the answers take, and counts every request sent in the window', async t => {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { setTimeout(() => res.end('{}'), 200) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const r = await openLoop({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, ratePerSec: 100, durationMs: 2000, warmupMs: 300, body: i => `{"i":${i}}` })
  // a Poisson count over 2 s at 100/s: 200 ± 14 (4 standard deviations: ± 57)
  t.ok(Math.abs(r.ok - 200) <= 57, `${r.ok} answered in the window`)
  t.same(r.errors, {})
  t.ok(r.concurrency >= 10, `at most ${r.concurrency} in flight at once`)
  t.ok(r.p50Ms >= 200 && r.p50Ms < 400, `p50 ${r.p50Ms.toFixed(0)} ms`)
})
