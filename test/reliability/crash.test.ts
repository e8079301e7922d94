import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnGateway } from '../helpers/process.js'
import { post } from '../helpers/http.js'

const RECORDS = 60

t.test('crash: kill -9 mid transform job, start again; the job completes with every id once, in order', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-crash-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  // each model call of the job takes ~100 ms for 4 records: 15 calls, ~1.5 s of work
  const env = { LOCAL_LATENCY_BASE_MS: 60, LOCAL_LATENCY_PER_ITEM_MS: 10 }
  const first = await spawnGateway(env, dataDir)
  const records = Array.from({ length: RECORDS }, (_, i) => ({ id: `r${i}`, text: `Record ${i} opens here. It closes here.` }))
  const submitted = await post(`${first.url}/v1/transform-jobs`, { name: 'crash-test', input: { records }, prompt: '', parameters: { batch_size: 4 } })
  t.equal(submitted.status, 202, JSON.stringify(submitted.body))
  // wait until the job is part-way through, then pull the plug; SageMaker reports no progress
  // while a job runs, so the local runner's checkpoint (under LOCAL_DATA_DIR) is what tells
  let processed = 0
  const checkpoint = join(dataDir, 'jobs', 'crash-test', 'checkpoint.json')
  for (let i = 0; i < 100 && processed === 0; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    processed = await readFile(checkpoint, 'utf8').then(text => (JSON.parse(text) as { processed: number }).processed, () => 0)
  }
  first.child.kill('SIGKILL')
  await new Promise(resolve => first.child.once('exit', resolve))
  t.ok(processed > 0 && processed < RECORDS, `killed with ${processed} of ${RECORDS} records done`)

  const second = await spawnGateway(env, dataDir)
  t.teardown(async () => { await second.stop() })
  let status = 'InProgress'
  for (let i = 0; i < 200 && (status === 'InProgress' || status === 'Stopping'); i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    status = ((await (await fetch(`${second.url}/v1/transform-jobs/crash-test`)).json()) as { status: string }).status
  }
  t.equal(status, 'Completed')
  const res = await fetch(`${second.url}/v1/transform-jobs/crash-test/results`)
  t.equal(res.status, 200)
  const lines = (await res.text()).split('\n').filter(Boolean).map(l => JSON.parse(l) as { id: string, generated_texts?: string[] })
  t.same(lines.map(l => l.id), records.map(r => r.id), 'every id exactly once, in input order')
  lines.forEach((l, i) => { t.same(l.generated_texts, [`Record ${i} opens here. It closes here.`]) })
})
