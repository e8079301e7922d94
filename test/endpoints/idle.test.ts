// Tear-down after use: an endpoint with idleDeleteAfterMinutes is deleted once nobody invoked
// it for that long, judged by its last-invoked tag (every replica's invocations), on a fake
// clock; then once for real: a gateway's own sweeper timer against the local stack.
import t from 'tap'
import { pino } from 'pino'
import { AddTagsCommand, DescribeEndpointCommand } from '@aws-sdk/client-sagemaker'
import { DEFAULT_PRICES } from '../../src/endpoints/prices.js'
import { InvocationLedger } from '../../src/endpoints/invocations.js'
import { Endpoints } from '../../src/endpoints/service.js'
import { TAG } from '../../src/endpoints/tags.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'
import { localApp } from '../helpers/local-app.js'

const ADMIN = { id: 'ops', admin: true }
const MINUTE = 60_000

t.test('idle tear-down on a fake clock, across two replicas', async t => {
  let clock = Date.parse('2025-06-01T10:00:00Z')
  const now = (): number => clock
  const dir = await tempDir(t, 't2t-idle-')
  const { sm, stack } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 1000 }, { controlPlane: { now } })
  const replica = (onIdleDelete?: (name: string) => void): { endpoints: Endpoints, ledger: InvocationLedger } => {
    const ledger = new InvocationLedger(now)
    return { ledger, endpoints: new Endpoints({ control: sm, prices: DEFAULT_PRICES, staticNames: ['flan-t5-local'], invocations: ledger, log: pino({ level: 'silent' }), cacheMs: 0, now, ...(onIdleDelete !== undefined ? { onIdleDelete } : {}) }) }
  }
  const deletedBy: string[] = []
  const a = replica((name) => { deletedBy.push(`a:${name}`) })
  const b = replica((name) => { deletedBy.push(`b:${name}`) })

  await a.endpoints.deploy(ADMIN, { name: 'short-lived', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge', idleDeleteAfterMinutes: 5 })
  await a.endpoints.deploy(ADMIN, { name: 'kept', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge' })
  clock += 1000 // both InService at 10:00:01
  t.same(await a.endpoints.sweeper.sweep(), [], 'just InService: not idle')

  clock += 4 * MINUTE // 10:04:01: b serves it, and writes its last-invoked tag
  b.ledger.record('short-lived', 3)
  await b.endpoints.activity.writeCounts('short-lived')
  clock += 4 * MINUTE // 10:08:01: 8 min since InService, but only 4 since b's invocation
  t.same(await a.endpoints.sweeper.sweep(), [], 'another replica\'s invocation keeps it')
  clock += MINUTE + 1 // 10:09:02: 5 min and 1 s since the last invocation
  t.same(await a.endpoints.sweeper.sweep(), ['short-lived'], 'idle for 5 minutes: deleted')
  t.same(await b.endpoints.sweeper.sweep(), [], 'the other replica agrees (it finds it Deleting)')
  t.same(deletedBy, ['a:short-lived'], 'deleted once, counted once')
  t.equal(stack.jobs.resources.doc.endpoints['short-lived']?.status, 'Deleting')
  clock += 2000
  await t.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: 'short-lived' })), { name: 'ValidationException' }, 'gone')
  t.equal((await a.endpoints.get('kept')).status, 'InService', 'an endpoint without idleDeleteAfterMinutes stays')

  // this replica's own invocation that was not written yet counts too
  await a.endpoints.deploy(ADMIN, { name: 'busy', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge', idleDeleteAfterMinutes: 2 })
  clock += 1000
  await a.endpoints.get('busy')
  clock += 90_000
  a.ledger.take('busy')
  a.ledger.record('busy', 1) // 90 s after InService, not yet written to tags (the refresh is at most once a minute)
  clock += 60_000 // 150 s after InService, 60 s after the invocation
  t.same(await a.endpoints.sweeper.sweep(), [], 'a local invocation not yet written counts')
})

t.test('for real: the gateway\'s sweeper deletes an idle endpoint and counts it', async t => {
  const { app, stack } = await localApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 100, ENDPOINT_SWEEP_INTERVAL_MS: 100, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0 })
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'idle-real', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge', idleDeleteAfterMinutes: 2 } })
  t.equal(res.statusCode, 202, res.body)
  for (let i = 0; i < 100 && (await app.inject({ method: 'GET', url: '/v1/endpoints/idle-real' })).json().status !== 'InService'; i++) await new Promise(resolve => setTimeout(resolve, 50))
  const served = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Used once. Then left alone.', model: 'idle-real' } })
  t.equal(served.statusCode, 200, served.body)
  await new Promise(resolve => setTimeout(resolve, 400))
  t.equal((await app.inject({ method: 'GET', url: '/v1/endpoints/idle-real' })).json().status, 'InService', 'used a moment ago: kept through several sweeps')

  // three minutes pass, as far as the endpoint's state says: its tags are what every replica reads
  const sm = stack.jobs.resources.doc.endpoints['idle-real']
  t.ok(sm !== undefined)
  const longAgo = new Date(Date.now() - 3 * MINUTE).toISOString()
  const arn = sm?.arn ?? ''
  stack.jobs.resources.doc.endpoints['idle-real'] = { ...(sm as NonNullable<typeof sm>), modifiedAt: Date.now() - 3 * MINUTE }
  const { createControlClient } = await import('../../src/sagemaker/clients.js')
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  // this replica's invocation not yet written is written first, then backdated with the rest
  await app.endpoints.activity.writeCounts('idle-real')
  await control.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: TAG.lastInvokedAt, Value: longAgo }, { Key: TAG.billedSince, Value: longAgo }] }))
  let status: string | undefined
  for (let i = 0; i < 60; i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    status = stack.jobs.resources.doc.endpoints['idle-real']?.status
    // the sweep is done once the config (deleted after the endpoint) is gone
    if (status !== 'InService' && stack.jobs.resources.doc.endpointConfigs['idle-real'] === undefined) break
  }
  t.ok(status === 'Deleting' || status === undefined, `the sweeper deleted it (${status ?? 'gone'})`)
  t.equal(stack.jobs.resources.doc.endpointConfigs['idle-real'], undefined, 'its config too')
  await new Promise(resolve => setTimeout(resolve, 50))
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /t2t_endpoints_idle_deleted_total 1/)
  t.match(metrics.body, /t2t_endpoint_items_total\{endpoint="idle-real"\} 1/)
})
