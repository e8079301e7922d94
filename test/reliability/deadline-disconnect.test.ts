import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

t.test('deadline and disconnect: expired and abandoned items are never sent (items counted at the endpoint)', async t => {
  const gw = await spawnGateway({ REQUEST_TIMEOUT_MS: 3000, LOCAL_LATENCY_BASE_MS: 2000, MAX_CONCURRENT_INVOCATIONS: 1, BATCH_MAX_SIZE: 1 })
  t.teardown(async () => { await gw.stop() })
  // warm up: code paths compiled, and the batcher has seen how long the endpoint takes
  t.equal((await post(`${gw.url}/v1/summarize`, { text: 'Warm-up.' })).status, 200)
  await gw.resetStats()
  // seconds, not milliseconds, so a busy machine's stalls do not decide the outcome: the warm-up
  // has a second to spare. One item holds the only slot for 2 s; 10 callers wait behind it and
  // give up after 100 ms
  const holder = post(`${gw.url}/v1/summarize`, { text: 'Holds the slot.' })
  await new Promise(resolve => setTimeout(resolve, 30))
  const controllers = Array.from({ length: 10 }, () => new AbortController())
  const leavers = controllers.map(async (c, i) => await post(`${gw.url}/v1/summarize`, { text: `Leaver ${i}.` }, c.signal))
  // 10 more wait and expire: the slot frees at 2 s with ~1 s of their 3 s left, less than the
  // endpoint's usual 2 s, so they are failed instead of sent
  const waiters = Array.from({ length: 10 }, async (_, i) => await post(`${gw.url}/v1/summarize`, { text: `Waiter ${i}.` }))
  await new Promise(resolve => setTimeout(resolve, 100))
  for (const c of controllers) c.abort()
  const held = await holder
  t.equal(held.status, 200, JSON.stringify(held.body))
  const gone = await Promise.all(leavers)
  t.ok(gone.every(r => r.status === -1), 'the leavers disconnected')
  const expired = await Promise.all(waiters)
  const statuses = expired.map(r => r.status)
  await new Promise(resolve => setTimeout(resolve, 2500))
  const stats = await gw.stats()
  t.comment(`deadline/disconnect: waiters ${JSON.stringify(statuses)}; endpoint items ${stats.items}`)
  t.ok(statuses.every(s => s === 504), 'every waiter got 504 DEADLINE_EXCEEDED')
  t.equal(stats.items, 1, 'only the holder reached the endpoint: 0 of 10 abandoned and 0 of 10 expired were sent')
})
