// An endpoint deployed outside the gateway (SAGEMAKER_ENDPOINT_NAME), on the local stack through
// the real SDK: its endpoint config and its model have names of their own, and what the gateway
// reports as its `model` is the model (the config's first production variant,
// DescribeEndpointConfig → ProductionVariants[0].ModelName), the one Batch Transform needs too.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { Endpoints, InvocationLedger } from '../../src/endpoints/index.js'
import { DEFAULT_PRICES, estimateCost } from '../../src/endpoints/prices.js'
import { testConfig } from '../../src/config.js'
import { startLocalStack } from '../../src/local/stack.js'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { batchLine, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'
import { localApp } from '../helpers/local-app.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
// as JumpStart 1.x deploys it: its inference.py is what speaks the list contract (a transform job reads the contract from it)
const CONTAINER = { Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04', ModelDataUrl: 's3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.0.2/infer-prepack-huggingface-text2text-flan-t5-xl.tar.gz', Environment: { SAGEMAKER_PROGRAM: 'inference.py' } }

t.test('an endpoint the gateway did not deploy: `model` is the model its endpoint config serves, not the config', async t => {
  const dir = await mkdtemp(join(tmpdir(), 't2t-unmanaged-'))
  const stack = await startLocalStack(testConfig({ LOCAL_DATA_DIR: dir, LOCAL_ENDPOINT_TRANSITION_MS: 100 }))
  const sm = createControlClient(stack.awsTarget)
  await sm.send(new CreateModelCommand({ ModelName: 'their-model', PrimaryContainer: CONTAINER, ExecutionRoleArn: ROLE }))
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'their-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'their-model', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }] }))
  await sm.send(new CreateEndpointCommand({ EndpointName: 'their-endpoint', EndpointConfigName: 'their-config' }))
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.2 }, { EndpointName: 'their-endpoint' })
  // AWS mode against the local stack: the endpoint is configured, not deployed through the gateway
  const app = await buildApp(testConfig({ LOCAL_DATA_DIR: dir, SAGEMAKER_ENDPOINT_NAME: 'their-endpoint', ENDPOINT_CACHE_MS: 0 }), { aws: stack.awsTarget })
  t.teardown(async () => {
    await app.close()
    sm.destroy()
    await stack.close()
    await rm(dir, { recursive: true, force: true })
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const one = await app.inject({ method: 'GET', url: '/v1/endpoints/their-endpoint' })
  t.equal(one.statusCode, 200, one.body)
  t.match(one.json(), { name: 'their-endpoint', status: 'InService', managed: false, model: 'their-model' })
  const listed = (await app.inject({ method: 'GET', url: '/v1/endpoints' })).json().endpoints as Array<{ name: string, model: string, instanceType: string }>
  t.same(listed.map(e => [e.name, e.model, e.instanceType]), [['their-endpoint', 'their-model', 'ml.g5.xlarge']], 'the listing says the same')
  // the instance type is the same variant's (ProductionVariants[0].InstanceType), so its cost is priced
  const usage = one.json().usage as { instanceType: string, instanceSeconds: number, estimatedCostUsd: number | null }
  t.equal(one.json().instanceType, 'ml.g5.xlarge', 'the instance type its endpoint config names, not "unknown"')
  t.equal(usage.instanceType, 'ml.g5.xlarge')
  t.ok(usage.instanceSeconds > 0, 'it has been InService a while')
  t.equal(usage.estimatedCostUsd, estimateCost(DEFAULT_PRICES, 'ml.g5.xlarge', usage.instanceSeconds), 'priced from the table, not null')
  t.not(usage.estimatedCostUsd, null)

  // a batch on it runs its job on that model (the same lookup)
  const client = openAiClient(url, 'any')
  const file = await uploadBatchFile(client, [batchLine('a', { model: 'their-endpoint', prompt: 'The bridge reopened today. Traffic was heavy.', max_tokens: 4 })])
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed')
  const jobs = (await app.inject({ method: 'GET', url: '/v1/transform-jobs' })).json().jobs as Array<{ model: string }>
  t.same(jobs.map(j => j.model), ['their-model'], 'the job ran on the endpoint\'s model')

  // SAGEMAKER_MODEL_NAME names the model behind the configured endpoints, ahead of their config;
  // the view still reports what SageMaker says
  const service = (staticModel?: string): Endpoints => new Endpoints({
    control: sm, prices: DEFAULT_PRICES, staticNames: ['their-endpoint'], invocations: new InvocationLedger(), log: pino({ level: 'silent' }), cacheMs: 0, ...(staticModel !== undefined ? { staticModel } : {})
  })
  t.equal(await service().modelOf('their-endpoint'), 'their-model')
  t.equal(await service('pinned-model').modelOf('their-endpoint'), 'pinned-model', 'SAGEMAKER_MODEL_NAME first')
  t.equal(await service('pinned-model').modelOf('no-such-endpoint'), undefined, 'an endpoint that does not exist has no model')
  t.match(await service('pinned-model').get('their-endpoint'), { model: 'their-model' }, 'the view says what SageMaker says')
})

t.test('the local stack\'s built-in endpoint, described by its control plane, is shown with the fields it always had (and lastInvokedAt, as every endpoint)', async t => {
  const { app } = await localApp(t)
  const shown = {
    name: 'flan-t5-local',
    status: 'InService',
    model: 'flan-t5-local',
    instanceType: 'local',
    instanceCount: 1,
    createdAt: '1970-01-01T00:00:00.000Z',
    managed: false,
    usage: { instanceType: 'local', instanceCount: 1, instanceSeconds: 0, estimatedCostUsd: null, invocations: 0, items: 0, invocationsSaved: 0 }
  }
  const one = await app.inject({ method: 'GET', url: '/v1/endpoints/flan-t5-local' })
  t.equal(one.statusCode, 200, one.body)
  t.same(one.json(), shown, 'no instance time, no cost, no managed fields')
  t.same((await app.inject({ method: 'GET', url: '/v1/endpoints' })).json().endpoints, [shown], 'listed the same way')
  for (const [method, url, payload] of [['DELETE', '/v1/endpoints/flan-t5-local', undefined], ['POST', '/v1/endpoints/flan-t5-local/scale', { instanceCount: 2 }]] as const) {
    const refused = await app.inject({ method, url, ...(payload !== undefined ? { payload } : {}) })
    t.equal(refused.statusCode, 409, url)
    t.match(refused.json(), { code: 'NOT_MANAGED', message: /^endpoint "flan-t5-local" was not deployed by this gateway; it cannot be (deleted|scaled) here$/ }, `${method} ${url}`)
  }

  const served = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['The bridge reopened today. Traffic was heavy.', 'Rain all week.'] } })
  t.equal(served.statusCode, 200, served.body)
  const after = (await app.inject({ method: 'GET', url: '/v1/endpoints/flan-t5-local' })).json()
  // the batcher may send the two inputs in one invocation or two
  t.same(after.usage, { ...shown.usage, invocations: after.usage.invocations, items: 2, invocationsSaved: 2 - after.usage.invocations }, 'this replica\'s calls counted; still no instance time')
  t.ok(after.usage.invocations >= 1 && after.usage.invocations <= 2, `${after.usage.invocations as number} invocations`)
  // as for any configured endpoint SageMaker describes (SAGEMAKER_ENDPOINT_NAME): this replica's last call
  t.ok(Date.parse(after.lastInvokedAt as string) > 0, 'lastInvokedAt')
})
