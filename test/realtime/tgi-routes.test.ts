// The real-time routes on a TGI endpoint (what JumpStart FLAN-T5 2.x deploys), against the local
// stack's emulated TGI: each input is its own invocation in TGI's contract, parameters are
// translated (max_length → max_new_tokens) or refused naming the field the caller sent, the
// container's MAX_CONCURRENT_REQUESTS is never exceeded, its 429 "Model is overloaded" is
// retried, and its 422 fails that caller alone with a 400. The same requests on the list
// endpoint beside it are unchanged.
// TGI: text-generation-inference router/src/server.rs (compat_generate: `inputs` one string,
// the answer a list of one generation), router/src/infer.rs (a MAX_CONCURRENT_REQUESTS permit
// or 429 "Model is overloaded"), router/src/validation.rs (422 validation).
// Through SageMaker a container's non-2xx is a ModelError carrying OriginalStatusCode
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
// OpenAI's completions (https://platform.openai.com/docs/api-reference/completions/create):
// `stop` sequences are not part of the returned text.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import OpenAI from 'openai'
import { InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../../src/config.js'
import { CreateModelCommand } from '@aws-sdk/client-sagemaker'
import { createControlClient, LOCAL_CREDENTIALS } from '../../src/sagemaker/clients.js'
import { listeningApp } from '../helpers/local-app.js'
import { clientError, openAiClient } from '../helpers/openai.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
/** The image JumpStart FLAN-T5 2.x deploys (huggingface-text2text-flan-t5-large 2.3.x). */
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const MODEL_DATA = 's3://jumpstart-cache-prod-us-east-1/huggingface-text2text/huggingface-text2text-flan-t5-large/artifacts/inference-prepack/v2.0.0/'
const TOKEN_MS = 20

const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. ' +
  'The line will connect the airport with the central station.'

async function metric (app: FastifyInstance, line: RegExp): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(line.exec(body)?.[1] ?? 0)
}
const retryable = async (app: FastifyInstance): Promise<number> => await metric(app, /^t2t_invocations_total\{outcome="retryable"\} (\d+)/m)

/** Deploys `name` through the gateway (POST /v1/endpoints, a container) and waits until InService. */
async function deploy (app: FastifyInstance, name: string, image: string, environment: Record<string, string>): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name, model: { image, modelDataUrl: MODEL_DATA, role: ROLE, environment }, instanceType: 'ml.g5.2xlarge', instanceCount: 1 } })
  if (res.statusCode !== 202) throw new Error(`deploy ${name}: ${res.statusCode} ${res.body}`)
  for (let i = 0; i < 200; i++) {
    if ((await app.inject({ method: 'GET', url: `/v1/endpoints/${name}` })).json<{ status: string }>().status === 'InService') return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`${name} never became InService`)
}

t.test('a TGI endpoint through /v1/summarize, /v1/generate and /v1/completions; the list endpoint beside it unchanged', async t => {
  const { app, stack, url } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 50, ENDPOINT_CACHE_MS: 0, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON', REQUEST_TIMEOUT_MS: 20_000 })
  await deploy(app, 'flan-tgi', TGI_IMAGE, { MAX_INPUT_LENGTH: '60', MAX_TOTAL_TOKENS: '300', MAX_CONCURRENT_REQUESTS: '2', LOCAL_TOKEN_DELAY_MS: String(TOKEN_MS) })
  const runtime = stack.sagemaker.runtime

  await t.test('/v1/summarize: one TGI invocation, max_length as max_new_tokens', async t => {
    stack.sagemaker.resetStats()
    const res = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, prompt: '', model: 'flan-tgi', parameters: { max_length: 6 } } })
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json(), { summary: 'The city council approved the new', generated_texts: ['The city council approved the new'], model: 'flan-tgi' })
    t.equal(stack.sagemaker.stats().invocations, 1)
  })

  await t.test('/v1/generate with several inputs: each its own invocation, answers in input order', async t => {
    stack.sagemaker.resetStats()
    const inputs = ['First story here. It ends.', 'Second story now. It ends too.', 'Third and last story. Done.']
    const res = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: inputs, model: 'flan-tgi', max_length: 3 } })
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json(), { generated_texts: [['First story here.'], ['Second story now.'], ['Third and last']] })
    t.equal(stack.sagemaker.stats().invocations, 3, 'one invocation per input')
    t.same(stack.sagemaker.stats().batchSizes.slice(-3), [1, 1, 1])

    stack.sagemaker.resetStats()
    const list = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: inputs, max_length: 3 } })
    t.equal(list.statusCode, 200, list.body)
    t.equal(list.json().generated_texts.length, 3)
    t.equal(stack.sagemaker.stats().items, 3, 'the list endpoint gets the same three inputs')
    t.ok(stack.sagemaker.stats().invocations <= 3, 'coalesced as before')
  })

  await t.test('parameters TGI cannot honour: a 400 naming the field and the contract; greedy n > 1 too', async t => {
    const beams = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, model: 'flan-tgi', parameters: { num_beams: 4 } } })
    t.equal(beams.statusCode, 400)
    t.match(beams.json(), { code: 'INVALID_PARAMETERS', message: /^body\.parameters\.num_beams 4 is not supported by this endpoint's tgi contract/ })
    const ngram = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['a'], model: 'flan-tgi', no_repeat_ngram_size: 3 } })
    t.equal(ngram.statusCode, 400)
    t.match(ngram.json(), { code: 'INVALID_PARAMETERS', message: /^body\.no_repeat_ngram_size 3 is not supported by this endpoint's tgi contract/ })
    const listOk = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, parameters: { num_beams: 4 } } })
    t.equal(listOk.statusCode, 200, 'the list endpoint takes beams as before')
  })

  await t.test('a 422 from TGI (input too long) fails that caller alone with a 400; the other items are answered', async t => {
    const long = Array.from({ length: 61 }, (_, i) => `w${i}`).join(' ')
    const one = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: long, prompt: '', model: 'flan-tgi' } })
    t.equal(one.statusCode, 400, one.body)
    t.match(one.json(), { code: 'INVALID_REQUEST', message: /^the endpoint refused this input: Input validation error: `inputs` must have less than 60 tokens\. Given: 61 \(model status 422\)$/ })
    const mixed = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['Short one. Yes.', long], model: 'flan-tgi', max_length: 2 } })
    t.equal(mixed.statusCode, 200, mixed.body)
    t.match(mixed.json(), { generated_texts: [['Short one.'], null], errors: [{ index: 1, code: 'INVALID_REQUEST' }] })
    const kept = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: long, prompt: '', model: 'flan-tgi', truncate: 60, parameters: { max_length: 2 } } })
    t.equal(kept.statusCode, 200, `truncate: the caller's consent to lose the start ${kept.body}`)
    t.equal(kept.json().summary, 'w1 w2', 'the last 60 words were kept (TGI truncates from the left)')
    const listTruncate = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: long, truncate: 60 } })
    t.equal(listTruncate.statusCode, 400)
    t.match(listTruncate.json(), { code: 'INVALID_PARAMETERS', message: /^body\.truncate 60 is not supported by this endpoint's jumpstart-list contract/ })
    const listGenerate = await app.inject({ method: 'POST', url: '/v1/generate', payload: { text_inputs: ['a'], truncate: 5 } })
    t.match(listGenerate.json(), { code: 'INVALID_PARAMETERS', message: /^body\.truncate 5 is not supported/ })
    const poison = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'A POISON pill. Nothing else.', model: 'flan-tgi' } })
    t.equal(poison.statusCode, 502, 'a 424 (generation failed) is the model\'s: 502 MODEL_ERROR')
    t.equal(poison.json().code, 'MODEL_ERROR')
  })

  await t.test('the official openai client: completions on TGI with stop sent and applied; n without sampling refused as n', async t => {
    const openai = openAiClient(url, 'unused')
    const res = await openai.completions.create({ model: 'flan-tgi', prompt: ['The bridge reopened today. Traffic was heavy.', 'Rain all week. Farmers are glad.'], max_tokens: 10, stop: ['.'] })
    t.same(res.choices.map(c => c.text), ['The bridge reopened today', 'Rain all week'], 'TGI stops at "." and keeps it; the gateway cuts it as OpenAI does')
    t.equal(res.model, 'flan-tgi')
    const sampled = await openai.completions.create({ model: 'flan-tgi', prompt: ['One story here. It ends.', 'Two stories there. They end.'], n: 2, temperature: 0.7, max_tokens: 3 })
    t.equal(sampled.choices.length, 4, 'n = 2 per prompt as best_of 2 with details: the best and the other')
    t.same(sampled.choices.map(c => c.index), [0, 1, 2, 3])
    t.ok(sampled.choices.every(c => c.text.split(' ').length <= 3), 'max_tokens as max_new_tokens')
    const n = await clientError(openai.completions.create({ model: 'flan-tgi', prompt: 'Hello there. Bye.', n: 2 }), OpenAI.BadRequestError)
    t.equal(n.param, 'n', 'the field the caller sent, not num_return_sequences')
    t.match(n.message, /n 2 is not supported by this endpoint's tgi contract without sampling/)
    const listStop = await openai.completions.create({ model: 'flan-t5-local', prompt: 'The bridge reopened today. Traffic was heavy.', stop: ['.'] })
    t.equal(listStop.choices[0]?.text, 'The bridge reopened today', 'the list endpoint: stop applied to the output, as before')
  })

  await t.test('N > bound concurrent callers: TGI never answers 429 to the gateway, all succeed', async t => {
    const before = await retryable(app)
    let most = 0
    const watch = setInterval(() => { most = Math.max(most, runtime.tgiBusy('flan-tgi')) }, 2)
    const answers = await Promise.all(Array.from({ length: 8 }, async (_, i) =>
      await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: `Story ${i} begins here and goes on for a while. The end.`, prompt: '', model: 'flan-tgi', parameters: { max_length: 8 } } })))
    clearInterval(watch)
    t.same(answers.map(a => a.statusCode), Array(8).fill(200), answers.map(a => a.body).join('\n'))
    t.ok(most <= 2, `at most MAX_CONCURRENT_REQUESTS (2) permits held at once (saw ${most})`)
    t.equal(await retryable(app) - before, 0, 'no invocation came back overloaded')
  })

  await t.test('a 429 from TGI is retried: another client holds every permit, the gateway waits its turn', async t => {
    const direct = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: stack.awsTarget.sagemakerEndpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 })
    t.teardown(() => { direct.destroy() })
    const hold = async (): Promise<void> => {
      const out = await direct.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'flan-tgi', ContentType: 'application/json', Body: JSON.stringify({ inputs: ARTICLE, parameters: { max_new_tokens: 15 }, stream: true }) }))
      const parts: unknown[] = []
      for await (const event of out.Body ?? []) parts.push(event)
      if (parts.length === 0) throw new Error('the direct stream carried nothing')
    }
    const before = await retryable(app)
    const holders = [hold(), hold()]
    for (const until = Date.now() + 10_000; runtime.tgiBusy('flan-tgi') < 2;) {
      if (Date.now() > until) throw new Error('the two direct generations never held both permits')
      await new Promise(resolve => setTimeout(resolve, 2))
    }
    const res = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, prompt: '', model: 'flan-tgi', parameters: { max_length: 4 } } })
    await Promise.all(holders)
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().summary, 'The city council approved')
    t.ok(await retryable(app) - before >= 1, 'the gateway met "Model is overloaded" and retried')
  })
})

t.test('an image the gateway does not know is refused naming the endpoint and how to choose; ENDPOINT_CONTRACTS chooses', async t => {
  const { app, stack } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 50, ENDPOINT_CACHE_MS: 0 })
  // a model made elsewhere (the gateway refuses to create one whose contract it cannot tell),
  // deployed by the gateway as an existing model
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  await control.send(new CreateModelCommand({ ModelName: 'odd-model', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: 'example.com/mine:1', ModelDataUrl: MODEL_DATA } }))
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'odd', model: { name: 'odd-model' }, instanceType: 'ml.g5.2xlarge', instanceCount: 1 } })
  t.equal(res.statusCode, 202, res.body)
  for (let i = 0; i < 200 && (await app.inject({ method: 'GET', url: '/v1/endpoints/odd' })).json<{ status: string }>().status !== 'InService'; i++) await new Promise(resolve => setTimeout(resolve, 25))
  const refused = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, model: 'odd' } })
  t.equal(refused.statusCode, 400)
  t.match(refused.json(), {
    code: 'INVALID_REQUEST',
    message: /^body\.model "odd" is an endpoint whose container contract the gateway cannot tell: the image example\.com\/mine:1 is not one whose contract the gateway knows .*choose it with ENDPOINT_CONTRACTS \(endpoint=contract, one of jumpstart-list, tgi, lmi-rolling, lmi-dynamic\)/
  })
  stack.sagemaker.resetStats()
  t.equal(stack.sagemaker.stats().invocations, 0, 'nothing was sent on a guess')

  // a second gateway on the same SageMaker, told the endpoint's contract
  const chosen = await buildApp(testConfig({ ENDPOINT_CACHE_MS: 0, ENDPOINT_CONTRACTS: 'odd=jumpstart-list' }), { aws: stack.awsTarget })
  t.teardown(async () => { await chosen.close() })
  const served = await chosen.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, prompt: '', model: 'odd', parameters: { max_length: 4 } } })
  t.equal(served.statusCode, 200, served.body)
  t.equal(served.json().summary, 'The city council approved')
  t.same(stack.sagemaker.stats().batchSizes, [1], 'sent as the list contract')
})
