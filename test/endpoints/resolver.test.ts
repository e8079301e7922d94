// An endpoint's container contract, as the resolver finds it and keeps it: the endpoint's tag
// (chosen at deploy), else ENDPOINT_CONTRACTS, else DescribeEndpoint → DescribeEndpointConfig
// (ProductionVariants[0].ModelName) → DescribeModel's image and environment
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModel.html). A static
// name is described once, on first use; a managed endpoint's contract is detected once per
// endpoint config, so the hot path makes no DescribeModel call once it is known.
import t from 'tap'
import { pino } from 'pino'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import { DEFAULT_PRICES } from '../../src/endpoints/prices.js'
import { InvocationLedger } from '../../src/endpoints/invocations.js'
import { Endpoints } from '../../src/endpoints/service.js'
import { STATIC_RECHECK_MS } from '../../src/endpoints/resolver.js'
import { MANAGED_BY, TAG } from '../../src/endpoints/tags.js'
import type { ExplicitContractName } from '../../src/sagemaker/contracts/explicit.js'

const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/'

interface World {
  image: string
  env: Record<string, string>
  instances: number
  config: string
  modified: Date
  tags: Array<{ Key: string, Value: string }>
}

/** A control plane over one endpoint per name in `world`, counting each operation it is sent. */
function fakeControl (world: Record<string, World>): { control: SageMakerClient, sent: string[] } {
  const sent: string[] = []
  const byConfig = (config: string): [string, World] | undefined => Object.entries(world).find(([, w]) => w.config === config)
  const control = {
    send: async (command: { constructor: { name: string }, input: Record<string, string> }) => {
      const op = command.constructor.name.replace(/Command$/, '')
      sent.push(op)
      const input = command.input
      switch (op) {
        case 'DescribeEndpoint': {
          const w = world[input.EndpointName]
          if (w === undefined) throw Object.assign(new Error(`Could not find endpoint "${ARN}${input.EndpointName}".`), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })
          return { EndpointName: input.EndpointName, EndpointArn: ARN + input.EndpointName, EndpointConfigName: w.config, EndpointStatus: 'InService', LastModifiedTime: w.modified, ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: w.instances }] }
        }
        case 'ListTags': return { Tags: world[input.ResourceArn.slice(ARN.length)]?.tags ?? [] }
        case 'DescribeEndpointConfig': {
          const found = byConfig(input.EndpointConfigName)
          return { ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: found?.[0], InstanceType: 'ml.g5.2xlarge' }] }
        }
        case 'DescribeModel': {
          const w = world[input.ModelName]
          return { ModelName: input.ModelName, PrimaryContainer: { Image: w.image, Environment: w.env } }
        }
        case 'AddTags': return {}
      }
      throw new Error(`unexpected ${op}`)
    }
  }
  return { control: control as unknown as SageMakerClient, sent }
}

const service = (control: SageMakerClient, staticNames: string[], endpointContracts = new Map<string, ExplicitContractName>()): Endpoints =>
  new Endpoints({ control, prices: DEFAULT_PRICES, staticNames, endpointContracts, invocations: new InvocationLedger(), log: pino({ level: 'silent' }), cacheMs: 0 })
/** The tags of an endpoint the gateway deployed with the model of the same name. */
const managedTags = (model: string, extra: Array<{ Key: string, Value: string }> = []): Array<{ Key: string, Value: string }> => [{ ...MANAGED_BY }, { Key: TAG.model, Value: model }, ...extra]

t.test('a static name: detected from its model on first use, then no control-plane call at all', async t => {
  const { control, sent } = fakeControl({ 'prod-tgi': { image: TGI_IMAGE, env: { MAX_CONCURRENT_REQUESTS: '16', MAX_STOP_SEQUENCES: '2' }, instances: 3, config: 'cfg-1', modified: new Date(1000), tags: [] } })
  const endpoints = service(control, ['prod-tgi'])
  const [a, b] = await Promise.all([endpoints.resolveEndpoint(undefined), endpoints.resolveEndpoint('prod-tgi')])
  t.equal(a, b, 'concurrent first uses share one detection')
  t.match(a, { name: 'prod-tgi', contract: { name: 'tgi', takesList: false, maxConcurrentPerInstance: 16 }, limits: { maxStopSequences: 2, maxBestOf: 2 }, instances: 3 })
  t.same(sent, ['DescribeEndpoint', 'ListTags', 'DescribeEndpointConfig', 'DescribeModel'])
  for (let i = 0; i < 5; i++) await endpoints.resolveEndpoint('prod-tgi')
  t.equal(sent.length, 4, 'cached: the hot path asks SageMaker nothing')
})

t.test('a managed endpoint: its tag wins, then ENDPOINT_CONTRACTS, then its model; re-detected only when its config changes', async t => {
  const world: Record<string, World> = {
    tagged: { image: 'example.com/mine:1', env: {}, instances: 1, config: 'c-tagged', modified: new Date(1000), tags: managedTags('tagged', [{ Key: TAG.contract, Value: 'tgi' }]) },
    mapped: { image: 'example.com/mine:1', env: {}, instances: 1, config: 'c-mapped', modified: new Date(1000), tags: managedTags('mapped') },
    detected: { image: TGI_IMAGE, env: { MAX_CONCURRENT_REQUESTS: '4' }, instances: 2, config: 'c-1', modified: new Date(1000), tags: managedTags('detected') },
    unknown: { image: 'example.com/mine:1', env: {}, instances: 1, config: 'c-unknown', modified: new Date(1000), tags: managedTags('unknown') },
    badtag: { image: TGI_IMAGE, env: {}, instances: 1, config: 'c-bad', modified: new Date(1000), tags: managedTags('badtag', [{ Key: TAG.contract, Value: 'tgi-9' }]) }
  }
  const { control, sent } = fakeControl(world)
  const endpoints = service(control, ['flan-t5-local'], new Map([['mapped', 'lmi-rolling'], ['tagged', 'jumpstart-list']]))
  t.match(await endpoints.resolveEndpoint('tagged'), { contract: { name: 'tgi' }, limits: { maxStopSequences: 4, maxBestOf: 2 } }, 'the tag chosen at deploy wins over ENDPOINT_CONTRACTS')
  t.match(await endpoints.resolveEndpoint('mapped'), { contract: { name: 'lmi', takesList: false } }, 'ENDPOINT_CONTRACTS over the unknown image')

  t.match(await endpoints.resolveEndpoint('detected'), { contract: { name: 'tgi', maxConcurrentPerInstance: 4 }, instances: 2 })
  const models = (): number => sent.filter(op => op === 'DescribeModel').length
  const before = models()
  await endpoints.resolveEndpoint('detected')
  t.equal(models(), before, 'the same endpoint config: no new DescribeModel')
  world.detected = { ...world.detected, config: 'c-2', env: { MAX_CONCURRENT_REQUESTS: '8' }, instances: 1, modified: new Date(2000) }
  t.match(await endpoints.resolveEndpoint('detected'), { contract: { maxConcurrentPerInstance: 8 }, instances: 1 }, 'UpdateEndpoint to a new config: detected again')
  t.equal(models(), before + 1)

  const unknown = await Promise.resolve(endpoints.resolveEndpoint('unknown')).catch((e: unknown) => e)
  t.match(unknown, { code: 'INVALID_REQUEST', statusCode: 400, param: 'model', message: /^body\.model "unknown" is an endpoint whose container contract the gateway cannot tell: the image example\.com\/mine:1 .*; choose it with ENDPOINT_CONTRACTS/ })
  const badTag = await Promise.resolve(endpoints.resolveEndpoint('badtag')).catch((e: unknown) => e)
  t.match(badTag, { code: 'INVALID_REQUEST', message: /its tag t2t:contract says "tgi-9", not one of jumpstart-list, tgi, lmi-rolling, lmi-dynamic/ })
})

t.test('a static name SageMaker does not have is refused, and asked again next time', async t => {
  const { control, sent } = fakeControl({})
  const endpoints = service(control, ['gone'])
  for (let i = 0; i < 2; i++) {
    const err = await Promise.resolve(endpoints.resolveEndpoint(undefined)).catch((e: unknown) => e)
    t.match(err, { code: 'INVALID_REQUEST', message: /^body\.model "gone" is configured \(SAGEMAKER_ENDPOINT_NAME\) but SageMaker has no such endpoint/ })
  }
  t.same(sent, ['DescribeEndpoint', 'DescribeEndpoint'], 'a failure is not kept')
})

t.test('a static name is checked again after STATIC_RECHECK_MS: an UpdateEndpoint to another model is seen without a restart', async t => {
  const world: Record<string, World> = { prod: { image: 'example.com/mine:1', env: {}, instances: 1, config: 'cfg-1x', modified: new Date(1000), tags: [] } }
  world.prod = { ...world.prod, image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04', env: { SAGEMAKER_PROGRAM: 'inference.py' } }
  const { control, sent } = fakeControl(world)
  let now = 1_000_000
  const endpoints = new Endpoints({ control, prices: DEFAULT_PRICES, staticNames: ['prod'], invocations: new InvocationLedger(), log: pino({ level: 'silent' }), cacheMs: 0, now: () => now })
  t.match(await endpoints.resolveEndpoint('prod'), { contract: { name: 'jumpstart-list' } })
  const calls = sent.length
  // FLAN-T5 1.x → 2.x, as the users migrate
  world.prod = { ...world.prod, image: TGI_IMAGE, env: {}, config: 'cfg-2x', modified: new Date(2000), instances: 2 }
  now += STATIC_RECHECK_MS - 1
  t.match(await endpoints.resolveEndpoint('prod'), { contract: { name: 'jumpstart-list' } }, 'within the minute: the kept resolution, no call')
  t.equal(sent.length, calls)
  now += 2
  t.match(await endpoints.resolveEndpoint('prod'), { contract: { name: 'tgi' }, instances: 2 }, 'after it: checked, changed, detected again')
  const afterChange = sent.length
  now += STATIC_RECHECK_MS + 1
  await endpoints.resolveEndpoint('prod')
  t.same(sent.slice(afterChange), ['DescribeEndpoint', 'ListTags'], 'unchanged state: described, not detected again')
})

t.test('a contract that cannot be told is kept for the endpoint\'s state: no DescribeModel per request', async t => {
  const { control, sent } = fakeControl({ odd: { image: 'example.com/mine:1', env: {}, instances: 1, config: 'c-odd', modified: new Date(1000), tags: managedTags('odd') } })
  const endpoints = service(control, ['flan-t5-local'])
  for (let i = 0; i < 3; i++) await t.rejects(endpoints.resolveEndpoint('odd'), { code: 'INVALID_REQUEST' })
  t.equal(sent.filter(op => op === 'DescribeModel').length, 1)
})
