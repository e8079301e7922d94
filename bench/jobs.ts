import { createReadStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { startGateway, type GatewayProcess } from './gateway-process.js'
import { sharedData } from './shared-data.js'

/** Wall time of each stage (ms) and the gateway's memory. */
export interface JobsBench {
  cnn?: { records: number, stagesMs: Record<string, number>, peakRssMiB: number, rouge: Record<string, number> }
  synthetic: { records: number, stagesMs: Record<string, number>, rssBeforeResultsMiB: number, maxRssDuringResultsMiB: number, resultsRssGrowthMiB: number, resultLines: number }
}

async function rssBytes (pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024
}

const MiB = (b: number): number => Math.round(b / 2 ** 20)

/** Streams an async iterable of lines to POST /v1/datasets; returns its s3Uri. */
async function upload (gw: GatewayProcess, lines: AsyncIterable<string> | Iterable<string>, prompt?: string): Promise<{ s3Uri: string, records: number }> {
  const body = Readable.from((async function * () { for await (const line of lines) yield line + '\n' })())
  const query = prompt === undefined ? '' : `?prompt=${encodeURIComponent(prompt)}`
  const res = await fetch(`${gw.url}/v1/datasets${query}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Readable.toWeb(body) as ReadableStream, duplex: 'half' } as RequestInit)
  const json = await res.json() as { s3Uri: string, records: number, message?: string }
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${json.message ?? ''}`)
  return json
}

async function postJson (url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await res.json() as Record<string, unknown>
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function waitDone (gw: GatewayProcess, name: string): Promise<string> {
  for (;;) {
    const job = await (await fetch(`${gw.url}/v1/transform-jobs/${name}`)).json() as { status: string, failureReason?: string }
    if (job.status !== 'InProgress' && job.status !== 'Stopping') {
      if (job.status !== 'Completed') throw new Error(`job ${name} ended ${job.status}: ${job.failureReason ?? ''}`)
      return job.status
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Reads the results stream to the end, sampling the gateway's RSS meanwhile. */
async function drainResults (gw: GatewayProcess, name: string): Promise<{ lines: number, maxRss: number }> {
  const pid = gw.child.pid as number
  let maxRss = 0
  const sampler = setInterval(() => { void rssBytes(pid).then(r => { maxRss = Math.max(maxRss, r) }) }, 50)
  const res = await fetch(`${gw.url}/v1/transform-jobs/${name}/results`)
  let lines = 0
  const reader = res.body?.getReader()
  for (;;) {
    const chunk = await reader?.read()
    if (chunk === undefined || chunk.done === true) break
    for (const byte of chunk.value) if (byte === 10) lines++
  }
  clearInterval(sampler)
  maxRss = Math.max(maxRss, await rssBytes(pid))
  return { lines, maxRss }
}

const time = async <T>(stages: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> => {
  const started = performance.now()
  const out = await fn()
  stages[name] = Math.round(performance.now() - started)
  process.stdout.write(`    ${name}: ${stages[name]} ms\n`)
  return out
}

async function * jsonlField (path: string, pick: (row: { id: number, article: string, highlights: string }) => unknown): AsyncIterable<string> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line.trim() === '') continue
    yield JSON.stringify(pick(JSON.parse(line) as { id: number, article: string, highlights: string }))
  }
}

/** CNN/DailyMail 4,490 articles end to end, and a synthetic 100,000-record job's results stream. */
export async function runJobsBench (syntheticRecords = Number(process.env.BENCH_SYNTHETIC_RECORDS ?? 100_000)): Promise<JobsBench> {
  const gw = await startGateway({ LOG_LEVEL: 'warn' })
  const pid = gw.child.pid as number
  const out: Partial<JobsBench> = {}
  try {
    const cnnPath = sharedData('cnn_dailymail', 'test-4490.jsonl')
    if (existsSync(cnnPath)) {
      process.stdout.write('  CNN/DailyMail test-4490 (upload, run, results, evaluation):\n')
      const stages: Record<string, number> = {}
      const input = await time(stages, 'upload articles', async () => await upload(gw, jsonlField(cnnPath, r => ({ id: r.id, text: r.article })), 'Briefly summarize this text: '))
      const refs = await time(stages, 'upload references', async () => await upload(gw, jsonlField(cnnPath, r => ({ id: r.id, text: r.highlights }))))
      await time(stages, 'submit', async () => await postJson(`${gw.url}/v1/transform-jobs`, { name: 'bench-cnn', input: { s3Uri: input.s3Uri }, references: { s3Uri: refs.s3Uri }, parameters: { batch_size: 16 } }))
      await time(stages, 'run to Completed', async () => await waitDone(gw, 'bench-cnn'))
      const results = await time(stages, 'results', async () => await drainResults(gw, 'bench-cnn'))
      const evaluation = await time(stages, 'evaluation', async () => await postJson(`${gw.url}/v1/transform-jobs/bench-cnn/evaluation`, {})) as { scores: Record<string, { fmeasure: number }> }
      const rouge = Object.fromEntries(Object.entries(evaluation.scores).map(([k, v]) => [k, Math.round(v.fmeasure * 10000) / 100]))
      out.cnn = { records: results.lines, stagesMs: stages, peakRssMiB: MiB(await rssBytes(pid, 'VmHWM')), rouge }
      process.stdout.write(`    ${results.lines} results, ROUGE F ${JSON.stringify(rouge)}, gateway peak RSS ${out.cnn.peakRssMiB} MiB\n`)
    } else {
      process.stdout.write(`  skipped CNN/DailyMail job: ${cnnPath} is absent\n`)
    }
    process.stdout.write(`  synthetic ${syntheticRecords.toLocaleString('en')}-record job:\n`)
    const stages: Record<string, number> = {}
    const filler = 'The committee met again on Thursday. Members argued about the schedule. A decision is expected next month.'
    const input = await time(stages, 'upload', async () => await upload(gw, (function * () { for (let i = 0; i < syntheticRecords; i++) yield JSON.stringify({ id: `s${i}`, text: `${i}. ${filler}` }) })()))
    await time(stages, 'submit', async () => await postJson(`${gw.url}/v1/transform-jobs`, { name: 'bench-synthetic', input: { s3Uri: input.s3Uri }, parameters: { batch_size: 64 } }))
    await time(stages, 'run to Completed', async () => await waitDone(gw, 'bench-synthetic'))
    const before = await rssBytes(pid)
    const results = await time(stages, 'results', async () => await drainResults(gw, 'bench-synthetic'))
    out.synthetic = {
      records: syntheticRecords,
      stagesMs: stages,
      rssBeforeResultsMiB: MiB(before),
      maxRssDuringResultsMiB: MiB(results.maxRss),
      resultsRssGrowthMiB: MiB(results.maxRss - before),
      resultLines: results.lines
    }
    process.stdout.write(`    ${results.lines} result lines; gateway RSS ${MiB(before)} MiB before, ${MiB(results.maxRss)} MiB at most while streaming (growth ${out.synthetic.resultsRssGrowthMiB} MiB)\n`)
  } finally {
    await gw.stop()
  }
  return out as JobsBench
}
