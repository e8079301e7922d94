// Tenants cannot see each other: jobs and datasets belong to the tenant whose key made them;
// another tenant gets 404 (never 403: names do not leak), lists show one's own, idempotency
// keys are scoped per tenant, and a job may read only its own tenant's datasets inside the
// gateway's prefix. Admins see everything.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { localApp } from '../helpers/local-app.js'

type Json = Record<string, unknown>
const KEYS = { API_KEYS: 'acme:acme-key,beta:beta-key-1,beta:beta-key-2', ADMIN_API_KEYS: 'ops:ops-key' }
const as = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

async function call (app: FastifyInstance, key: string, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: Json }> {
  const res = await app.inject({ method, url, headers: { ...as(key), ...headers }, ...(payload !== undefined ? { payload: payload as Json } : {}) })
  return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? res.json<Json>() : { text: res.body } }
}

async function upload (app: FastifyInstance, key: string, lines: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { ...as(key), 'content-type': 'application/x-ndjson' }, payload: lines })
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`)
  return res.json<{ s3Uri: string }>().s3Uri
}

t.test('jobs and datasets are owned by the tenant that made them', async t => {
  const { app } = await localApp(t, KEYS)
  const records = [{ id: 1, text: 'The mill reopened on Monday. Forty people work there.' }]
  const references = { records: [{ id: 1, text: 'The mill reopened.' }] }

  const created = await call(app, 'acme-key', 'POST', '/v1/transform-jobs', { name: 'acme-job', input: { records }, references })
  t.equal(created.status, 202)
  t.equal(created.body.owner, 'acme', 'the job names its owner')
  t.equal((await app.inject({ url: '/v1/transform-jobs/acme-job' })).statusCode, 401, 'no key, no job')
  t.equal(await waitForJobAs(app, 'acme-key', 'acme-job'), 'Completed')

  // beta, with either of its keys: 404 on every job route, nothing in its list
  for (const key of ['beta-key-1', 'beta-key-2']) {
    for (const [method, url, payload] of [
      ['GET', '/v1/transform-jobs/acme-job'],
      ['POST', '/v1/transform-jobs/acme-job/stop', {}],
      ['GET', '/v1/transform-jobs/acme-job/results'],
      ['POST', '/v1/transform-jobs/acme-job/evaluation', {}]
    ] as Array<['GET' | 'POST', string, unknown]>) {
      const res = await call(app, key, method, url, payload)
      t.equal(res.status, 404, `${key}: ${method} ${url} is 404`)
      t.equal(res.body.code, 'JOB_NOT_FOUND')
    }
    t.same((await call(app, key, 'GET', '/v1/transform-jobs')).body.jobs, [], `${key} lists none of acme's jobs`)
  }
  // the name is SageMaker's, account-wide: beta cannot take it, and learns nothing else
  const clash = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs', { name: 'acme-job', input: { records } })
  t.equal(clash.status, 409)
  t.notMatch(JSON.stringify(clash.body), /acme"|mill/, 'the conflict does not say whose job it is')

  // acme itself and the admin see it
  t.same(((await call(app, 'acme-key', 'GET', '/v1/transform-jobs')).body.jobs as Json[]).map(j => j.name), ['acme-job'])
  const admin = await call(app, 'ops-key', 'GET', '/v1/transform-jobs/acme-job')
  t.equal(admin.status, 200, 'an admin reads any tenant\'s job')
  t.equal(admin.body.owner, 'acme')
  t.same(((await call(app, 'ops-key', 'GET', '/v1/transform-jobs')).body.jobs as Json[]).map(j => j.name), ['acme-job'], 'an admin lists every tenant\'s jobs')
  t.equal((await call(app, 'acme-key', 'GET', '/v1/transform-jobs/acme-job/results')).status, 200)
  t.equal((await call(app, 'acme-key', 'POST', '/v1/transform-jobs/acme-job/evaluation', {})).status, 200)
})

t.test('idempotency keys are scoped per tenant', async t => {
  const { app } = await localApp(t, KEYS)
  const body = { input: { records: [{ id: 1, text: 'Same request from two tenants.' }] } }
  const a = await call(app, 'acme-key', 'POST', '/v1/transform-jobs', body, { 'idempotency-key': 'order-1' })
  const b = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs', body, { 'idempotency-key': 'order-1' })
  t.equal(a.status, 202)
  t.equal(b.status, 202)
  t.not(a.body.name, b.body.name, 'two tenants, one key: two jobs')
  t.equal(b.body.owner, 'beta')
  const again = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { ...as('beta-key-2'), 'idempotency-key': 'order-1' }, payload: body })
  t.equal(again.json().name, b.body.name, 'the same tenant (another of its keys) replays its own job')
  t.equal(again.headers['idempotent-replayed'], 'true')
})

t.test('a job reads only its own tenant\'s datasets inside the gateway\'s prefix', async t => {
  const { app } = await localApp(t, KEYS)
  const acmeData = await upload(app, 'acme-key', '{"id":1,"text":"Acme private article. Second sentence."}\n')
  const betaData = await upload(app, 'beta-key-1', '{"id":1,"text":"Beta article. Second sentence."}\n')
  t.match(acmeData, /\/datasets\/acme\//, 'stored under the tenant')
  t.match(betaData, /\/datasets\/beta\//)
  const sameContent = await upload(app, 'beta-key-1', '{"id":1,"text":"Acme private article. Second sentence."}\n')
  t.not(sameContent, acmeData, 'equal content from two tenants: two datasets')

  const root = acmeData.replace(/datasets\/.*$/, '')
  for (const uri of [acmeData, root, root.replace(/\/$/, ''), `${root}datasets/`, `${root}datasets/acme`, `${root}jobs/`, `${root}dataset-info/acme/`]) {
    const res = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs', { input: { s3Uri: uri } })
    t.equal(res.status, 400, `beta cannot read ${uri}`)
    t.equal(res.body.code, 'S3_URI_NOT_ALLOWED')
    const refs = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs', { input: { s3Uri: betaData }, references: { s3Uri: uri } })
    t.equal(refs.body.code, 'S3_URI_NOT_ALLOWED', `nor use ${uri} as references`)
  }
  const own = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs', { name: 'beta-own', input: { s3Uri: betaData }, references: { s3Uri: betaData } })
  t.equal(own.status, 202, 'its own dataset is fine')
  const admin = await call(app, 'ops-key', 'POST', '/v1/transform-jobs', { name: 'ops-any', input: { s3Uri: acmeData } })
  t.equal(admin.status, 202, 'an admin may read any dataset')
  const ended = await waitForJobAs(app, 'beta-key-1', 'beta-own')
  t.equal(ended, 'Completed')
  const evalOther = await call(app, 'beta-key-1', 'POST', '/v1/transform-jobs/beta-own/evaluation', { references: { s3Uri: acmeData } })
  t.equal(evalOther.body.code, 'S3_URI_NOT_ALLOWED', 'evaluation references are checked the same way')
})

t.test('without keys there is one tenant, and it sees what it made', async t => {
  const { app } = await localApp(t)
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'solo', input: { records: [{ id: 1, text: 'Alone.' }] } } })
  t.equal(res.json().owner, 'default')
  t.equal((await app.inject({ url: '/v1/transform-jobs/solo' })).statusCode, 200)
})

async function waitForJobAs (app: FastifyInstance, key: string, name: string): Promise<unknown> {
  for (let i = 0; i < 600; i++) {
    const job = (await call(app, key, 'GET', `/v1/transform-jobs/${name}`)).body
    if (job.status !== 'InProgress' && job.status !== 'Stopping') return job.status
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return 'timeout'
}
