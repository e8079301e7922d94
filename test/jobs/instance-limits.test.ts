// Which instances a tenant may ask for (issue 20, item 8): a non-admin key cannot start 100 ×
// ml.p5.48xlarge; admins are capped too; and the local stack refuses instance types SageMaker
// does not have, as AWS does: a ValidationException with Coral's enum message, the values being
// TransformResources.InstanceType
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformResources.html) and
// ProductionVariant.InstanceType
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html) as the
// AWS SDK's model enumerates them.
import t from 'tap'
import { CreateEndpointConfigCommand, CreateTransformJobCommand } from '@aws-sdk/client-sagemaker'
import { loadConfig } from '../../src/config.js'
import { localApp } from '../helpers/local-app.js'
import { transformJobInput, openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

const TENANT = { authorization: 'Bearer acme-key' }
const ADMIN = { authorization: 'Bearer ops-key' }
const RECORDS = [{ id: 1, text: 'The ferry left at dawn. It reached the island by noon.' }]

t.test('a non-admin tenant: the allow-list of instance types and the count cap, each refusal naming field and value', async t => {
  const { app } = await localApp(t, { API_KEYS: 'acme:acme-key', ADMIN_API_KEYS: 'ops:ops-key', AUTH_FAILURES_MAX: 0 })
  const submit = async (headers: Record<string, string>, name: string, resources?: Record<string, unknown>): Promise<{ statusCode: number, json: () => { code: string, message: string } }> =>
    await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers, payload: { name, input: { records: RECORDS }, ...(resources !== undefined ? { resources } : {}) } })

  let res = await submit(TENANT, 'p5-fleet', { instanceType: 'ml.p5.48xlarge', instanceCount: 100 })
  t.equal(res.statusCode, 403, 'the issue\'s 100 × ml.p5.48xlarge: refused')
  t.equal(res.json().code, 'FORBIDDEN')
  t.match(res.json().message, /body\.resources\.instanceCount 100 is more than tenant "acme" may use: at most 2 instances \(TENANT_MAX_INSTANCE_COUNT/)
  res = await submit(TENANT, 'one-p5', { instanceType: 'ml.p5.48xlarge', instanceCount: 1 })
  t.equal(res.statusCode, 403)
  t.match(res.json().message, /body\.resources\.instanceType "ml\.p5\.48xlarge" is not an instance type tenant "acme" may use; allowed: ml\.m5\.large, .*ml\.g5\.2xlarge \(TENANT_INSTANCE_TYPES/)
  res = await submit(TENANT, 'three-cpus', { instanceType: 'ml.m5.xlarge', instanceCount: 3 })
  t.equal(res.statusCode, 403, 'over the count cap on an allowed type')
  t.equal((await submit(TENANT, 'two-cpus', { instanceType: 'ml.m5.xlarge', instanceCount: 2 })).statusCode, 202, 'an allowed type within the cap: accepted')
  t.equal((await submit(TENANT, 'defaults')).statusCode, 202, 'no resources: the default type, which the allow-list always holds')

  // admins: any type SageMaker has, at most ADMIN_MAX_INSTANCE_COUNT (10)
  res = await submit(ADMIN, 'admin-fleet', { instanceType: 'ml.g5.12xlarge', instanceCount: 11 })
  t.equal(res.statusCode, 403)
  t.match(res.json().message, /body\.resources\.instanceCount 11 is more than tenant "ops" may use: at most 10 instances \(ADMIN_MAX_INSTANCE_COUNT/)
  t.equal((await submit(ADMIN, 'admin-g5', { instanceType: 'ml.g5.12xlarge', instanceCount: 3 })).statusCode, 202, 'an admin may use a type outside the tenants\' list')
  // the local stack answers for a type SageMaker does not have, as AWS would
  res = await submit(ADMIN, 'admin-p5', { instanceType: 'ml.p5.48xlarge', instanceCount: 1 })
  t.equal(res.statusCode, 400, 'ml.p5.48xlarge is not a transform instance type')
  t.match(res.json().message, /ml\.p5\.48xlarge/)
  t.match(res.json().message, /instanceType/)

  // endpoints: deployed and scaled by admins only, within ADMIN_MAX_INSTANCE_COUNT
  const deploy = async (body: Record<string, unknown>): Promise<{ statusCode: number, json: () => { code: string, message: string } }> =>
    await app.inject({ method: 'POST', url: '/v1/endpoints', headers: ADMIN, payload: { model: { name: 'flan-t5-local' }, ...body } })
  res = await deploy({ name: 'big-fleet', instanceType: 'ml.g5.2xlarge', instanceCount: 11 })
  t.equal(res.statusCode, 403)
  t.match(res.json().message, /body\.instanceCount 11 is more than tenant "ops" may use: at most 10/)
  res = await deploy({ name: 'no-such-type', instanceType: 'ml.nope.xlarge' })
  t.equal(res.statusCode, 400)
  t.match(res.json().message, /body\.instanceType "ml\.nope\.xlarge": .*Member must satisfy enum value set/)
  res = await deploy({ name: 'small', instanceType: 'ml.g5.xlarge', instanceCount: 1 })
  t.equal(res.statusCode, 202, res.json().message)
  for (let i = 0; i < 200; i++) {
    const status = (await app.inject({ method: 'GET', url: '/v1/endpoints/small', headers: ADMIN })).json().status
    if (status === 'InService') break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  res = await app.inject({ method: 'POST', url: '/v1/endpoints/small/scale', headers: ADMIN, payload: { instanceCount: 11 } })
  t.equal(res.statusCode, 403)
  t.match(res.json().message, /body\.instanceCount 11 is more than tenant "ops" may use/)
})

t.test('local SageMaker refuses instance types SageMaker does not have, in AWS\'s words', async t => {
  const dir = await tempDir(t)
  const { sm } = await openLocalStack(t, dir)
  const input = transformJobInput('odd-instance', 's3://text2text-local/in/', 's3://text2text-local/out/')
  const job = sm.send(new CreateTransformJobCommand({ ...input, TransformResources: { InstanceType: 'ml.p5.48xlarge' as 'ml.m5.large', InstanceCount: 1 } }))
  await t.rejects(job, { name: 'ValidationException', message: /^1 validation error detected: Value 'ml\.p5\.48xlarge' at 'transformResources\.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[ml\.c4\.2xlarge, .*ml\.g5\.2xlarge.*\]$/ })
  const config = sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'odd', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'flan-t5-local', InstanceType: 'ml.nope.xlarge' as 'ml.m5.large', InitialInstanceCount: 1 }] }))
  await t.rejects(config, { name: 'ValidationException', message: /^1 validation error detected: Value 'ml\.nope\.xlarge' at 'productionVariants\.1\.member\.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[.*ml\.p5\.48xlarge.*\]$/ })
})

t.test('the limits are checked at boot, naming the variable', async t => {
  t.throws(() => loadConfig({ TENANT_INSTANCE_TYPES: 'ml.g5.2xlarge,ml.m5.huge' }), /TENANT_INSTANCE_TYPES: "ml\.m5\.huge" is not a SageMaker instance type/)
  t.throws(() => loadConfig({ TENANT_INSTANCE_TYPES: 'ml.m5.large' }), /TENANT_INSTANCE_TYPES must include ml\.g5\.2xlarge/)
  t.throws(() => loadConfig({ TENANT_MAX_INSTANCE_COUNT: '0' }), /TENANT_MAX_INSTANCE_COUNT/)
  t.equal(loadConfig({}).TENANT_MAX_INSTANCE_COUNT, 2, 'a newcomer\'s default: 2 instances')
  t.equal(loadConfig({ TENANT_INSTANCE_TYPES: 'ml.g5.2xlarge, ml.m5.large' }).TENANT_INSTANCE_TYPES, 'ml.g5.2xlarge, ml.m5.large')
})
