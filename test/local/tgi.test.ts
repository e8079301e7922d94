// The local stack's emulated TGI container, judged by the AWS SDK for JavaScript: a model whose
// image is Hugging Face TGI's (as JumpStart FLAN-T5 2.x deploys it) answers TGI's contract
// through InvokeEndpoint and InvokeEndpointWithResponseStream, and the list container's model
// beside it is unchanged.
// AWS API reference: InvokeEndpointWithResponseStream
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html)
// answers a ResponseStream
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_ResponseStream.html) of
// PayloadPart events whose Bytes are parts of the container's response; a container error before
// the stream is a ModelError with OriginalStatusCode, as for InvokeEndpoint
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
// TGI's behaviour: text-generation-inference router/src/server.rs (compat_generate,
// generate_stream_internal) and router/src/validation.rs (validate).
import t from 'tap'
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, waitUntilEndpointInService, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient, type ModelError } from '@aws-sdk/client-sagemaker-runtime'
import { LOCAL_CREDENTIALS } from '../../src/sagemaker/clients.js'
import { tgiContract, StreamFailure, type StreamEvent } from '../../src/sagemaker/contracts/index.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
/** The image JumpStart FLAN-T5 2.x deploys (huggingface-text2text-flan-t5-large 2.3.x). */
export const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const LIST_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04'

const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. ' +
  'The line will connect the airport with the central station. Officials expect ten thousand riders a day. Critics worry about the cost.'

/** Deploys `name` (model, config, endpoint) and waits for InService as model.deploy() does. */
async function deploy (sm: SageMakerClient, name: string, container: { Image: string, Environment?: Record<string, string> }): Promise<void> {
  await sm.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: container, ExecutionRoleArn: ROLE }))
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
  await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }))
  await waitUntilEndpointInService({ client: sm, maxWaitTime: 30, minDelay: 1 }, { EndpointName: name })
}

/** Everything the stream's PayloadParts carried, parsed by the tgi contract as it arrives; with arrival times. */
async function readStream (runtime: SageMakerRuntimeClient, endpoint: string, body: unknown): Promise<{ parts: Buffer[], events: StreamEvent[], firstPartAt: number, doneAt: number, startedAt: number }> {
  const startedAt = performance.now()
  const out = await runtime.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: endpoint, ContentType: 'application/json', Body: JSON.stringify(body) }))
  const parser = tgiContract().streamParser?.()
  if (parser === undefined) throw new Error('tgi streams')
  const parts: Buffer[] = []
  const events: StreamEvent[] = []
  let firstPartAt = Number.NaN
  for await (const event of out.Body ?? []) {
    const bytes = event.PayloadPart?.Bytes
    if (bytes === undefined) continue
    if (parts.length === 0) firstPartAt = performance.now()
    parts.push(Buffer.from(bytes))
    events.push(...parser.feed(bytes))
  }
  events.push(...parser.end())
  return { parts, events, firstPartAt, doneAt: performance.now(), startedAt }
}

async function modelError (p: Promise<unknown>): Promise<ModelError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof Error) || err.name !== 'ModelError') throw new Error(`expected a ModelError, got ${String(err)}`)
  return err as ModelError
}

t.test('a TGI model through the JS SDK: TGI\'s contract, its errors as ModelError, and real token streaming', async t => {
  const dir = await tempDir(t, 't2t-tgi-')
  const { stack, sm } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 100, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const runtime = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: stack.awsTarget.sagemakerEndpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => { runtime.destroy() })
  const TOKEN_MS = 40
  await deploy(sm, 'flan-tgi', { Image: TGI_IMAGE, Environment: { MAX_INPUT_LENGTH: '60', MAX_TOTAL_TOKENS: '300', MAX_CONCURRENT_REQUESTS: '2', LOCAL_TOKEN_DELAY_MS: String(TOKEN_MS) } })
  await deploy(sm, 'flan-list', { Image: LIST_IMAGE, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } })
  const invoke = async (endpoint: string, body: unknown, contentType = 'application/json'): Promise<{ text: string, contentType: string | undefined }> => {
    const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: contentType, Body: JSON.stringify(body) }))
    return { text: new TextDecoder().decode(out.Body), contentType: out.ContentType }
  }

  await t.test('InvokeEndpoint: {"inputs": one string} answers [{"generated_text"}], unknown parameters ignored as serde does', async t => {
    const out = await invoke('flan-tgi', { inputs: ARTICLE, parameters: { max_new_tokens: 12, no_such_parameter: 1 } })
    t.equal(out.contentType, 'application/json')
    const answer = JSON.parse(out.text) as Array<{ generated_text: string }>
    t.equal(answer.length, 1, 'one generation wrapped in a list (compat_generate)')
    t.equal(answer[0].generated_text.split(' ').length, 12, 'max_new_tokens words')
    t.ok(ARTICLE.startsWith(answer[0].generated_text), 'the lead of the article')
    t.same(tgiContract().parseResponse(answer, 1), [[answer[0].generated_text]], 'the tgi contract reads it')
  })

  await t.test('the errors: ModelError with OriginalStatusCode and TGI\'s own body', async t => {
    const list = await modelError(invoke('flan-tgi', { inputs: ['a', 'b'] }))
    t.equal(list.$metadata.httpStatusCode, 424)
    t.equal(list.OriginalStatusCode, 422, 'a list in inputs does not deserialise')
    t.match(list.OriginalMessage, /inputs: invalid type: sequence, expected a string/)

    const long = await modelError(invoke('flan-tgi', { inputs: Array.from({ length: 61 }, (_, i) => `w${i}`).join(' '), parameters: { max_new_tokens: 5 } }))
    t.equal(long.OriginalStatusCode, 422)
    t.same(JSON.parse(long.OriginalMessage ?? ''), { error: 'Input validation error: `inputs` must have less than 60 tokens. Given: 61', error_type: 'validation' })
    t.equal(tgiContract().mapContainerError(long.OriginalStatusCode, long.OriginalMessage).callerFault, true)

    const truncated = await invoke('flan-tgi', { inputs: Array.from({ length: 61 }, (_, i) => `w${i}.`).join(' '), parameters: { max_new_tokens: 3, truncate: 60 } })
    t.match(truncated.text, /^\[\{"generated_text":"w1\. w2\. w3\."/, 'truncate keeps the last 60 words (TGI truncates from the left)')

    const generation = await modelError(invoke('flan-tgi', { inputs: 'A POISON pill. Nothing else.' }))
    t.equal(generation.OriginalStatusCode, 424)
    t.equal(JSON.parse(generation.OriginalMessage ?? '').error_type, 'generation')

    const type = await modelError(invoke('flan-tgi', { inputs: 'x' }, 'text/plain'))
    t.equal(type.OriginalStatusCode, 415, 'its JSON extractor wants application/json')

    // MAX_CONCURRENT_REQUESTS 2: two slow generations hold both permits, the third is refused
    const slow = { inputs: ARTICLE, parameters: { max_new_tokens: 10 } }
    const held = [invoke('flan-tgi', slow), invoke('flan-tgi', slow)]
    // both must hold their permits before the third arrives (a fixed wait lost that race on a busy machine)
    for (const until = Date.now() + 10_000; stack.sagemaker.runtime.tgiBusy('flan-tgi') < 2;) {
      if (Date.now() > until) throw new Error(`two generations not running within 10 s (${stack.sagemaker.runtime.tgiBusy('flan-tgi')} hold permits)`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const overloaded = await modelError(invoke('flan-tgi', slow))
    t.equal(overloaded.OriginalStatusCode, 429)
    t.same(JSON.parse(overloaded.OriginalMessage ?? ''), { error: 'Model is overloaded', error_type: 'overloaded' })
    t.equal(tgiContract().mapContainerError(429, overloaded.OriginalMessage).kind, 'retryable', '429 is worth another attempt')
    await Promise.all(held)
    t.match((await invoke('flan-tgi', slow)).text, /generated_text/, 'permits come back when generations end')
  })

  await t.test('InvokeEndpointWithResponseStream: PayloadParts reassembled by the tgi stream parser equal the non-streamed answer', async t => {
    const parameters = { max_new_tokens: 30 }
    const whole = JSON.parse((await invoke('flan-tgi', { inputs: ARTICLE, parameters })).text) as Array<{ generated_text: string }>
    const read = await readStream(runtime, 'flan-tgi', { inputs: ARTICLE, parameters, stream: true })
    const tokens = read.events.filter((e) => e.type === 'token').map((e) => e.text)
    const done = read.events.filter((e) => e.type === 'done')
    t.equal(done.length, 1, 'one final event')
    t.equal(done[0].text, whole[0].generated_text, 'the streamed final text is the non-streamed answer')
    t.equal(tokens.join(''), whole[0].generated_text, 'the tokens add up to it')
    t.ok(tokens.length > 10, `${tokens.length} tokens`)
    // the parts are cut at arbitrary bytes: some part ends inside an event
    const raw = Buffer.concat(read.parts).toString('utf8')
    t.match(raw, /^data:\{"index":1,"token":\{"id":\d+,"text":"The","logprob":-?[\d.]+,"special":false\},"generated_text":null,"details":null\}\n\n/, 'TGI\'s StreamResponse as SSE')
    t.ok(read.parts.some((p) => !p.toString('latin1').endsWith('\n\n')), 'parts not aligned to events')
    t.ok(read.parts.length > tokens.length, `${read.parts.length} parts for ${tokens.length} tokens`)

    // the first part arrives while most of the generation is still to come
    const total = read.doneAt - read.startedAt
    const first = read.firstPartAt - read.startedAt
    t.ok(first < total / 2, `first part after ${first.toFixed(0)} ms of ${total.toFixed(0)} ms`)
  })

  await t.test('a stream: a list is refused before it starts; a too-long input, a generation failure mid-way are error events', async t => {
    const list = await modelError(runtime.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'flan-tgi', ContentType: 'application/json', Body: JSON.stringify({ inputs: ['a'], stream: true }) })))
    t.equal(list.OriginalStatusCode, 422)

    // generate_stream validates inside the stream: status 200, then data:{"error",...}
    const long = await readStream(runtime, 'flan-tgi', { inputs: Array.from({ length: 61 }, () => 'w').join(' '), stream: true }).then(() => undefined, (e: unknown) => e)
    t.ok(long instanceof StreamFailure, 'the parser raises the error event')
    t.equal((long as StreamFailure).errorType, 'validation')
    t.match((long as StreamFailure).message, /must have less than 60 tokens/)

    const midway = await readStream(runtime, 'flan-tgi', { inputs: `${ARTICLE} POISON`, stream: true }).then(() => undefined, (e: unknown) => e)
    t.ok(midway instanceof StreamFailure)
    t.equal((midway as StreamFailure).errorType, 'generation', 'never a silently shorter text')
  })

  await t.test('the list container\'s model beside it is unchanged, also through the stream API', async t => {
    const body = { text_inputs: ['The bridge reopened today. Traffic was heavy.'], max_length: 3 }
    const out = await invoke('flan-list', body)
    t.same(JSON.parse(out.text), [['The bridge reopened']])
    const streamed = await runtime.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'flan-list', ContentType: 'application/json', Body: JSON.stringify(body) }))
    t.equal(streamed.ContentType, 'application/json')
    const parts: Buffer[] = []
    for await (const event of streamed.Body ?? []) if (event.PayloadPart?.Bytes !== undefined) parts.push(Buffer.from(event.PayloadPart.Bytes))
    t.same(JSON.parse(Buffer.concat(parts).toString('utf8')), [['The bridge reopened']], 'its whole answer, in parts')
    const refused = await modelError(invoke('flan-list', { text_inputs: 'x', no_such: 1 }))
    t.equal(refused.OriginalStatusCode, 400)
    t.match(JSON.parse(refused.OriginalMessage ?? '').message, /Unknown parameter "no_such"/, 'the toolkit\'s error body, as before')
  })
})
