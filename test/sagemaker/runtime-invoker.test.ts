import t from 'tap'
import { InvokeError } from '../../src/batching/errors.js'
import type { InvokeRequest } from '../../src/batching/batcher.js'
import { summarize } from '../../src/local/engine.js'
import { startLocalSageMaker } from '../../src/local/server.js'
import { createRuntimeClient } from '../../src/sagemaker/clients.js'
import { parseListResponse, ResponseShapeError } from '../../src/sagemaker/response-shapes.js'
import { classifyInvokeError, createInvoker } from '../../src/sagemaker/runtime.js'

t.test('list responses in every shape JumpStart containers produce', async t => {
  t.same(parseListResponse({ generated_texts: ['a', 'b'] }, 2), [['a'], ['b']], 'flat list, one sequence each')
  t.same(parseListResponse({ generated_texts: [['a1', 'a2'], ['b1', 'b2']] }, 2), [['a1', 'a2'], ['b1', 'b2']], 'list of lists')
  t.same(parseListResponse({ generated_texts: [{ generated_text: 'a' }, { generated_text: 'b' }] }, 2), [['a'], ['b']], 'list of objects')
  t.same(parseListResponse([{ generated_text: 'a' }, { generated_text: 'b' }], 2), [['a'], ['b']], 'top-level list of objects')
  t.same(parseListResponse([[{ generated_text: 'a1' }, { generated_text: 'a2' }], [{ generated_text: 'b1' }, { generated_text: 'b2' }]], 2), [['a1', 'a2'], ['b1', 'b2']], 'top-level list of lists of objects')
  t.same(parseListResponse({ generated_texts: ['a1', 'a2', 'b1', 'b2'] }, 2, 2), [['a1', 'a2'], ['b1', 'b2']], 'flat count×k list with k sequences each')
  t.same(parseListResponse({ generated_text: 'only' }, 1), [['only']], 'a single generated_text string')
  t.same(parseListResponse([['a'], ['b']], 2), [['a'], ['b']], 'top-level list of lists of texts (the JumpStart FLAN-T5 container; the local stack answers so)')
  t.same(parseListResponse(['a', 'b'], 2), [['a'], ['b']], 'top-level flat list of texts')
})

t.test('a count mismatch or an unreadable body is a ResponseShapeError', async t => {
  t.throws(() => parseListResponse({ generated_texts: ['a'] }, 2), ResponseShapeError)
  t.throws(() => parseListResponse({ generated_texts: ['a', 'b', 'c'] }, 2, 2), ResponseShapeError)
  t.throws(() => parseListResponse({ outputs: [] }, 1), ResponseShapeError)
  t.throws(() => parseListResponse({ generated_texts: [42] }, 1), /generated_texts\[0\] is not a generated text/)
  t.throws(() => parseListResponse(null, 1), ResponseShapeError)
})

t.test('SDK errors map to the batcher kinds', async t => {
  const model = classifyInvokeError({ name: 'ModelError', OriginalStatusCode: 400, OriginalMessage: '{\n  "code": 400,\n  "type": "BadRequestException",\n  "message": "input 3 is broken"\n}\n', message: 'Received client error (400) from primary with message ... arn:aws:logs:...' }, false)
  t.equal(model.kind, 'model')
  t.equal(model.message, 'input 3 is broken (model status 400)', "the container's own message, no AWS internals")
  t.equal(classifyInvokeError({ name: 'ModelError', OriginalMessage: 'plain words' }, false).message, 'plain words')
  for (const name of ['ThrottlingException', 'ModelNotReadyException', 'ServiceUnavailable', 'InternalFailure', 'InternalDependencyException', 'TimeoutError']) {
    t.equal(classifyInvokeError({ name, message: 'x' }, false).kind, 'retryable', name)
  }
  t.equal(classifyInvokeError({ name: 'Error', code: 'ECONNRESET' }, false).kind, 'retryable', 'a reset socket')
  t.equal(classifyInvokeError({ name: 'Unknown', $metadata: { httpStatusCode: 502 } }, false).kind, 'retryable', 'any 5xx')
  t.equal(classifyInvokeError({ name: 'ValidationError', message: 'Endpoint x of account y not found.', $metadata: { httpStatusCode: 400 } }, false).kind, 'fatal')
  t.equal(classifyInvokeError({ name: 'AbortError' }, true).kind, 'fatal', 'abandoned by every caller')
})

t.test('the gateway invoker over the real SDK: each call has its own abort signal', async t => {
  // the client resolves its middleware once (no per-call options), so the signal rides on the
  // body buffer: aborting one call must stop that call only, long before the endpoint answers
  const stack = await startLocalSageMaker({ endpointNames: ['m'], latencyBaseMs: 1500 })
  const runtime = createRuntimeClient({ region: 'us-east-1', sagemakerEndpoint: stack.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }, 4)
  t.teardown(async () => { runtime.client.destroy(); await stack.close() })
  const invoke = createInvoker(runtime)
  const request = (input: string, signal: AbortSignal): InvokeRequest => ({
    endpoint: 'm', params: {}, inputs: [input], body: JSON.stringify({ text_inputs: [input] }), signal, deadline: Date.now() + 10_000, batchId: input, attempt: 1
  })
  const kept = new AbortController()
  const dropped = new AbortController()
  const started = performance.now()
  const keptCall = invoke(request('First sentence stays. Second one goes.', kept.signal))
  const droppedCall = invoke(request('Another text here. And more.', dropped.signal))
  setTimeout(() => { dropped.abort(new Error('every caller left')) }, 100)
  const err = await droppedCall.then(() => undefined, (e: unknown) => e)
  const abandonedAfter = performance.now() - started
  t.ok(err instanceof InvokeError && err.kind === 'fatal' && /abandoned/.test(err.message), `the aborted call failed as abandoned (${String(err)})`)
  t.ok(abandonedAfter < 1000, `and at once (${abandonedAfter.toFixed(0)} ms, the endpoint takes 1500)`)
  t.same(await keptCall, [summarize('First sentence stays. Second one goes.')], 'the other call, in flight on the same client, was untouched')
})
