// Bad input and SageMaker's refusals, as a client sees them: a 4xx naming the field for what
// the caller can fix (AWS's own messages for a role that cannot read the image or the model
// data, account ids removed), 503 for capacity, nothing half-made left behind, and requests
// queued for an endpoint being deleted settle with 503 rather than hang.
import t from 'tap'
import { pino } from 'pino'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import { DEFAULT_PRICES } from '../../src/endpoints/prices.js'
import { InvocationLedger } from '../../src/endpoints/invocations.js'
import { Endpoints } from '../../src/endpoints/service.js'
import { ModelNotServed } from '../../src/endpoints/resolver.js'
import { localApp } from '../helpers/local-app.js'

const ADMIN = { id: 'ops', admin: true }
const CONTAINER = { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/hf:1', modelDataUrl: 's3://private-bucket/flan/model.tar.gz', role: 'arn:aws:iam::123456789012:role/NoS3' }
/** An image the gateway does not recognise deploys only with its contract named (test/endpoints/contract-option.test.ts). */
const CONTRACT = 'jumpstart-list' as const

/** A control plane that answers every command by name from `answers` (an Error is thrown). */
function fakeControl (answers: Record<string, unknown>): { control: SageMakerClient, sent: string[] } {
  const sent: string[] = []
  const control = {
    send: async (command: { constructor: { name: string } }) => {
      const op = command.constructor.name.replace(/Command$/, '')
      sent.push(op)
      const answer = answers[op]
      if (answer instanceof Error) throw answer
      if (answer === undefined) throw Object.assign(new Error('Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x".'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })
      return answer
    }
  }
  return { control: control as unknown as SageMakerClient, sent }
}
const awsError = (name: string, message: string, status = 400): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })
const service = (control: SageMakerClient): Endpoints => new Endpoints({ control, prices: DEFAULT_PRICES, staticNames: ['prod-flan'], invocations: new InvocationLedger(), log: pino({ level: 'silent' }), cacheMs: 0 })

t.test('a role that cannot read the model data or pull the image: 400 naming the field, no account id', async t => {
  const noData = fakeControl({ CreateModel: awsError('ValidationException', 'Could not access model data at s3://private-bucket/flan/model.tar.gz. Please ensure that the role "arn:aws:iam::123456789012:role/NoS3" exists and that its trust relationship policy allows the action "sts:AssumeRole" for the service principal "sagemaker.amazonaws.com". Also ensure that the role has "s3:GetObject" permissions and that the object is located in us-east-1.') })
  const err = await service(noData.control).deploy(ADMIN, { name: 'flan', model: CONTAINER, contract: CONTRACT, instanceType: 'ml.g5.2xlarge' }).catch((e: unknown) => e)
  t.match(err, { code: 'INVALID_REQUEST', statusCode: 400, message: /^body\.model\.modelDataUrl "s3:\/\/private-bucket\/flan\/model\.tar\.gz": SageMaker cannot read it with body\.model\.role: Could not access model data/ })
  t.notMatch((err as Error).message, /123456789012/, 'no account id')

  const noImage = fakeControl({ CreateModel: awsError('ValidationException', 'Requested image 763104351884.dkr.ecr.us-east-1.amazonaws.com/hf:1 not found.') })
  t.match(await service(noImage.control).deploy(ADMIN, { name: 'flan', model: CONTAINER, contract: CONTRACT, instanceType: 'ml.g5.2xlarge' }).catch((e: unknown) => e),
    { code: 'INVALID_REQUEST', message: /^body\.model\.image "763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com\/hf:1": SageMaker cannot pull it/ })
})

t.test('out of instance quota at CreateEndpoint: 503 with Retry-After, and the model and config made for it are removed', async t => {
  const { control, sent } = fakeControl({
    CreateModel: {},
    CreateEndpointConfig: {},
    CreateEndpoint: awsError('ResourceLimitExceeded', 'The account-level service limit \'ml.g5.2xlarge for endpoint usage\' is 0 Instances'),
    DeleteEndpointConfig: {},
    DeleteModel: {}
  })
  t.match(await service(control).deploy(ADMIN, { name: 'flan', model: CONTAINER, contract: CONTRACT, instanceType: 'ml.g5.2xlarge' }).catch((e: unknown) => e), { code: 'SAGEMAKER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 60 })
  t.same(sent, ['DescribeEndpoint', 'CreateModel', 'CreateEndpointConfig', 'CreateEndpoint', 'DeleteEndpointConfig', 'DeleteModel'], 'rolled back, newest first')
})

t.test('names the gateway does not own', async t => {
  const { control } = fakeControl({})
  t.match(await service(control).deploy(ADMIN, { name: 'prod-flan', model: { name: 'm' }, instanceType: 'ml.g5.xlarge' }).catch((e: unknown) => e), { code: 'CONFLICT', message: /SAGEMAKER_ENDPOINT_NAME/ })
  t.match(await service(control).deploy({ id: 'acme', admin: false }, { name: 'x', model: { name: 'm' }, instanceType: 'ml.g5.xlarge' }).catch((e: unknown) => e), { code: 'FORBIDDEN', statusCode: 403 })
  t.match(await service(control).get('nope').catch((e: unknown) => e), { code: 'ENDPOINT_NOT_FOUND', statusCode: 404 })
  const foreign = fakeControl({ DescribeEndpoint: { EndpointName: 'theirs', EndpointArn: 'arn:x', EndpointStatus: 'InService', CreationTime: new Date() }, ListTags: { Tags: [] } })
  t.match(await service(foreign.control).delete(ADMIN, 'theirs').catch((e: unknown) => e), { code: 'NOT_MANAGED', statusCode: 409 })
  t.match(await service(foreign.control).scale(ADMIN, 'theirs', 2).catch((e: unknown) => e), { code: 'NOT_MANAGED' })
  t.notOk(foreign.sent.includes('DeleteEndpoint'), 'never deleted')
  const notServed = await Promise.resolve(service(foreign.control).resolveEndpoint('theirs')).catch((e: unknown) => e)
  t.match(notServed, { code: 'INVALID_REQUEST', statusCode: 400, message: /^body\.model "theirs" is not served here/ }, 'an account endpoint the gateway did not deploy is not a model')
  t.ok(notServed instanceof ModelNotServed, 'the resolver\'s own refusal, which each contract renders')
  t.match(notServed, { model: 'theirs', reason: /^is not served here; available: prod-flan/, param: 'model' })
})

t.test('deleting an endpoint under queued requests: each settles, 200 or 503, none hangs', async t => {
  const { app } = await localApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 100, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0, LOCAL_LATENCY_BASE_MS: 150, BATCH_MAX_SIZE: 1, MAX_CONCURRENT_INVOCATIONS: 1, REQUEST_TIMEOUT_MS: 20_000 })
  t.equal((await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'doomed', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge' } })).statusCode, 202)
  for (let i = 0; i < 100 && (await app.inject({ method: 'GET', url: '/v1/endpoints/doomed' })).json().status !== 'InService'; i++) await new Promise(resolve => setTimeout(resolve, 50))
  const started = Date.now()
  const queued = Array.from({ length: 6 }, async (_, i) => await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: `Request ${i}. Queued behind the others.`, model: 'doomed' } }))
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/endpoints/doomed' })).statusCode, 202)
  const answers = await Promise.all(queued)
  const statuses = answers.map(a => a.statusCode)
  t.ok(statuses.every(s => s === 200 || s === 503), `statuses ${statuses.join(',')}`)
  t.ok(statuses.includes(503), 'some were cut off by the deletion')
  for (const a of answers.filter(a => a.statusCode === 503)) {
    t.equal(a.json().code, 'ENDPOINT_UNAVAILABLE')
    t.notMatch(a.json().message, /account|000000000000/, 'no AWS internals')
  }
  t.ok(Date.now() - started < 10_000, 'nothing waited for the deadline')
})
