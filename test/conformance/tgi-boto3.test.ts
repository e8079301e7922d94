// boto3 against the local stack's emulated TGI endpoint: invoke_endpoint and
// invoke_endpoint_with_response_stream (its EventStream iterated and reassembled), TGI's errors
// as ModelError with OriginalStatusCode, and the list container beside it unchanged
// (test/conformance/tgi_stream.py; AWS API reference: InvokeEndpointWithResponseStream,
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html,
// and ResponseStream, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_ResponseStream.html).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'
import { isolatedAwsEnv, runPython } from '../helpers/python.js'

const SCRIPT = fileURLToPath(new URL('./tgi_stream.py', import.meta.url))
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const LIST_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04'
const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. ' +
  'The line will connect the airport with the central station. Officials expect ten thousand riders a day. Critics worry about the cost.'

const boto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' })
const skip = boto3.status === 0 ? false : 'python3 with boto3 is not available (apt-get install python3-boto3; .ci/run does)'

t.test('boto3 on a TGI endpoint: invoke_endpoint, invoke_endpoint_with_response_stream, ModelError 422/429', { skip }, async t => {
  const dir = await tempDir(t, 't2t-tgi-boto3-')
  const { stack, sm } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 100 })
  const limits = { MAX_INPUT_LENGTH: '60', MAX_TOTAL_TOKENS: '300', MAX_CONCURRENT_REQUESTS: '3', LOCAL_TOKEN_DELAY_MS: '40' }
  for (const [name, container] of [
    ['flan-t5-tgi', { Image: TGI_IMAGE, Environment: limits }],
    ['flan-t5-list', { Image: LIST_IMAGE, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } }]
  ] as const) {
    await sm.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: container, ExecutionRoleArn: ROLE }))
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
    await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }))
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 30, minDelay: 1 }, { EndpointName: name })
  }
  const env: Record<string, string> = {
    ...isolatedAwsEnv(dir),
    SAGEMAKER_ENDPOINT_URL: stack.awsTarget.sagemakerEndpoint ?? '',
    TGI_ENDPOINT: 'flan-t5-tgi',
    LIST_ENDPOINT: 'flan-t5-list',
    ARTICLE,
    MAX_INPUT_LENGTH: limits.MAX_INPUT_LENGTH,
    MAX_CONCURRENT_REQUESTS: limits.MAX_CONCURRENT_REQUESTS,
    TOKEN_DELAY_MS: limits.LOCAL_TOKEN_DELAY_MS,
  }
  const run = await runPython(SCRIPT, env, 120_000)
  t.equal(run.code, 0, `tgi_stream.py exited ${String(run.code)}:\n${run.stdout}\n${run.stderr.slice(-3000)}`)
  const lines = run.stdout.split('\n').filter((l) => l !== '')
  t.notOk(lines.some((l) => l.startsWith('not ok')), 'no failed check')
  for (const check of [
    'invoke_endpoint: [{generated_text}]',
    'ContentType is the container\'s text/event-stream',
    'stream: the last event\'s generated_text is invoke_endpoint\'s answer',
    'stream: the tokens reassemble into it',
    'stream: more PayloadParts than events (cut at arbitrary bytes)',
    'a list in inputs: ModelError, OriginalStatusCode 422',
    'inputs over MAX_INPUT_LENGTH: ModelError, OriginalStatusCode 422, TGI\'s validation body',
    'a list on the stream API: ModelError 422 before any event',
    'past MAX_CONCURRENT_REQUESTS: ModelError, OriginalStatusCode 429, Model is overloaded',
    'the list container answers as before'
  ]) t.ok(lines.includes(`ok - ${check}`), check)
  t.ok(lines.some((l) => /^ok - stream: the first PayloadPart arrives before half of the generation/.test(l)), 'first token before the generation ends')
  const summary = JSON.parse(lines.at(-1) ?? '{}') as { tokens?: number, parts?: number }
  t.ok((summary.tokens ?? 0) > 10, `${summary.tokens ?? 0} events streamed in ${summary.parts ?? 0} parts`)
})
