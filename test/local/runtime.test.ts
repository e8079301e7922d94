// The local runtime judged by the real AWS SDK over HTTP: every error must come out of the SDK's
// own deserialisers as the exception (name, status, fields, retry class) AWS would produce.
import t from 'tap'
import {
  InternalFailure, InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, ServiceUnavailable, ValidationError,
  type InvokeEndpointCommandInput, type InvokeEndpointCommandOutput
} from '@aws-sdk/client-sagemaker-runtime'
import { DescribeTransformJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker'
import { ConfiguredRetryStrategy, isThrottlingError, isTransientError } from '@smithy/core/retry'
import { startLocalSageMaker, type AwsJsonService, type LocalSageMaker, type LocalSageMakerOptions } from '../../src/local/server.js'
import { MAX_PAYLOAD_BYTES, type LocalStats } from '../../src/local/runtime.js'
import { summarize } from '../../src/local/engine.js'
import { AwsServiceError } from '../../src/local/wire.js'

const ENDPOINT = 'flan-t5-local'
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }
const ARTICLE = 'The library reopened after a long renovation. Its reading room now has twice the seats. ' +
  'Volunteers restored the old map collection. A cafe will open next month.'
const LEAD = summarize(ARTICLE)[0]

interface Setup {
  stack: LocalSageMaker
  client: SageMakerRuntimeClient
  invoke: (body: unknown, input?: Partial<InvokeEndpointCommandInput>) => Promise<InvokeEndpointCommandOutput>
}

async function setup (t: Tap, options: LocalSageMakerOptions = {}, clientOptions: { maxAttempts?: number, retryStrategy?: ConfiguredRetryStrategy } = {}): Promise<Setup> {
  const stack = await startLocalSageMaker({ endpointNames: [ENDPOINT], ...options })
  const client = new SageMakerRuntimeClient({
    endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1, ...clientOptions
  })
  t.teardown(async () => {
    client.destroy()
    await stack.close()
  })
  const invoke = async (body: unknown, input: Partial<InvokeEndpointCommandInput> = {}): Promise<InvokeEndpointCommandOutput> =>
    await client.send(new InvokeEndpointCommand({
      EndpointName: ENDPOINT,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body)),
      ...input
    }))
  return { stack, client, invoke }
}

/** The rejection of `promise`, failing the test if it resolves. */
async function rejection (t: Tap, promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise
  } catch (err) {
    return err as SdkError
  }
  t.fail('expected a rejection')
  throw new Error('expected a rejection')
}

function json (out: InvokeEndpointCommandOutput): unknown {
  return JSON.parse(Buffer.from(out.Body ?? new Uint8Array()).toString('utf8'))
}

/** The part of a tap test the helpers use. */
interface Tap {
  teardown: (fn: () => unknown) => void
  fail: (message: string) => unknown
}

/** What the SDK throws: an Error with AWS metadata and the error shape's fields. */
type SdkError = Error & Record<string, unknown> & {
  $fault?: string
  $metadata: { httpStatusCode?: number, requestId?: string, attempts?: number }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('success: string and list payloads', async (t) => {
  const { invoke, stack } = await setup(t)
  const one = await invoke({ text_inputs: 'Briefly summarize this text: ' + ARTICLE })
  t.same(json(one), { generated_texts: [LEAD] })
  t.equal(one.ContentType, 'application/json')
  t.equal(one.InvokedProductionVariant, 'AllTraffic')
  t.match(one.$metadata, { httpStatusCode: 200, requestId: UUID })

  const list = await invoke({ text_inputs: [ARTICLE, 'Short one. Two.', ARTICLE], max_length: 4 })
  // a top-level list, one list of texts per input: what the AWS notebook prints one per line
  // (text2text-generation-flan-t5-Batch-Transform.ipynb, "Real-Time Batch Inference")
  t.same(json(list), [['The library reopened after'], ['Short one. Two.'], ['The library reopened after']])

  const nested = json(await invoke({ text_inputs: [ARTICLE, 'Short one. Two.'], num_return_sequences: 2, num_beams: 2 }))
  t.same(nested, [summarize(ARTICLE, { num_return_sequences: 2 }), ['Short one. Two.', 'Short one.']],
    'num_return_sequences > 1: k texts per input')

  const text = await invoke(ARTICLE, { ContentType: 'application/x-text' })
  t.same(json(text), { generated_text: LEAD }, 'JumpStart application/x-text answers {generated_text}')

  const verbose = await invoke({ text_inputs: ARTICLE }, { Accept: 'application/json;verbose' })
  t.equal(verbose.ContentType, 'application/json;verbose', 'Content-Type follows Accept')

  t.match(stack.stats(), {
    invocations: 5, items: 8, outcomes: { success: 5 }, itemsByOutcome: { success: 8 }, batchSizes: [1, 3, 2, 1, 1], inFlight: 0
  })
})

t.test('ModelError: an invalid body is the container\'s 400, surfaced as 424', async (t) => {
  const { invoke, stack } = await setup(t)
  const err = await rejection(t, invoke({ inputs: ARTICLE }))
  t.ok(err instanceof ModelError, 'the SDK\'s ModelError class')
  t.equal(err.name, 'ModelError')
  t.equal(err.$fault, 'client')
  t.equal(err.$metadata.httpStatusCode, 424)
  t.match(err.$metadata.requestId, UUID)
  t.equal(err.OriginalStatusCode, 400)
  t.match(err.OriginalMessage, /"code": 400/)
  t.match(err.OriginalMessage, /"message": "\\"text_inputs\\" is required"/)
  t.equal(err.LogStreamArn, `arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/${ENDPOINT}`)
  t.match(err.message, /^Received client error \(400\) from primary with message "\{/)
  t.match(err.message, /in account 000000000000 for more information\.$/)
  t.notOk(isThrottlingError(err as never) || isTransientError(err as never), 'not retryable')

  const notJson = await rejection(t, invoke('{"text_inputs": '))
  t.match(notJson, { name: 'ModelError', OriginalStatusCode: 400, OriginalMessage: /not valid JSON/ })

  const badParam = await rejection(t, invoke({ text_inputs: ARTICLE, max_length: 'long' }))
  t.match(badParam, { name: 'ModelError', OriginalStatusCode: 400, OriginalMessage: /max_length/ })

  const contentType = await rejection(t, invoke({ text_inputs: ARTICLE }, { ContentType: 'text/csv' }))
  t.match(contentType, { name: 'ModelError', OriginalStatusCode: 415, OriginalMessage: /Content type text\/csv is not supported/ })
  const noContentType = await rejection(t, invoke({ text_inputs: ARTICLE }, { ContentType: undefined }))
  t.match(noContentType, { name: 'ModelError', OriginalStatusCode: 415 }, 'the SDK defaults to application/octet-stream')
  const accept = await rejection(t, invoke({ text_inputs: ARTICLE }, { Accept: 'text/csv' }))
  t.match(accept, { name: 'ModelError', OriginalStatusCode: 406 })

  t.match(stack.stats(), { invocations: 6, outcomes: { modelError: 6, success: 0 } })
})

t.test('ModelError: a poisoned input fails the whole invocation', async (t) => {
  const { invoke, stack } = await setup(t, { faultModelErrorPattern: 'POISON\\d' })
  const err = await rejection(t, invoke({ text_inputs: [ARTICLE, 'fine text.', 'this has POISON7 inside.', ARTICLE] }))
  t.ok(err instanceof ModelError)
  t.equal(err.$metadata.httpStatusCode, 424)
  t.equal(err.OriginalStatusCode, 400)
  t.match(err.OriginalMessage, /text_inputs\[2\] cannot be processed: it matches the fault pattern \/POISON\\\\d\//)
  t.match(err.LogStreamArn, /^arn:aws:logs:us-east-1:000000000000:log-group:\/aws\/sagemaker\/Endpoints\/flan-t5-local$/)

  const ok = await invoke({ text_inputs: [ARTICLE, 'fine text.'] })
  t.equal((json(ok) as string[][]).length, 2, 'the same items without the poisoned one succeed')
  t.match(stack.stats(), { items: 6, itemsByOutcome: { modelError: 4, success: 2 }, batchSizes: [4, 2] })
})

t.test('ValidationError: unknown or malformed endpoint name', async (t) => {
  const { invoke, stack } = await setup(t)
  const err = await rejection(t, invoke({ text_inputs: ARTICLE }, { EndpointName: 'nope' }))
  t.ok(err instanceof ValidationError)
  t.match(err, { name: 'ValidationError', $fault: 'client', message: 'Endpoint nope of account 000000000000 not found.' })
  t.equal(err.$metadata.httpStatusCode, 400)

  const malformed = await rejection(t, invoke({ text_inputs: ARTICLE }, { EndpointName: 'bad_name' }))
  t.match(malformed, { name: 'ValidationError', message: /Value 'bad_name' at 'endpointName' failed to satisfy constraint/ })
  t.match(stack.stats(), { invocations: 2, items: 0, outcomes: { validationError: 2 } })
})

t.test('any endpoint name exists when endpointNames is unset', async (t) => {
  const stack = await startLocalSageMaker()
  const client = new SageMakerRuntimeClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(async () => { client.destroy(); await stack.close() })
  const out = await client.send(new InvokeEndpointCommand({
    EndpointName: 'whatever-1', ContentType: 'application/json', Body: Buffer.from(JSON.stringify({ text_inputs: ARTICLE }))
  }))
  t.same(json(out), { generated_texts: [LEAD] })
})

t.test('payload limit: 6 MB passes, one byte more is a 413', async (t) => {
  const { invoke, stack } = await setup(t)
  const envelope = JSON.stringify({ text_inputs: '' })
  const fill = (bytes: number): string => JSON.stringify({ text_inputs: 'Word. '.repeat(bytes).slice(0, bytes - envelope.length) })

  const atLimit = fill(MAX_PAYLOAD_BYTES)
  t.equal(Buffer.byteLength(atLimit), MAX_PAYLOAD_BYTES)
  const ok = await invoke(atLimit)
  t.same(json(ok), { generated_texts: ['Word. Word. Word.'] })

  const err = await rejection(t, invoke(fill(MAX_PAYLOAD_BYTES + 1)))
  t.equal(err.$metadata.httpStatusCode, 413)
  t.equal(err.message, `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.`)
  t.equal(err.name, 'Unknown', 'AWS sends no error type for it, so the SDK cannot name it')
  t.equal(err.$fault, 'client')

  const after = await invoke({ text_inputs: ARTICLE })
  t.equal(after.$metadata.httpStatusCode, 200, 'the server (and its keep-alive socket) keeps working')
  t.match(stack.stats(), { outcomes: { payloadTooLarge: 1, success: 2 } })
})

t.test('throttling: more than maxConcurrency invocations in flight', async (t) => {
  const { invoke, stack } = await setup(t, { maxConcurrency: 2, latencyBaseMs: 150 })
  const results = await Promise.allSettled(Array.from({ length: 4 }, async () => await invoke({ text_inputs: ARTICLE })))
  const ok = results.filter((r) => r.status === 'fulfilled')
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error & { $metadata: { httpStatusCode?: number } }] : []))
  t.equal(ok.length, 2, 'maxConcurrency invocations succeed')
  t.equal(failed.length, 2, 'the rest are throttled')
  for (const err of failed) {
    t.equal(err.name, 'ThrottlingException')
    t.equal(err.$metadata.httpStatusCode, 400, 'SageMaker throttles with HTTP 400')
    t.equal(err.message, 'UnknownError', 'SageMaker sends {"message": null}')
    t.ok(isThrottlingError(err as never), 'the SDK classifies it as throttling')
  }
  t.match(stack.stats(), { invocations: 4, outcomes: { success: 2, throttled: 2 }, maxInFlight: 2, inFlight: 0, batchSizes: [1, 1] })

  const again = await invoke({ text_inputs: ARTICLE })
  t.equal(again.$metadata.httpStatusCode, 200, 'capacity frees up once invocations answer')
})

t.test('the SDK retries a throttle by itself when allowed to', async (t) => {
  const draws = [0.01, 0.99]
  const { invoke, stack } = await setup(t, { faultThrottleRate: 0.5, random: () => draws.shift() ?? 0.99 },
    { retryStrategy: new ConfiguredRetryStrategy(2, 1) })
  const out = await invoke({ text_inputs: ARTICLE })
  t.equal(out.$metadata.attempts, 2, 'one throttle, then success')
  t.match(stack.stats(), { invocations: 2, outcomes: { throttled: 1, success: 1 } })
})

t.test('injected faults follow the injected random', async (t) => {
  // r < throttle → throttle; r < throttle + error/2 → 503; r < throttle + error → 500; else success.
  const draws = [0.05, 0.2, 0.35, 0.9]
  const { invoke, stack } = await setup(t, { faultThrottleRate: 0.1, faultErrorRate: 0.4, random: () => draws.shift() ?? 0.99 })
  const throttle = await rejection(t, invoke({ text_inputs: ARTICLE }))
  t.match(throttle, { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })

  const unavailable = await rejection(t, invoke({ text_inputs: ARTICLE }))
  t.ok(unavailable instanceof ServiceUnavailable)
  t.match(unavailable, { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } })
  t.ok(isTransientError(unavailable as never), 'retryable')

  const internal = await rejection(t, invoke({ text_inputs: ARTICLE }))
  t.ok(internal instanceof InternalFailure)
  t.match(internal, { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } })
  t.ok(isTransientError(internal as never), 'retryable')

  const ok = await invoke({ text_inputs: ARTICLE })
  t.equal(ok.$metadata.httpStatusCode, 200)
  t.match(stack.stats(), {
    invocations: 4, items: 1, outcomes: { throttled: 1, serviceUnavailable: 1, internalFailure: 1, success: 1 }
  })
})

t.test('emulated latency is base + per item × items', async (t) => {
  const { invoke } = await setup(t, { latencyBaseMs: 40, latencyPerItemMs: 20 })
  let start = performance.now()
  await invoke({ text_inputs: ARTICLE })
  const single = performance.now() - start
  start = performance.now()
  await invoke({ text_inputs: [ARTICLE, ARTICLE, ARTICLE, ARTICLE, ARTICLE] })
  const five = performance.now() - start
  t.ok(single >= 58, `1 item waits >= 60 ms (took ${single.toFixed(0)})`)
  t.ok(five >= 138, `5 items wait >= 140 ms (took ${five.toFixed(0)})`)
})

t.test('stats over HTTP for other processes', async (t) => {
  const { invoke, stack } = await setup(t)
  await invoke({ text_inputs: [ARTICLE, ARTICLE] })
  await invoke({ text_inputs: ARTICLE })
  const res = await fetch(`${stack.url}/_local/stats`)
  t.equal(res.status, 200)
  const stats = await res.json() as LocalStats
  t.match(stats, { invocations: 2, items: 3, batchSizes: [2, 1], outcomes: { success: 2 } })

  const reset = await fetch(`${stack.url}/_local/stats/reset`, { method: 'POST' })
  t.equal(reset.status, 204)
  t.match(stack.stats(), { invocations: 0, items: 0, batchSizes: [], outcomes: { success: 0 }, maxInFlight: 0 })
})

t.test('bad requests never crash the server', async (t) => {
  const { stack, invoke } = await setup(t)
  const unknown = await fetch(`${stack.url}/nowhere`, { method: 'POST', body: 'x' })
  t.equal(unknown.status, 404)
  t.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException')
  t.match(unknown.headers.get('x-amzn-requestid'), UUID)

  const garbage = await fetch(`${stack.url}/endpoints/${ENDPOINT}/invocations`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0xff, 0xfe, 0x00, 0x7b])
  })
  t.equal(garbage.status, 424)
  t.equal(garbage.headers.get('x-amzn-errortype'), 'ModelError')
  t.match(await garbage.json(), { OriginalStatusCode: 400, ErrorCode: 'CLIENT_ERROR_FROM_MODEL' })

  const encoded = await fetch(`${stack.url}/endpoints/%E0%A4%A/invocations`, { method: 'POST', body: '{}' })
  t.equal(encoded.status, 400, 'an undecodable name is a ValidationError')

  const nullBody = await fetch(`${stack.url}/endpoints/${ENDPOINT}/invocations`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: 'null'
  })
  t.equal(nullBody.status, 424)

  const ok = await invoke({ text_inputs: ARTICLE })
  t.equal(ok.$metadata.httpStatusCode, 200, 'still serving')
})

t.test('close() lets in-flight invocations answer', async (t) => {
  const stack = await startLocalSageMaker({ latencyBaseMs: 100 })
  const client = new SageMakerRuntimeClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => { client.destroy() })
  const pending = client.send(new InvokeEndpointCommand({
    EndpointName: ENDPOINT, ContentType: 'application/json', Body: Buffer.from(JSON.stringify({ text_inputs: ARTICLE }))
  }))
  // close only once the invocation is in the server (a fixed sleep loses that race on a busy machine)
  while (stack.stats().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  const closed = stack.close()
  const out = await pending
  t.same(json(out), { generated_texts: [LEAD] })
  await closed
  await t.rejects(fetch(`${stack.url}/_local/stats`), 'no longer listening')
})

t.test('AWS JSON 1.1 seam for the control plane', async (t) => {
  const calls: Array<[string, Record<string, unknown>]> = []
  const service: AwsJsonService = {
    targetPrefix: 'SageMaker.',
    handle: async (operation, input) => {
      calls.push([operation, input])
      if (input.TransformJobName === 'missing') {
        throw new AwsServiceError(400, 'ValidationException', { Message: 'Could not find requested job with name missing' })
      }
      return { TransformJobName: input.TransformJobName, TransformJobStatus: 'Completed', CreationTime: 1_700_000_000 }
    }
  }
  const stack = await startLocalSageMaker({ jsonServices: [service] })
  const client = new SageMakerClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 })
  t.teardown(async () => { client.destroy(); await stack.close() })

  const out = await client.send(new DescribeTransformJobCommand({ TransformJobName: 'job-1' }))
  t.match(out, { TransformJobName: 'job-1', TransformJobStatus: 'Completed' })
  t.ok(out.CreationTime instanceof Date, 'epoch seconds parse as a Date')
  t.same(calls, [['DescribeTransformJob', { TransformJobName: 'job-1' }]])

  const err = await rejection(t, client.send(new DescribeTransformJobCommand({ TransformJobName: 'missing' })))
  t.match(err, { name: 'ValidationException', message: 'Could not find requested job with name missing', $metadata: { httpStatusCode: 400 } })
})
