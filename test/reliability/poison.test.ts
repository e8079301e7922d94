import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

t.test('poison: one poisoned input among 32 concurrent callers fails alone, in at most 2·log2(32)+2 invocations', async t => {
  const gw = await spawnGateway({ LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON', BATCH_MAX_SIZE: 32, BATCH_FLUSH_POLICY: 'wait', BATCH_MAX_WAIT_MS: 3000 })
  // the batch flushes as soon as it holds 32: the long wait costs nothing on a quiet machine and
  // lets 32 callers arrive into one payload on a busy one
  t.teardown(async () => { await gw.stop() })
  await gw.resetStats()
  const results = await Promise.all(Array.from({ length: 32 }, async (_, i) =>
    await post(`${gw.url}/v1/summarize`, { text: i === 17 ? 'This text is POISON to the model.' : `Caller ${i} is healthy.`, prompt: '' })))
  results.forEach((r, i) => {
    if (i === 17) {
      t.equal(r.status, 502)
      t.equal(r.body.code, 'MODEL_ERROR')
    } else {
      t.equal(r.status, 200)
      t.equal(r.body.summary, `Caller ${i} is healthy.`)
    }
  })
  const stats = await gw.stats()
  t.comment(`poison: ${stats.invocations} invocations, batch sizes ${JSON.stringify(stats.batchSizes)}`)
  t.equal(stats.batchSizes[0], 32, 'all 32 shared the first payload')
  t.ok(stats.invocations <= 2 * Math.log2(32) + 2, `${stats.invocations} invocations <= 12`)
})
