// The stream invoker (src/sagemaker/stream-invoker.ts) against the local stack's emulated TGI
// container: InvokeEndpointWithResponseStream
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html)
// read through the gateway's own runtime client. Tokens arrive before the generation ends, a
// refusal before the stream is an InvokeError the caller may retry or report, an error event
// mid-way is a StreamFailure (never a shorter text), and aborting closes the container's stream.
import t from 'tap'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import { InvokeError } from '../../src/batching/errors.js'
import { createRuntimeClient } from '../../src/sagemaker/clients.js'
import { StreamFailure, tgiContract, translateParameters, type StreamEvent } from '../../src/sagemaker/contracts/index.js'
import { createStreamInvoker } from '../../src/sagemaker/stream-invoker.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. ' +
  'The line will connect the airport with the central station. Officials expect ten thousand riders a day.'

async function deploy (sm: SageMakerClient, name: string, env: Record<string, string>): Promise<void> {
  await sm.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: TGI_IMAGE, Environment: env }, ExecutionRoleArn: ROLE }))
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }))
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 30, minDelay: 1 }, { EndpointName: name })
}

t.test('streaming from a TGI endpoint through the gateway\'s runtime client', async t => {
  const { stack, sm } = await openLocalStack(t, await tempDir(t, 't2t-stream-'), { LOCAL_ENDPOINT_TRANSITION_MS: 100, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const runtime = createRuntimeClient(stack.awsTarget, 4)
  t.teardown(() => { runtime.client.destroy() })
  const TOKEN_MS = 30
  await deploy(sm, 'flan-tgi', { MAX_INPUT_LENGTH: '60', MAX_TOTAL_TOKENS: '300', LOCAL_TOKEN_DELAY_MS: String(TOKEN_MS) })
  const contract = tgiContract()
  const stream = createStreamInvoker(runtime)
  const params = translateParameters(contract, { max_length: 12 }, 'body.parameters').params

  await t.test('tokens one by one, then the whole text; the first well before the last', async t => {
    const started = performance.now()
    const events: Array<StreamEvent & { at: number }> = []
    for await (const e of stream({ endpoint: 'flan-tgi', contract, input: ARTICLE, params, signal: new AbortController().signal })) events.push({ ...e, at: performance.now() - started })
    const tokens = events.filter(e => e.type === 'token')
    const done = events.at(-1)
    t.ok(tokens.length >= 5, `${tokens.length} tokens`)
    t.equal(done?.type, 'done')
    t.equal(tokens.map(e => e.text).join(''), done?.text, 'the tokens make the final text')
    t.ok(tokens[0].at < (done?.at ?? 0) / 2, `first token at ${tokens[0].at.toFixed(0)} ms of ${done?.at.toFixed(0)} ms`)
  })

  await t.test('a refusal before the stream starts is an InvokeError', async t => {
    const err = await (async () => { for await (const e of stream({ endpoint: 'no-such-endpoint', contract, input: 'x', params, signal: new AbortController().signal })) void e })().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof InvokeError, String(err))
  })

  await t.test('an error event mid-way is a StreamFailure after the tokens before it', async t => {
    const seen: StreamEvent[] = []
    const err = await (async () => { for await (const e of stream({ endpoint: 'flan-tgi', contract, input: `${ARTICLE} POISON`, params, signal: new AbortController().signal })) seen.push(e) })().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof StreamFailure, String(err))
    t.equal((err as StreamFailure).errorType, 'generation')
    t.notOk(seen.some(e => e.type === 'done'), 'never a final text')
  })

  await t.test('aborting closes the stream and frees the container', async t => {
    const controller = new AbortController()
    let tokens = 0
    const err = await (async () => {
      for await (const e of stream({ endpoint: 'flan-tgi', contract, input: ARTICLE, params: translateParameters(contract, { max_length: 200 }, 'p').params, signal: controller.signal })) {
        if (e.type === 'token' && ++tokens === 2) controller.abort()
      }
    })().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof StreamFailure || err instanceof InvokeError, String(err))
    const deadline = Date.now() + 10_000
    while (stack.sagemaker.runtime.tgiBusy('flan-tgi') > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(stack.sagemaker.runtime.tgiBusy('flan-tgi'), 0, 'the emulated container released its permit')
  })
})
