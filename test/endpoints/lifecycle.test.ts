// Deploy → use as `model` → scale → delete over HTTP against the local stack: the contract of
// "Endpoints and usage" in API.md, judged by status codes and bodies a client sees.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { localApp } from '../helpers/local-app.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const CONTAINER = {
  image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04',
  modelDataUrl: 's3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.0.2/infer-prepack-huggingface-text2text-flan-t5-xl.tar.gz',
  role: ROLE,
  environment: { SAGEMAKER_PROGRAM: 'inference.py' }
}
const TRANSITION_MS = 1500

async function waitFor (app: FastifyInstance, name: string, status: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const res = await app.inject({ method: 'GET', url: `/v1/endpoints/${name}` })
    const body = res.json<Record<string, unknown>>()
    if (body.status === status) return body
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${name} never reached ${status}`)
}

t.test('deploy from a container, summarise through it, scale, delete: each step as the contract says', async t => {
  const { app, stack } = await localApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: TRANSITION_MS, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0 })
  const body = { name: 'flan-demo', model: CONTAINER, instanceType: 'ml.g5.2xlarge', instanceCount: 1, idleDeleteAfterMinutes: 30 }
  const deployed = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: body })
  t.equal(deployed.statusCode, 202, deployed.body)
  t.equal(deployed.headers.location, '/v1/endpoints/flan-demo')
  const ep = deployed.json()
  t.match(ep, { name: 'flan-demo', status: 'Creating', model: 'flan-demo', instanceType: 'ml.g5.2xlarge', instanceCount: 1, managed: true, idleDeleteAfterMinutes: 30, usage: { instanceSeconds: 0, invocations: 0, items: 0 } })

  const early = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: 'The bridge reopened. Traffic was heavy.', model: 'flan-demo' } })
  t.equal(early.statusCode, 503, 'Creating: 503')
  t.equal(early.json().code, 'ENDPOINT_UNAVAILABLE')
  t.ok(Number(early.headers['retry-after']) >= 1, 'with Retry-After')

  const again = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: body })
  t.equal(again.statusCode, 202, `the same request again: the existing endpoint ${again.body}`)
  t.equal(again.headers['idempotent-replayed'], 'true')
  const different = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { ...body, instanceCount: 2 } })
  t.equal(different.statusCode, 409, 'a different request for the name: 409')
  t.equal(different.json().code, 'CONFLICT')

  await waitFor(app, 'flan-demo', 'InService')
  const texts = Array.from({ length: 10 }, (_, i) => `Article ${i} begins here. It goes on for a while.`)
  const generated = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: texts, model: 'flan-demo', max_length: 5 } })
  t.equal(generated.statusCode, 200, generated.body)
  t.equal(generated.json().generated_texts.length, 10)
  const summary = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'One more article. With two sentences.', model: 'flan-demo' } })
  t.equal(summary.statusCode, 200, summary.body)
  t.equal(summary.json().model, 'flan-demo')

  const described = (await app.inject({ method: 'GET', url: '/v1/endpoints/flan-demo' })).json()
  t.equal(described.usage.items, 11, 'every input counted')
  t.ok(described.usage.invocations >= 2 && described.usage.invocations <= 11, `${described.usage.invocations} invocations`)
  t.equal(described.usage.invocationsSaved, 11 - described.usage.invocations)
  t.ok(typeof described.lastInvokedAt === 'string')

  const list = (await app.inject({ method: 'GET', url: '/v1/endpoints' })).json()
  t.same(list.endpoints.map((e: { name: string, managed: boolean }) => [e.name, e.managed]), [['flan-demo', true], ['flan-t5-local', false]])

  const zero = await app.inject({ method: 'POST', url: '/v1/endpoints/flan-demo/scale', payload: { instanceCount: 0 } })
  t.equal(zero.statusCode, 400)
  t.match(zero.json().message, /instanceCount/)
  const scaled = await app.inject({ method: 'POST', url: '/v1/endpoints/flan-demo/scale', payload: { instanceCount: 2 } })
  t.equal(scaled.statusCode, 202, scaled.body)
  t.equal(scaled.json().status, 'Updating')
  const updating = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Updating now. Still.', model: 'flan-demo' } })
  t.equal(updating.statusCode, 503, 'Updating: 503')
  const scaledUp = await waitFor(app, 'flan-demo', 'InService')
  t.equal(scaledUp.instanceCount, 2)

  const builtIn = await app.inject({ method: 'DELETE', url: '/v1/endpoints/flan-t5-local' })
  t.equal(builtIn.statusCode, 409, 'not deployed by the gateway: 409')
  t.equal(builtIn.json().code, 'NOT_MANAGED')

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/endpoints/flan-demo' })
  t.equal(deleted.statusCode, 202, deleted.body)
  t.equal(deleted.json().status, 'Deleting')
  const res = stack.jobs.resources.doc
  t.equal(res.endpointConfigs['flan-demo'], undefined, 'its config is gone')
  t.equal(res.models['flan-demo'], undefined, 'the model it created is gone')
  t.ok(res.models['flan-t5-local'] !== undefined, 'other models stay')
  const after = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Too late. Gone.', model: 'flan-demo' } })
  t.ok([400, 503].includes(after.statusCode), `after delete: ${after.statusCode}`)
  await new Promise(resolve => setTimeout(resolve, TRANSITION_MS + 50))
  t.equal((await app.inject({ method: 'GET', url: '/v1/endpoints/flan-demo' })).statusCode, 404, 'gone: 404')

  const usage = (await app.inject({ method: 'GET', url: '/v1/usage' })).json()
  const line = usage.endpoints.find((e: { name: string }) => e.name === 'flan-demo')
  t.match(line, { status: 'Deleted', instanceType: 'ml.g5.2xlarge', items: 11 }, 'a deleted endpoint\'s cost stays in /v1/usage')
  t.match(usage.prices, { source: /UNVERIFIED/ })
})

t.test('deploying from an existing model never deletes that model', async t => {
  const { app, stack } = await localApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 50, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0 })
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'reuse', model: { name: 'flan-t5-local' }, instanceType: 'ml.m5.xlarge' } })
  t.equal(res.statusCode, 202, res.body)
  t.equal(res.json().model, 'flan-t5-local')
  await waitFor(app, 'reuse', 'InService')
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/endpoints/reuse' })).statusCode, 202)
  t.ok(stack.jobs.resources.doc.models['flan-t5-local'] !== undefined, 'the model it did not create is kept')
  const missing = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'nomodel', model: { name: 'nope' }, instanceType: 'ml.m5.xlarge' } })
  t.equal(missing.statusCode, 400)
  t.match(missing.json().message, /body\.model\.name "nope"/)
  const badType = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'badtype', model: { name: 'flan-t5-local' }, instanceType: 'g5.2xlarge' } })
  t.equal(badType.statusCode, 400)
  t.match(badType.json().message, /instanceType/)
})

t.test('only admins manage endpoints; every tenant lists and uses the InService ones', async t => {
  const { app } = await localApp(t, { API_KEYS: 'acme:acme-key', ADMIN_API_KEYS: 'ops:ops-key', LOCAL_ENDPOINT_TRANSITION_MS: TRANSITION_MS, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0, AUTH_FAILURES_MAX: 0 })
  const as = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })
  const payload = { name: 'shared', model: { name: 'flan-t5-local' }, instanceType: 'ml.m5.xlarge' }
  const refused = await app.inject({ method: 'POST', url: '/v1/endpoints', headers: as('acme-key'), payload })
  t.equal(refused.statusCode, 403)
  t.same(refused.json().code, 'FORBIDDEN')
  t.equal(refused.json().error, 'Forbidden')
  t.equal((await app.inject({ method: 'POST', url: '/v1/endpoints', headers: as('ops-key'), payload })).statusCode, 202)
  t.same((await app.inject({ method: 'GET', url: '/v1/endpoints', headers: as('acme-key') })).json().endpoints.map((e: { name: string }) => e.name), ['flan-t5-local'], 'a Creating endpoint is not listed for tenants')
  await waitFor({ inject: async (o: { method: 'GET', url: string }) => await app.inject({ ...o, headers: as('ops-key') }) } as unknown as FastifyInstance, 'shared', 'InService')
  t.same((await app.inject({ method: 'GET', url: '/v1/endpoints', headers: as('acme-key') })).json().endpoints.map((e: { name: string }) => e.name), ['shared', 'flan-t5-local'])
  const used = await app.inject({ method: 'POST', url: '/v1/summarize', headers: as('acme-key'), payload: { text: 'Shared use. Fine.', model: 'shared' } })
  t.equal(used.statusCode, 200, used.body)
  t.equal((await app.inject({ method: 'POST', url: '/v1/endpoints/shared/scale', headers: as('acme-key'), payload: { instanceCount: 2 } })).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/endpoints/shared', headers: as('acme-key') })).statusCode, 403)
  const usage = (await app.inject({ method: 'GET', url: '/v1/usage', headers: as('acme-key') })).json()
  t.same(usage.endpoints, [], 'tenants do not see endpoint costs')
  const adminUsage = (await app.inject({ method: 'GET', url: '/v1/usage', headers: as('ops-key') })).json()
  t.ok(adminUsage.endpoints.some((e: { name: string }) => e.name === 'shared'))
})
