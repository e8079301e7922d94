import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { pool, post } from '../helpers/http.js'

// 30% throttling and 5% 5xx from the endpoint: the batcher's retries must absorb them
t.test('faults: 2,000 requests at concurrency 64 under 30% throttling and 5% 5xx', async t => {
  const gw = await spawnGateway({
    LOCAL_FAULT_THROTTLE_RATE: 0.3,
    LOCAL_FAULT_ERROR_RATE: 0.05,
    LOCAL_LATENCY_BASE_MS: 10,
    LOCAL_LATENCY_PER_ITEM_MS: 1,
    RETRY_BASE_MS: 10,
    RETRY_CAP_MS: 200,
    RETRY_MAX_ATTEMPTS: 8,
    QUEUE_MAX_SIZE: 5000
  })
  t.teardown(async () => { await gw.stop() })
  const results = await pool(2000, 64, async i => await post(`${gw.url}/v1/summarize`, { text: `Request ${i} arrived. It carries a second sentence.`, prompt: '' }))
  const byStatus: Record<string, number> = {}
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1
  const ok = byStatus['200'] ?? 0
  const wrong = results.filter((r, i) => r.status === 200 && r.body.summary !== `Request ${i} arrived. It carries a second sentence.`).length
  const stats = await gw.stats()
  t.comment(`faults: statuses ${JSON.stringify(byStatus)}; endpoint outcomes ${JSON.stringify(stats.outcomes)}; invocations ${stats.invocations}; RSS ${Math.round(await gw.rss() / 2 ** 20)} MiB`)
  t.equal(results.length, 2000, 'every request answered')
  t.notOk(byStatus['-1'], 'no connection dropped')
  t.notOk(byStatus['500'], 'no 500')
  t.ok(ok >= 1980, `${ok} of 2000 got 200 (>= 99%)`)
  t.equal(wrong, 0, 'every 200 carries its own text')
  t.ok((stats.outcomes.throttled ?? 0) > 0, 'throttles really happened')
})
