import { closedLoop, lcg, quantile, setup } from '/work/main/test/helpers/batching.js'
import type { FlushPolicy } from '/work/main/src/batching/flush-policy.js'
const [policy, base, per, clients, tlo, thi, jit] = [process.argv[2] as FlushPolicy, ...process.argv.slice(3).map(Number)]
const sizes: number[] = []
const random = lcg(7)
const h = setup({ flushPolicy: policy, maxSize: 32, maxConcurrent: 4, maxWaitMs: 10, maxQueue: 10_000 },
  (req) => req.inputs.map((i) => [i]), (req) => { sizes.push(req.inputs.length); return base + per * req.inputs.length + (jit ?? 0) * random() })
const from = 3000; const end = 13000
const done = closedLoop(h, { clients, fromMs: from, endMs: end, transitMs: () => (random() < (Number(process.env.TAILP ?? 0)) ? Number(process.env.TAILMS ?? 40) * random() : 0) + tlo + (thi - tlo) * random() })
await h.clock.tickAsync(end + 3000)
const r = await done
const ceil = clients / (base + per * Math.min(32, Math.ceil(clients / 4)))
const hist: Record<number, number> = {}
for (const s of sizes.slice(sizes.length / 3)) hist[s] = (hist[s] ?? 0) + 1
console.log(`${policy} ${base}+${per}B c=${clients} transit ${tlo}-${thi}: ${(100 * r.ok / (end - from) / ceil).toFixed(1)}% p50 ${quantile(r.latencies, 0.5).toFixed(1)} p99 ${quantile(r.latencies, 0.99).toFixed(1)} sizes ${JSON.stringify(hist)}`)
