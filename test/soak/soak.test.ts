import t from 'tap'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

// `npm run test:reliability` runs this for SOAK_MS (default 10 minutes): steady load, samples of
// the gateway's RSS, file descriptors, handles and timers, compared early against late.
const SOAK_MS = Number(process.env.SOAK_MS ?? 600_000)
const CLIENTS = 8

function metric (text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop())
  return sum
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

t.test(`soak: ${SOAK_MS / 1000} s of steady load; no growth in RSS, descriptors, handles or timers`, { timeout: SOAK_MS + 120_000 }, async t => {
  const gw = await spawnGateway({ LOCAL_LATENCY_BASE_MS: 20, LOCAL_LATENCY_PER_ITEM_MS: 1, LOG_LEVEL: 'warn' })
  t.teardown(async () => { await gw.stop() })
  const samples: Array<{ at: number, rss: number, heap: number, fds: number, handles: number, timers: number }> = []
  const statuses: Record<string, number> = {}
  const end = Date.now() + SOAK_MS
  let n = 0
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      const i = n++
      const r = i % 50 === 0
        ? await post(`${gw.url}/v1/evaluate`, { predictions: [{ id: i, text: 'a b c d' }], references: [{ id: i, text: 'a b c e' }] })
        : await post(`${gw.url}/v1/generate`, { text_inputs: i % 3 === 0 ? [`Item ${i} one.`, `Item ${i} two.`] : `Item ${i}. Second sentence.`, max_length: 1 + (i % 7) })
      statuses[r.status] = (statuses[r.status] ?? 0) + 1
    }
  })
  const sampler = (async () => {
    while (Date.now() < end) {
      await new Promise(resolve => setTimeout(resolve, Math.min(5000, SOAK_MS / 40)))
      const metrics = await (await fetch(`${gw.url}/metrics`)).text()
      samples.push({
        at: Date.now(),
        rss: await gw.rss(),
        heap: metric(metrics, 't2t_process_nodejs_heap_size_used_bytes'),
        fds: await gw.fds(),
        handles: metric(metrics, 't2t_process_nodejs_active_handles_total'),
        timers: metric(metrics, 't2t_process_nodejs_active_resources{type="Timeout"}')
      })
    }
  })()
  await Promise.all([...clients, sampler])
  // the first 20% is warm-up (JIT, pools filling); compare the next 20% with the last 20%
  const k = Math.max(1, Math.floor(samples.length / 5))
  const early = samples.slice(k, 2 * k)
  const late = samples.slice(-k)
  const mib = (b: number): number => Math.round(b / 2 ** 20)
  const report = {
    requests: n,
    statuses,
    samples: samples.length,
    // one point per ~10% of the run, to tell a plateau from a slope
    rssSeriesMiB: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0).map(s => mib(s.rss)),
    heapSeriesMiB: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0).map(s => mib(s.heap)),
    rssMiB: { early: mib(median(early.map(s => s.rss))), late: mib(median(late.map(s => s.rss))), max: mib(Math.max(...samples.map(s => s.rss))) },
    fds: { early: Math.max(...early.map(s => s.fds)), late: Math.max(...late.map(s => s.fds)) },
    handles: { early: Math.max(...early.map(s => s.handles)), late: Math.max(...late.map(s => s.handles)) },
    timers: { early: Math.max(...early.map(s => s.timers)), late: Math.max(...late.map(s => s.timers)) }
  }
  t.comment(`soak: ${JSON.stringify(report)}`)
  t.equal(Object.keys(statuses).filter(s => s !== '200').length, 0, 'every request got 200')
  t.ok(report.rssMiB.late - report.rssMiB.early <= Math.max(20, report.rssMiB.early * 0.15), `RSS ${report.rssMiB.early} -> ${report.rssMiB.late} MiB`)
  t.ok(report.fds.late <= report.fds.early + 10, `descriptors ${report.fds.early} -> ${report.fds.late}`)
  t.ok(report.handles.late <= report.handles.early + 10, `handles ${report.handles.early} -> ${report.handles.late}`)
  t.ok(report.timers.late <= report.timers.early + 10, `timers ${report.timers.early} -> ${report.timers.late}`)
})
