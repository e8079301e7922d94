// `npm run bench`: every benchmark in one run, ratios measured side by side, results written
// to bench/results/latest.json and bench/results/realtime.svg (the README shows both).
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { realtimeChart } from './chart.js'
import { runOverheadBench } from './overhead.js'
import { runPeerBench } from './peer.js'
import { readmeTable, runRealtimeBench } from './realtime.js'
import { runLogCostBench } from './log-cost.js'
import { runOpenLoopBench } from './open-loop.js'
import { runRougeBench } from './rouge.js'
import { runJobsBench } from './jobs.js'
import { runTgiBench } from './tgi.js'

// dist/bench/run.js -> <repo>/bench/results
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url))
const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean))
const wanted = (name: string): boolean => only.size === 0 || only.has(name)

await mkdir(RESULTS, { recursive: true })
// a partial run (BENCH_ONLY) replaces only its own sections of the last results
const previous = only.size === 0 ? {} : await readFile(`${RESULTS}latest.json`, 'utf8').then(t => JSON.parse(t) as Record<string, unknown>, () => ({}))
const results: Record<string, unknown> = { ...previous, startedAt: new Date().toISOString(), node: process.version }

if (wanted('realtime')) {
  console.log('realtime batching (three latency curves × 1, 2, 4, 8 slots, the endpoint its own process; share of its ceiling as measured directly in the same run, min(C, S) clients sending payloads of min(32, ⌈C/S⌉), and of the formula min(C, 32·S) / latency(min(32, ⌈C/S⌉)) beside it):')
  const realtime = await runRealtimeBench()
  results.realtime = realtime
  console.log('  share of the measured ceiling (of the formula; of one bare hop), p50 / p99 ms and p99/p50:')
  for (const [shape, modes] of Object.entries(realtime.runs)) {
    for (const [mode, levels] of Object.entries(modes)) {
      console.log(`  ${shape.padEnd(12)} ${mode.padEnd(10)} ` + levels.map(r => `c=${r.concurrency}: ${(100 * r.shareOfDirect).toFixed(1)}% (${(100 * r.shareOfCeiling).toFixed(1)}%; ${(100 * r.shareOfHop).toFixed(1)}%) ${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)} ${(r.p99Ms / r.p50Ms).toFixed(2)}x`).join('  '))
    }
  }
  console.log(`  summary ${JSON.stringify(realtime.summary)}`)
  console.log('  README table (paste under "Micro-batching"):')
  console.log(readmeTable(realtime))
  await writeFile(`${RESULTS}realtime.svg`, realtimeChart(realtime, realtime.setup.levels as number[]))
}
if (wanted('openloop')) {
  console.log('independent callers (Poisson arrivals at 30, 60 and 85% of capacity, from a load process of its own), the default policy against eager, per 4-slot shape:')
  const open = await runOpenLoopBench()
  results.openLoop = open
  for (const c of open.cells) console.log(`  ${c.shape.padEnd(12)} ${String(Math.round(100 * c.load)).padStart(3)}%  learned / eager: p50 ${c.p50Ratio.toFixed(2)}x, p99 ${c.p99Ratio.toFixed(2)}x`)
  console.log(`  worst: p50 ${open.summary.maxP50Ratio.toFixed(2)}x, p99 ${open.summary.maxP99Ratio.toFixed(2)}x`)
}
if (wanted('realtime') || wanted('logs')) {
  console.log('gateway CPU per request at the default LOG_LEVEL (info) and at warn (zero-latency endpoint, its own process, 32 clients, 3 s of unmeasured load each, then 6 rounds, each both levels back to back in alternating order):')
  const logs = await runLogCostBench()
  results.logCost = logs
  console.log(`  median ${logs.medianCpuUs.info.toFixed(0)} µs at info, ${logs.medianCpuUs.warn.toFixed(0)} µs at warn; info / warn per round ${logs.roundRatios.map(r => r.toFixed(3)).join(', ')}: median ${logs.ratio.toFixed(3)}, ratio of the medians ${logs.ratioOfMedians.toFixed(3)} (target <= 1.05)`)
}
if (wanted('overhead')) {
  console.log('overhead (zero-latency endpoint) vs a bare Fastify route with the same validation:')
  const overhead = await runOverheadBench()
  results.overhead = overhead
  console.log(`  ratio ${overhead.ratio.toFixed(3)} (gateway ${overhead.gatewayMedianPerSec.toFixed(0)} req/s / bare ${overhead.bareMedianPerSec.toFixed(0)} req/s)`)
  console.log(`  with a bare-HTTP invoker instead of the AWS SDK: ratio ${overhead.rawInvokerRatio.toFixed(3)} (${overhead.rawInvokerMedianPerSec.toFixed(0)} req/s)`)
  const cost = overhead.invokeCost
  console.log(`  gateway mean batch ${overhead.gatewayMeanBatch.toFixed(1)} items; client CPU per invocation of ${cost.items} items: ` +
    `gateway invoker (AWS SDK) ${cost.gatewayInvokerCpuUs.toFixed(0)} µs, bare HTTP POST ${cost.rawHttpCpuUs.toFixed(0)} µs ` +
    `(${(cost.gatewayInvokerCpuUs / cost.rawHttpCpuUs).toFixed(1)}×; ${((cost.gatewayInvokerCpuUs - cost.rawHttpCpuUs) / overhead.gatewayMeanBatch).toFixed(1)} µs per request)`)
}
if (wanted('peer')) {
  console.log('against peers: this gateway, @portkey-ai/gateway and a Ray Serve app (bench/ray/serve_app.py), each its own process tree, on the same local endpoint (another process), one load generator (another):')
  const peer = await runPeerBench()
  results.peer = peer
  const ray = peer.ray.version === undefined ? 'Ray Serve not measured' : `Ray ${peer.ray.version}${peer.ray.skipped !== undefined ? ', not on every shape' : ''}`
  console.log(`  side by side (Portkey ${peer.portkeyVersion}, ${ray}; ok responses per CPU-second of the server's process tree pooled over the rounds, mean req/s, mean p50 / worst p99 ms):`)
  for (const s of peer.summary) {
    console.log(`  ${s.shape.padEnd(7)} c=${String(s.concurrency).padStart(3)} ${s.gateway.padEnd(19)} ${s.okPerCpuSec.toFixed(0).padStart(6)} ok/CPU-s  ${s.throughputPerSec.toFixed(0).padStart(6)} req/s  ` +
      `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms  errors ${JSON.stringify(s.errors)}`)
  }
  for (const r of peer.ratios) {
    console.log(`  ${r.shape.padEnd(7)} c=${String(r.concurrency).padStart(3)} ${r.gateway} / ${r.peer}: ${r.okPerCpuSec.toFixed(2)}× per CPU-second, ${r.throughput.toFixed(2)}× throughput`)
  }
  if (peer.ray.skipped !== undefined) console.log(`  ${peer.ray.skipped}`)
}
if (wanted('tgi')) {
  console.log('a TGI endpoint at its limit (emulated continuous batching, its own process; saturation measured directly with MAX_CONCURRENT_REQUESTS clients; the gateway on /v1/generate at 8 to 512 clients; time to first token streamed through the gateway vs InvokeEndpointWithResponseStream directly):')
  const tgi = await runTgiBench()
  results.tgi = tgi
  console.log(`  saturation ${tgi.saturationPerSec.toFixed(1)} req/s directly; through the gateway (target >= 95% of saturation, 0 throttles passed):`)
  console.log('  clients | req/s | of saturation | of direct at min(C, MCR) | p50 ms | p99 ms | 429 passed | 5xx passed')
  for (const l of tgi.levels) {
    console.log(`  ${String(l.concurrency).padStart(7)} | ${l.throughputPerSec.toFixed(1).padStart(5)} | ${(100 * l.shareOfSaturation).toFixed(1).padStart(12)}% | ${(100 * l.shareOfDirectAtLevel).toFixed(1).padStart(23)}% | ${l.p50Ms.toFixed(0).padStart(6)} | ${l.p99Ms.toFixed(0).padStart(6)} | ${String(l.throttlesPassed).padStart(10)} | ${String(l.serverErrorsPassed).padStart(10)}`)
  }
  console.log(`  time to first token at 1 client: gateway ${tgi.ttft.gatewayP50Ms.toFixed(1)} ms, directly ${tgi.ttft.directP50Ms.toFixed(1)} ms (p50s): +${tgi.ttft.differenceP50Ms.toFixed(1)} ms (target <= 5)`)
}
if (wanted('rouge')) {
  console.log('ROUGE over the CNN/DailyMail lead-3 predictions:')
  results.rouge = await runRougeBench()
}
if (wanted('jobs')) {
  console.log('batch transform jobs on the local stack:')
  results.jobs = await runJobsBench()
}
results.finishedAt = new Date().toISOString()
await writeFile(`${RESULTS}latest.json`, JSON.stringify(results, null, 2) + '\n')
console.log(`results written to ${RESULTS}latest.json`)
