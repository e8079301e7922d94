// The container contracts (src/sagemaker/contracts): payloads, answers, stream reassembly at every
// possible cut, in-stream errors, error statuses, and detection from DescribeModel's container.
// Sources: TGI router/src/server.rs (compat_generate, generate_stream_internal, From<InferError>
// for Event) and router/src/lib.rs (StreamResponse); djl-serving
// serving/docs/lmi/user_guides/lmi_input_output_schema.md.
import t from 'tap'
import { InvokeError } from '../../src/batching/errors.js'
import { encodePayload } from '../../src/batching/payload.js'
import {
  classifyContractError, detectContract, imageRepository, jumpstartList, lmiDynamic, lmiRolling, StreamFailure, tgiContract,
  type StreamEvent, type StreamParser
} from '../../src/sagemaker/contracts/index.js'
import { ResponseShapeError } from '../../src/sagemaker/response-shapes.js'

const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'

/** TGI's StreamResponse events for `words` (the last with generated_text), as its router writes them. */
function tgiEvents (words: string[], eos = true): string {
  const tokens = words.map((w, i) => ({ id: 10 + i, text: i === 0 ? w : ` ${w}`, logprob: -0.5, special: false }))
  if (eos) tokens.push({ id: 1, text: '</s>', logprob: 0, special: true })
  const text = tokens.filter((t) => !t.special).map((t) => t.text).join('')
  return tokens.map((token, i) => `data:${JSON.stringify({ index: i + 1, token, generated_text: i === tokens.length - 1 ? text : null, details: null })}\n\n`).join('')
}

/** Feeds `bytes` cut at `cuts` (ascending offsets), then ends. */
function feedCut (parser: StreamParser, bytes: Buffer, cuts: number[]): StreamEvent[] {
  const out: StreamEvent[] = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.feed(bytes.subarray(from, cut)))
    from = cut
  }
  out.push(...parser.end())
  return out
}

t.test('jumpstart-list: today\'s payload and answers, unchanged', async t => {
  t.equal(jumpstartList.buildPayload(['a', 'b'], { max_length: 5, do_sample: false }), encodePayload(['a', 'b'], { max_length: 5, do_sample: false }), 'the batcher\'s own encoding')
  t.same(jumpstartList.parseResponse([['x1'], ['y1']], 2), [['x1'], ['y1']])
  t.same(jumpstartList.parseResponse({ generated_texts: ['a1', 'a2'] }, 1, 2), [['a1', 'a2']])
  t.equal(jumpstartList.takesList, true)
  t.equal(jumpstartList.streams, false)
  t.equal(jumpstartList.streamParser, undefined)
})

t.test('tgi: one input per payload, parameters always present, stream flag', async t => {
  const tgi = tgiContract()
  t.equal(tgi.buildPayload(['Summarize: x'], { max_new_tokens: 20, do_sample: false }), '{"inputs":"Summarize: x","parameters":{"do_sample":false,"max_new_tokens":20}}')
  t.equal(tgi.buildPayload(['x'], {}, { stream: true }), '{"inputs":"x","parameters":{},"stream":true}')
  t.throws(() => tgi.buildPayload(['a', 'b'], {}), /takes one input per invocation, got 2/)
  t.same(tgi.parseResponse([{ generated_text: 'the summary' }], 1), [['the summary']])
  t.same(tgi.parseResponse([{ generated_text: 'best', details: { best_of_sequences: [{ generated_text: 'other' }] } }], 1, 2), [['best', 'other']], 'best_of\'s other sequence from details')
  t.throws(() => tgi.parseResponse({ generated_text: 'x' }, 1), ResponseShapeError, 'compat_generate always wraps in a list')
  t.throws(() => tgi.parseResponse([{ generated_text: 'x' }], 2), ResponseShapeError)
  t.throws(() => tgi.parseResponse([{ generated_text: 'x' }], 1, 2), /1 sequences for 2/)
  t.equal(tgi.maxInputsPerCall, 1)
  t.equal(tgi.maxConcurrentPerInstance, 128, 'MAX_CONCURRENT_REQUESTS default')
})

t.test('tgi stream parser: the same tokens and final text at every cut of the bytes, UTF-8 characters included', async t => {
  const words = ['Zürich', 'trams', 'run', 'again', '—', 'ünd', '🚋', 'fine.']
  const bytes = Buffer.from(tgiEvents(words))
  const expected: StreamEvent[] = [...words.map((w, i) => ({ type: 'token' as const, text: i === 0 ? w : ` ${w}` })), { type: 'done', text: words.join(' ') }]
  let checked = 0
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = feedCut(tgiContract().streamParser?.() as StreamParser, bytes, [cut])
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.fail(`cut at byte ${cut} of ${bytes.length}`)
      return
    }
    checked++
  }
  t.equal(checked, bytes.length + 1, `every single cut (${checked}) reassembles`)
  // one byte at a time, and CRLF line endings with a keep-alive comment
  t.same(feedCut(tgiContract().streamParser?.() as StreamParser, bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), expected, 'byte by byte')
  const crlf = Buffer.from(':keep-alive\r\n\r\n' + tgiEvents(['a', 'b']).replace(/\n/g, '\r\n'))
  t.same(feedCut(tgiContract().streamParser?.() as StreamParser, crlf, Array.from({ length: crlf.length - 1 }, (_, i) => i + 1)), [{ type: 'token', text: 'a' }, { type: 'token', text: ' b' }, { type: 'done', text: 'a b' }], 'CRLF cut between CR and LF')
})

t.test('tgi stream parser: an error event mid-stream and a cut-off stream fail, never a shorter text', async t => {
  const parser = tgiContract().streamParser?.() as StreamParser
  const head = tgiEvents(['one', 'two', 'three'], false).split('\n\n').slice(0, 2).join('\n\n') + '\n\n'
  t.same(parser.feed(Buffer.from(head)).map((e) => e.text), ['one', ' two'])
  t.throws(() => parser.feed(Buffer.from('data:{"error":"Request failed during generation: CUDA out of memory","error_type":"generation"}\n\n')),
    { name: 'StreamFailure', errorType: 'generation', message: /CUDA out of memory/ })

  const named = tgiContract().streamParser?.() as StreamParser
  t.throws(() => named.feed(Buffer.from('event:error\ndata:{"message":"boom"}\n\n')), StreamFailure, 'an `event: error` is an error whatever its data')

  const cut = tgiContract().streamParser?.() as StreamParser
  cut.feed(Buffer.from(head))
  t.throws(() => cut.end(), { name: 'StreamFailure', errorType: 'incomplete' }, 'ended before generated_text')

  const halfEvent = tgiContract().streamParser?.() as StreamParser
  const full = tgiEvents(['a'])
  halfEvent.feed(Buffer.from(full.slice(0, -2)))
  t.throws(() => halfEvent.end(), /ended before the final generated text/, 'the final event without its blank line is not dispatched')

  const after = tgiContract().streamParser?.() as StreamParser
  after.feed(Buffer.from(tgiEvents(['a'])))
  t.throws(() => after.feed(Buffer.from(tgiEvents(['b']))), /an event after the final generated text/)

  const halfChar = tgiContract().streamParser?.() as StreamParser
  halfChar.feed(Buffer.from(tgiEvents(['a'])))
  halfChar.feed(Buffer.from('é').subarray(0, 1))
  t.throws(() => halfChar.end(), { name: 'StreamFailure', errorType: 'incomplete', message: /inside a UTF-8 character/ })
})

t.test('tgi errors: 429 and 5xx retryable, 422 the caller\'s fault, through SageMaker\'s ModelError', async t => {
  const tgi = tgiContract()
  const overloaded = classifyContractError(tgi, { name: 'ModelError', OriginalStatusCode: 429, OriginalMessage: '{"error":"Model is overloaded","error_type":"overloaded"}', message: 'Received client error (429) ... arn:aws:logs:us-east-1:123456789012:x' }, false)
  t.ok(overloaded instanceof InvokeError)
  t.equal(overloaded.kind, 'retryable')
  t.equal(overloaded.message, 'Model is overloaded (model status 429)')
  const long = classifyContractError(tgi, { name: 'ModelError', OriginalStatusCode: 422, OriginalMessage: '{"error":"Input validation error: `inputs` must have less than 1024 tokens. Given: 1500","error_type":"validation"}' }, false)
  t.equal(long.kind, 'model')
  t.match(long.message, /less than 1024 tokens/)
  t.same(tgi.mapContainerError(422, 'Failed to deserialize the JSON body into the target type: inputs: invalid type: sequence, expected a string'),
    { kind: 'model', message: 'Failed to deserialize the JSON body into the target type: inputs: invalid type: sequence, expected a string', callerFault: true }, 'axum\'s plain-text body')
  t.equal(tgi.mapContainerError(424, '{"error":"Request failed during generation: x","error_type":"generation"}').callerFault, false)
  t.equal(tgi.mapContainerError(500, '{"error":"Incomplete generation","error_type":"incomplete_generation"}').kind, 'retryable')
  t.equal(tgi.mapContainerError(415, 'Expected request with `Content-Type: application/json`').kind, 'fatal', 'a body the gateway built wrong')
  t.equal(classifyContractError(tgi, { name: 'ThrottlingException' }, false).kind, 'retryable', 'SageMaker\'s own errors mean the same for every contract')
  t.equal(jumpstartList.mapContainerError(400, '{"code":400,"type":"BadRequestException","message":"bad input"}').message, 'bad input')
})

t.test('lmi: rolling batch (one input, object or TGI-compatible list) and dynamic batch (a list)', async t => {
  const rolling = lmiRolling()
  t.equal(rolling.buildPayload(['x'], { max_new_tokens: 5 }, { stream: true }), '{"inputs":"x","parameters":{"max_new_tokens":5},"stream":true}')
  t.throws(() => rolling.buildPayload(['a', 'b'], {}), RangeError)
  t.same(rolling.parseResponse({ generated_text: 'Deep Learning is a really cool field' }, 1), [['Deep Learning is a really cool field']])
  t.same(rolling.parseResponse([{ generated_text: 'compat' }], 1), [['compat']], 'OPTION_TGI_COMPAT')
  t.throws(() => rolling.parseResponse({ generated_text: '', details: { finish_reason: 'error', generated_tokens: null } }, 1), /finish_reason "error"/, 'an in-band failure is not an empty answer')
  t.equal(rolling.maxConcurrentPerInstance, 256)

  const dynamic = lmiDynamic(4)
  t.equal(dynamic.buildPayload(['a', 'b'], {}), '{"inputs":["a","b"],"parameters":{}}')
  t.throws(() => dynamic.buildPayload(['a', 'b', 'c', 'd', 'e'], {}), /at most 4 inputs per invocation \(SERVING_BATCH_SIZE\), got 5/)
  t.same(dynamic.parseResponse([{ generated_text: 'A' }, { generated_text: 'B' }], 2), [['A'], ['B']])
  t.throws(() => dynamic.parseResponse([{ generated_text: 'A' }], 2), ResponseShapeError)
  t.equal(dynamic.mapContainerError(424, '{"code":424,"message":"invoke handler failure","error":"bad prompt"}').message, 'bad prompt')
  t.equal(dynamic.streams, false)
})

t.test('lmi stream parser: JSON Lines and SSE data lines at every cut; finish_reason error mid-stream fails', async t => {
  const lines = '{"token": {"id": 304, "text": "Deep ", "log_prob": -0.05}}\n' +
    '{"token": {"id": 11157, "text": "Learning", "log_prob": -1.28}}\n' +
    '{"token": {"id": 5972, "text": " rocks.", "log_prob": -0.69}, "generated_text": "Deep Learning rocks.", "details": {"finish_reason": "length", "generated_tokens": 3, "inputs": "x"}}\n'
  const expected = [{ type: 'token', text: 'Deep ' }, { type: 'token', text: 'Learning' }, { type: 'token', text: ' rocks.' }, { type: 'done', text: 'Deep Learning rocks.' }]
  for (const [form, text] of [['jsonlines', lines], ['sse', lines.split('\n').filter((l) => l !== '').map((l) => `data:${l}\n\n`).join('')]]) {
    const bytes = Buffer.from(text)
    let ok = true
    for (let cut = 0; cut <= bytes.length && ok; cut++) ok = JSON.stringify(feedCut(lmiStreamParserOf(), bytes, [cut])) === JSON.stringify(expected)
    t.ok(ok, `${form}: every cut reassembles`)
  }
  const failing = lmiStreamParserOf()
  failing.feed(Buffer.from('{"token": {"id": 1, "text": "a", "log_prob": -1}}\n'))
  t.throws(() => failing.feed(Buffer.from('{"token": {"id": -1, "text": "", "log_prob": -1, "special_token": true}, "generated_text": "", "details": {"finish_reason": "error", "generated_tokens": null, "inputs": null}}\n')),
    { name: 'StreamFailure', errorType: 'generation' })
  const cut = lmiStreamParserOf()
  cut.feed(Buffer.from('{"token": {"id": 1, "text": "a", "log_prob": -1}}\n'))
  t.throws(() => cut.end(), /ended before the final generated text/)
})

function lmiStreamParserOf (): StreamParser {
  const make = lmiRolling().streamParser
  if (make === undefined) throw new Error('rolling LMI streams')
  return make()
}

t.test('detection from DescribeModel\'s container: known images, their limits, and an explicit unknown', async t => {
  t.equal(imageRepository(TGI_IMAGE), 'huggingface-pytorch-tgi-inference')
  t.equal(imageRepository('ghcr.io/huggingface/text-generation-inference:1.4@sha256:abc'), 'text-generation-inference')
  t.equal(imageRepository('localhost:5000/djl-inference:0.29.0-lmi11.0.0-cu124'), 'djl-inference', 'a registry with a port is not a tag')

  // JumpStart FLAN-T5 2.x: the TGI image with its MAX_* environment
  const tgi = detectContract({ Image: TGI_IMAGE, Environment: { MAX_INPUT_LENGTH: '1024', MAX_TOTAL_TOKENS: '2048', MAX_CONCURRENT_REQUESTS: '64', SAGEMAKER_PROGRAM: 'inference.py' } })
  t.ok(tgi.known && tgi.contract.name === 'tgi', 'the image decides, whatever else the environment holds')
  if (tgi.known) {
    t.equal(tgi.contract.maxConcurrentPerInstance, 64)
    t.same(tgi.tgi, { maxConcurrentRequests: 64, maxInputLength: 1024, maxTotalTokens: 2048, maxStopSequences: 4, maxBestOf: 2 })
  }
  const tgiDefaults = detectContract({ Image: 'ghcr.io/huggingface/text-generation-inference:2.0' })
  t.ok(tgiDefaults.known && tgiDefaults.tgi?.maxInputLength === 1024 && tgiDefaults.contract.maxConcurrentPerInstance === 128, 'launcher defaults')
  const badTgi = detectContract({ Image: TGI_IMAGE, Environment: { MAX_CONCURRENT_REQUESTS: 'many' } })
  t.same(badTgi, { known: false, image: TGI_IMAGE, reason: 'MAX_CONCURRENT_REQUESTS "many" is not a positive integer' })

  // JumpStart FLAN-T5 1.x: the Hugging Face toolkit image running JumpStart's inference.py
  const list = detectContract({ Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04', Environment: { SAGEMAKER_PROGRAM: 'inference.py' } })
  t.ok(list.known && list.contract.name === 'jumpstart-list')
  const toolkit = detectContract({ Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04', Environment: { HF_TASK: 'text2text-generation' } })
  t.notOk(toolkit.known, 'the bare toolkit speaks {"inputs"}: not guessed as the list contract')

  const rolling = detectContract({ Image: '763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124', Environment: { OPTION_ROLLING_BATCH: 'vllm', OPTION_MAX_ROLLING_BATCH_SIZE: '32' } })
  t.ok(rolling.known && rolling.contract.name === 'lmi' && !rolling.contract.takesList && rolling.contract.maxConcurrentPerInstance === 32)
  const dynamic = detectContract({ Image: '763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124', Environment: { OPTION_ROLLING_BATCH: 'disable', SERVING_BATCH_SIZE: '8' } })
  t.ok(dynamic.known && dynamic.contract.takesList && dynamic.contract.maxInputsPerCall === 8)
  const unsaid = detectContract({ Image: '763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124' })
  t.ok(!unsaid.known && /OPTION_ROLLING_BATCH/.test(unsaid.reason), 'LMI without OPTION_ROLLING_BATCH: its batching is in serving.properties, not guessed')

  const local = detectContract({ Image: 'local/extractive-lead:latest' })
  t.ok(!local.known && /not one whose contract the gateway knows/.test(local.reason))
  t.same(detectContract(undefined), { known: false, image: undefined, reason: 'the model has no container image' })
})
