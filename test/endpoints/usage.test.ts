// Usage figures against hand-computed values: a job from fixed timestamps, and an endpoint on
// the local control plane driven by one fake clock (the control plane's and the service's), so
// every instant, and so every instance-second, is known.
import t from 'tap'
import { pino } from 'pino'
import { DEFAULT_PRICES, estimateCost, loadPriceTable } from '../../src/endpoints/prices.js'
import { jobUsage } from '../../src/endpoints/usage.js'
import { InvocationLedger } from '../../src/endpoints/invocations.js'
import { Endpoints } from '../../src/endpoints/service.js'
import { usageReport } from '../../src/endpoints/report.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const ADMIN = { id: 'ops', admin: true }
const HOUR = 3600_000

t.test('a job: TransformStartTime to TransformEndTime × instances, priced per hour', async t => {
  // 10:00:00 to 10:10:17 is 617 s; on 2 instances 1234 instance-seconds
  const u = jobUsage(DEFAULT_PRICES, { instanceType: 'ml.g5.2xlarge', instanceCount: 2, startMs: Date.parse('2025-06-01T10:00:00Z'), endMs: Date.parse('2025-06-01T10:10:17Z') }, Date.parse('2025-06-02T00:00:00Z'))
  // 1234 / 3600 × 1.515 = 0.519308… → 0.5193
  t.same(u, { instanceType: 'ml.g5.2xlarge', instanceCount: 2, instanceSeconds: 1234, estimatedCostUsd: 0.5193 })
  const running = jobUsage(DEFAULT_PRICES, { instanceType: 'ml.p3.2xlarge', instanceCount: 1, startMs: Date.parse('2025-06-01T10:00:00Z') }, Date.parse('2025-06-01T10:30:00Z'))
  // 1800 s × 3.825 / 3600 = 1.9125
  t.same(running, { instanceType: 'ml.p3.2xlarge', instanceCount: 1, instanceSeconds: 1800, estimatedCostUsd: 1.9125 }, 'a running job: until now')
  t.same(jobUsage(DEFAULT_PRICES, { instanceType: 'ml.g5.2xlarge', instanceCount: 1 }, Date.now()).instanceSeconds, 0, 'not started: 0')
  t.equal(estimateCost(DEFAULT_PRICES, 'ml.unknown.xlarge', 3600), null, 'no price: null, never a guess')
})

t.test('PRICES_FILE replaces the table; a bad one stops the boot naming the variable', async t => {
  const dir = await tempDir(t, 't2t-prices-')
  const good = join(dir, 'prices.json')
  await writeFile(good, JSON.stringify({ source: 'our negotiated rates', date: '2025-06-01', region: 'eu-west-1', hourlyUsd: { 'ml.g5.2xlarge': 1 } }))
  t.equal(estimateCost(loadPriceTable(good), 'ml.g5.2xlarge', 5400), 1.5)
  const bad = join(dir, 'bad.json')
  await writeFile(bad, JSON.stringify({ source: 'x', date: 'y', region: 'z', hourlyUsd: { 'ml.g5.2xlarge': -1 } }))
  t.throws(() => loadPriceTable(bad), /PRICES_FILE .*bad\.json/)
  t.throws(() => loadPriceTable(join(dir, 'missing.json')), /PRICES_FILE/)
})

t.test('an endpoint: InService time × instances across a scale, on a fake clock', async t => {
  let clock = Date.parse('2025-06-01T10:00:00Z')
  const now = (): number => clock
  const transition = 60_000
  const dir = await tempDir(t, 't2t-usage-')
  const { sm } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: transition }, { controlPlane: { now } })
  const invocations = new InvocationLedger(now)
  const endpoints = new Endpoints({ control: sm, prices: DEFAULT_PRICES, staticNames: ['flan-t5-local'], invocations, log: pino({ level: 'silent' }), cacheMs: 0, now })

  const { endpoint } = await endpoints.deploy(ADMIN, { name: 'metered', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.2xlarge', instanceCount: 1 })
  t.equal(endpoint.status, 'Creating')
  t.equal(endpoint.usage.instanceSeconds, 0, 'nothing billed before InService')
  clock += transition // InService at 10:01:00
  t.equal((await endpoints.get('metered')).status, 'InService')
  clock += HOUR // 11:01:00
  invocations.record('metered', 10)
  invocations.record('metered', 6)
  const hour = await endpoints.get('metered')
  // 3600 s × 1 instance; 3600 / 3600 × 1.515
  t.same(hour.usage, { instanceType: 'ml.g5.2xlarge', instanceCount: 1, instanceSeconds: 3600, estimatedCostUsd: 1.515, invocations: 2, items: 16, invocationsSaved: 14 })

  await endpoints.scale(ADMIN, 'metered', 3) // at 11:01:00
  clock += transition
  t.equal((await endpoints.get('metered')).instanceCount, 3)
  clock += 30 * 60_000 - transition // 11:31:00
  const after = await endpoints.get('metered')
  // 3600 s at 1 instance + 1800 s at 3 = 9000; 9000 / 3600 × 1.515 = 3.7875
  t.equal(after.usage.instanceSeconds, 9000)
  t.equal(after.usage.estimatedCostUsd, 3.7875)

  // a second replica (a restart, or another process) reads the same figures from the tags
  await endpoints.activity.writeCounts('metered')
  const replica = new Endpoints({ control: sm, prices: DEFAULT_PRICES, staticNames: ['flan-t5-local'], invocations: new InvocationLedger(now), log: pino({ level: 'silent' }), cacheMs: 0, now })
  t.same((await replica.get('metered')).usage, after.usage, 'the same usage on every replica')

  const report = await usageReport({ prices: DEFAULT_PRICES, now, endpoints: async (tenant) => await replica.list(tenant) }, ADMIN, { from: '2025-06-01T00:00:00Z' })
  t.same(report.endpoints.find(e => e.name === 'metered'), { name: 'metered', instanceType: 'ml.g5.2xlarge', instanceCount: 3, instanceSeconds: 9000, estimatedCostUsd: 3.7875, status: 'InService', invocations: 2, items: 16 })
  t.same(report.totals, { instanceSeconds: 9000, estimatedCostUsd: 3.7875, invocations: 2, items: 16, invocationsSaved: 14 })
  t.equal(report.from, '2025-06-01T00:00:00.000Z')
  t.equal(report.to, '2025-06-01T11:31:00.000Z')
  const tenantReport = await usageReport({ prices: DEFAULT_PRICES, now, endpoints: async (tenant) => await replica.list(tenant) }, { id: 'acme', admin: false }, {})
  t.same(tenantReport.endpoints, [], 'only admins see endpoints')
  await t.rejects(usageReport({ prices: DEFAULT_PRICES, now, endpoints: async () => [] }, ADMIN, { from: '2025-07-01T00:00:00Z', to: '2025-06-01T00:00:00Z' }), { code: 'INVALID_REQUEST', message: /querystring\.from/ })
})

t.test('a job over HTTP: its usage is its own start-to-end time × instances, also in /v1/usage', async t => {
  const { localApp } = await import('../helpers/local-app.js')
  const { app } = await localApp(t, { SHED_EVENT_LOOP_DELAY_MS: 0, LOCAL_LATENCY_BASE_MS: 20 })
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'metered-job', input: { records: [{ id: 1, text: 'A short one. Really.' }, { id: 2, text: 'Another. Fine.' }] }, resources: { instanceType: 'ml.p3.2xlarge', instanceCount: 2 } } })
  t.equal(res.statusCode, 202, res.body)
  let job = res.json()
  for (let i = 0; i < 200 && job.status === 'InProgress'; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    job = (await app.inject({ method: 'GET', url: '/v1/transform-jobs/metered-job' })).json()
  }
  t.equal(job.status, 'Completed')
  const seconds = (Date.parse(job.endedAt) - Date.parse(job.startedAt)) / 1000 * 2
  t.same(job.usage, { instanceType: 'ml.p3.2xlarge', instanceCount: 2, instanceSeconds: seconds, estimatedCostUsd: Math.round(seconds / 3600 * 3.825 * 10_000) / 10_000 })
  const usage = (await app.inject({ method: 'GET', url: '/v1/usage' })).json()
  t.same(usage.jobs, [{ name: 'metered-job', ...job.usage }])
  t.equal((await app.inject({ method: 'GET', url: '/v1/usage?from=2999-01-01T00:00:00Z&to=2999-01-02T00:00:00Z' })).json().jobs.length, 0, 'outside the window: none')
  t.equal((await app.inject({ method: 'GET', url: '/v1/usage?from=yesterday' })).statusCode, 400)
})

t.test('a tenant sees its own jobs and its own real-time calls; admins everyone\'s; another replica reads them back', async t => {
  const { localApp } = await import('../helpers/local-app.js')
  const { buildApp } = await import('../../src/app.js')
  const { app, stack, config } = await localApp(t, { API_KEYS: 'acme:acme-key,zeta:zeta-key', ADMIN_API_KEYS: 'ops:ops-key', AUTH_FAILURES_MAX: 0 })
  const as = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })
  const text = 'The ferry left at dawn. It reached the island by noon.'
  const job = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: as('acme-key'), payload: { name: 'acme-usage-job', input: { records: [{ id: 1, text }] } } })
  t.equal(job.statusCode, 202, job.body)
  let status = 'InProgress'
  for (let i = 0; i < 200 && status === 'InProgress'; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    status = (await app.inject({ method: 'GET', url: '/v1/transform-jobs/acme-usage-job', headers: as('acme-key') })).json().status
  }
  t.equal(status, 'Completed')
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', headers: as('acme-key'), payload: { text } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/v1/generate', headers: as('acme-key'), payload: { text_inputs: [text, text, text] } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/v1/summarize', headers: as('zeta-key'), payload: { text } })).statusCode, 200)

  const usage = async (target: typeof app, key: string, query = ''): Promise<{ jobs: Array<{ name: string }>, calls: unknown[], endpoints: unknown[] }> =>
    (await target.inject({ method: 'GET', url: `/v1/usage${query}`, headers: as(key) })).json()
  const acme = await usage(app, 'acme-key')
  t.same(acme.jobs.map(j => j.name), ['acme-usage-job'], 'its own job')
  t.same(acme.calls, [{ tenant: 'acme', endpoint: 'flan-t5-local', requests: 3, items: 5 }], 'its own calls: 3 requests, 5 inputs answered')
  t.same(acme.endpoints, [], 'endpoints (shared, every tenant\'s invocations) stay the admins\'')
  const zeta = await usage(app, 'zeta-key')
  t.same(zeta.jobs, [], 'another tenant: not acme\'s job')
  t.same(zeta.calls, [{ tenant: 'zeta', endpoint: 'flan-t5-local', requests: 1, items: 1 }], 'nor acme\'s calls')
  const ops = await usage(app, 'ops-key')
  t.same(ops.jobs.map(j => j.name), ['acme-usage-job'])
  t.same(ops.calls, [{ tenant: 'acme', endpoint: 'flan-t5-local', requests: 3, items: 5 }, { tenant: 'zeta', endpoint: 'flan-t5-local', requests: 1, items: 1 }], 'an admin: every tenant\'s calls')
  t.same((await usage(app, 'acme-key', '?from=2999-01-01T00:00:00Z&to=2999-01-02T00:00:00Z')).calls, [], 'outside the window: none')

  // the counts reach S3 when a replica closes (and once a minute); a new replica (or a restart) reports them
  await app.close()
  const replica = await buildApp(config, { aws: stack.awsTarget })
  t.teardown(async () => { await replica.close() })
  t.same((await usage(replica, 'acme-key')).calls, [{ tenant: 'acme', endpoint: 'flan-t5-local', requests: 3, items: 5 }], 'read back from S3 by another replica')
  t.same((await usage(replica, 'ops-key')).calls, ops.calls)
})

t.test('tenant calls: counted per UTC hour, an hour overlapping the window counts whole; days left behind are read back from S3', async t => {
  const { TenantCalls } = await import('../../src/endpoints/tenant-calls.js')
  const dir = await tempDir(t, 't2t-calls-')
  const { s3, stack } = await openLocalStack(t, dir)
  let clock = Date.parse('2025-06-01T10:30:00Z')
  const calls = new TenantCalls({ s3, bucket: stack.awsTarget.bucket as string, prefix: 'gw' }, () => clock)
  calls.record('acme', 'flan', 4) // 10:30
  clock = Date.parse('2025-06-01T12:05:00Z')
  calls.record('acme', 'flan', 1)
  const acme = { id: 'acme', admin: false }
  t.same(await calls.lines(acme, Date.parse('2025-06-01T10:59:00Z'), Date.parse('2025-06-01T11:30:00Z')), [{ tenant: 'acme', endpoint: 'flan', requests: 1, items: 4 }], 'the 10:00 hour overlaps the window')
  t.same(await calls.lines(acme, Date.parse('2025-06-01T11:00:00Z'), Date.parse('2025-06-01T11:59:59Z')), [], 'an hour without calls')
  await calls.flush()
  // three days on, the first day has left memory after the next flush; S3 still has it
  clock = Date.parse('2025-06-04T09:00:00Z')
  calls.record('acme', 'flan', 2)
  await calls.flush()
  t.same(await calls.lines(acme, Date.parse('2025-06-01T00:00:00Z'), clock), [{ tenant: 'acme', endpoint: 'flan', requests: 3, items: 7 }], 'every day, from S3 and memory, counted once')
})

t.test('tenant calls: a call counted while its day is being written is written by the next flush; flushes never overlap', async t => {
  const { TenantCalls } = await import('../../src/endpoints/tenant-calls.js')
  const { S3Client } = await import('@aws-sdk/client-s3')
  // writes end when the test says so; the last one to land is what S3 keeps
  const stored = new Map<string, string>()
  const writes: Array<{ land: () => void, fail: () => void }> = []
  const put = async (_s3: unknown, _bucket: string, key: string, body: string): Promise<void> => {
    await new Promise<void>((resolve, reject) => { writes.push({ land: () => { stored.set(key, body); resolve() }, fail: () => { reject(new Error('PutObject failed')) } }) })
  }
  const started = async (n: number): Promise<void> => { for (let i = 0; i < 50 && writes.length < n; i++) await new Promise(resolve => setImmediate(resolve)) }
  const requests = (): number | undefined => {
    const [body] = [...stored.values()]
    return body === undefined ? undefined : (JSON.parse(body) as { hours: Record<string, Record<string, { requests: number }>> }).hours['2025-06-01T10']?.flan?.requests
  }
  const clock = Date.parse('2025-06-01T10:30:00Z')
  const calls = new TenantCalls({ s3: new S3Client({ region: 'us-east-1' }), bucket: 'b', prefix: 'gw', put }, () => clock)

  calls.record('acme', 'flan', 1)
  const minute = calls.flush()
  await started(1)
  calls.record('acme', 'flan', 1) // during the write
  writes[0]?.land()
  await minute
  const close = calls.flush()
  await started(2)
  t.equal(writes.length, 2, 'the close flush writes the day again')
  writes[1]?.land()
  await close
  t.equal(requests(), 2, 'the call counted during the first write is in S3')

  // a flush asked for while one is writing waits for it: the older snapshot cannot land last
  calls.record('acme', 'flan', 1)
  const first = calls.flush()
  await started(3)
  calls.record('acme', 'flan', 1)
  const second = calls.flush()
  await started(4)
  t.equal(writes.length, 3, 'the second flush has not started writing while the first is in flight')
  writes[2]?.land()
  await started(4)
  writes[3]?.land()
  await Promise.all([first, second])
  t.equal(requests(), 4, 'the newest count landed last')

  // a failed write leaves the day to be written again
  calls.record('acme', 'flan', 1)
  const failing = calls.flush()
  await started(5)
  writes[4]?.fail()
  await t.rejects(failing)
  const retry = calls.flush()
  await started(6)
  t.equal(writes.length, 6, 'the day is written again after a failed write')
  writes[5]?.land()
  await retry
  t.equal(requests(), 5)
})
