// The gateway's invoker for an endpoint's contract (createInvoker(runtime, contract)) over the
// real SDK and the local stack's emulated TGI: the body is the contract's, not the batcher's list
// body; the answer is read by the contract (best_of's sequences included); a 422 is the caller's
// InputRefused, a 429 retryable; a body over SageMaker's 6 MiB never leaves
// (https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-test-endpoints.html: payloads up to 6 MB).
import t from 'tap'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker'
import type { InvokeRequest } from '../../src/batching/batcher.js'
import { InvokeError } from '../../src/batching/errors.js'
import { createRuntimeClient } from '../../src/sagemaker/clients.js'
import { InputRefused } from '../../src/sagemaker/contracts/classify.js'
import { tgiContract } from '../../src/sagemaker/contracts/tgi.js'
import { createInvoker } from '../../src/sagemaker/runtime.js'
import { SAGEMAKER_MAX_PAYLOAD_BYTES } from '../../src/sagemaker/rules.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'

t.test('createInvoker(runtime, tgi): TGI\'s body, TGI\'s answer, TGI\'s errors', async t => {
  const dir = await tempDir(t, 't2t-invoker-')
  const { stack, sm } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 50 })
  await sm.send(new CreateModelCommand({ ModelName: 'tgi', PrimaryContainer: { Image: TGI_IMAGE, Environment: { MAX_INPUT_LENGTH: '20', MAX_TOTAL_TOKENS: '200' } }, ExecutionRoleArn: ROLE }))
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'tgi', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'tgi', InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
  await sm.send(new CreateEndpointCommand({ EndpointName: 'tgi', EndpointConfigName: 'tgi' }))
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 30, minDelay: 1 }, { EndpointName: 'tgi' })
  const runtime = createRuntimeClient(stack.awsTarget, 4)
  t.teardown(() => { runtime.client.destroy() })
  const invoke = createInvoker(runtime, tgiContract())
  const request = (input: string, params: InvokeRequest['params'] = {}): InvokeRequest => ({
    // the batcher's list body, which a contract other than jumpstart-list must not send
    endpoint: 'tgi', params, inputs: [input], body: JSON.stringify({ text_inputs: [input] }), signal: new AbortController().signal, deadline: Date.now() + 10_000, batchId: 'b', attempt: 1
  })

  t.same(await invoke(request('One two three. Four five.', { max_new_tokens: 2 })), [['One two']], 'the contract\'s body; its answer read')
  const two = await invoke(request('One two three. Four five.', { max_new_tokens: 2, do_sample: true, best_of: 2, details: true }))
  t.equal(two[0]?.length, 2, 'best_of 2: two sequences for the one input')

  const long = await invoke(request(Array.from({ length: 21 }, (_, i) => `w${i}`).join(' '))).catch((e: unknown) => e)
  t.ok(long instanceof InputRefused, 'a 422 is the input\'s fault, not the model\'s')
  t.match(long, { kind: 'model', message: /must have less than 20 tokens\. Given: 21 \(model status 422\)/ })

  const huge = await invoke(request('x'.repeat(SAGEMAKER_MAX_PAYLOAD_BYTES))).catch((e: unknown) => e)
  t.ok(huge instanceof InvokeError && !(huge instanceof InputRefused))
  t.match(huge, { kind: 'model', message: `the tgi payload is ${SAGEMAKER_MAX_PAYLOAD_BYTES + 29} bytes, over SageMaker's ${SAGEMAKER_MAX_PAYLOAD_BYTES}-byte limit` })
  t.equal(stack.sagemaker.stats().invocations, 3, 'the oversized body was never sent')
})
