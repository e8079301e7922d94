// Real token streaming on the OpenAI routes from a TGI endpoint (the local emulated TGI, slowed
// to TOKEN_MS per token so that streaming is observable), judged by clients we did not write:
// the official `openai` npm client and the official Python client (openai_stream.py).
// References: https://platform.openai.com/docs/api-reference/chat-streaming (chunks, deltas,
// finish_reason, [DONE]); https://platform.openai.com/docs/api-reference/completions/create
// (stream, stop); the gateway reads the endpoint with InvokeEndpointWithResponseStream
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { listeningApp } from '../helpers/local-app.js'
import { openAiClient } from '../helpers/openai.js'
import { runPython } from '../helpers/python.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const MODEL_DATA = 's3://jumpstart-cache-prod-us-east-1/huggingface-text2text/huggingface-text2text-flan-t5-large/artifacts/inference-prepack/v2.0.0/'
const TOKEN_MS = 40
const POISON = 'POISON'
const HERE = fileURLToPath(new URL('../conformance/', import.meta.url))
const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. ' +
  'The line will connect the airport with the central station. Officials expect ten thousand riders a day.'

async function deployTgi (app: FastifyInstance, name: string, environment: Record<string, string>): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name, model: { image: TGI_IMAGE, modelDataUrl: MODEL_DATA, role: ROLE, environment }, instanceType: 'ml.g5.2xlarge', instanceCount: 1 } })
  if (res.statusCode !== 202) throw new Error(`deploy ${name}: ${res.statusCode} ${res.body}`)
  for (let i = 0; i < 400; i++) {
    if ((await app.inject({ method: 'GET', url: `/v1/endpoints/${name}` })).json<{ status: string }>().status === 'InService') return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`${name} never became InService`)
}

const pythonOpenAi = spawnSync('python3', ['-c', 'import openai'], { encoding: 'utf8' }).status === 0

t.test('OpenAI routes stream tokens from a TGI endpoint', async t => {
  const { app, stack, url } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 50, ENDPOINT_CACHE_MS: 0, LOCAL_FAULT_MODEL_ERROR_PATTERN: POISON, REQUEST_TIMEOUT_MS: 30_000 })
  await deployTgi(app, 'flan-tgi', { MAX_INPUT_LENGTH: '200', MAX_TOTAL_TOKENS: '400', MAX_CONCURRENT_REQUESTS: '4', LOCAL_TOKEN_DELAY_MS: String(TOKEN_MS) })
  const client = openAiClient(url, 'unused')

  await t.test('chat: one content delta per token, the first long before the last, the same text as without stream', async t => {
    const started = performance.now()
    const arrivals: number[] = []
    let text = ''
    let finish: string | null = null
    const stream = await client.chat.completions.create({ model: 'flan-tgi', messages: [{ role: 'user', content: ARTICLE }], max_tokens: 12, stream: true, stream_options: { include_usage: true } })
    let usage: unknown
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        if (choice.delta.content !== undefined && choice.delta.content !== null && choice.delta.content !== '') {
          arrivals.push(performance.now() - started)
          text += choice.delta.content
        }
        finish = choice.finish_reason ?? finish
      }
      if (chunk.usage !== null && chunk.usage !== undefined) usage = chunk.usage
    }
    t.ok(arrivals.length >= 5, `${arrivals.length} content chunks`)
    t.ok(arrivals[0] < arrivals[arrivals.length - 1] / 2, `first token at ${arrivals[0].toFixed(0)} ms, last at ${arrivals[arrivals.length - 1].toFixed(0)} ms`)
    t.equal(finish, 'stop')
    t.match(usage, { prompt_tokens: Number, completion_tokens: Number })
    const plain = await client.chat.completions.create({ model: 'flan-tgi', messages: [{ role: 'user', content: ARTICLE }], max_tokens: 12 })
    t.equal(text, plain.choices[0].message.content, 'streamed and plain answers agree')
  })

  await t.test('completions: n sampled streams interleaved by index; stop cuts the text as it arrives', async t => {
    const stream = await client.completions.create({ model: 'flan-tgi', prompt: ARTICLE, max_tokens: 12, n: 2, temperature: 0.8, stream: true })
    const texts = new Map<number, string>()
    for await (const chunk of stream) for (const c of chunk.choices) texts.set(c.index, (texts.get(c.index) ?? '') + c.text)
    t.same([...texts.keys()].sort(), [0, 1], 'two choices')
    const plain = await client.completions.create({ model: 'flan-tgi', prompt: ARTICLE, max_tokens: 12 })
    const words = (plain.choices[0].text).split(' ')
    const stop = ` ${words[3]}`
    const cut = await client.completions.create({ model: 'flan-tgi', prompt: ARTICLE, max_tokens: 12, stop: [stop], stream: true })
    let streamed = ''
    for await (const chunk of cut) streamed += chunk.choices[0]?.text ?? ''
    t.equal(streamed, plain.choices[0].text.slice(0, plain.choices[0].text.indexOf(stop)), 'cut before the stop sequence, which is never sent')
  })

  await t.test('a refusal before the first token is an ordinary error; a failure mid-way an error the client raises', async t => {
    const refused = await client.chat.completions.create({ model: 'flan-tgi', messages: [{ role: 'user', content: ARTICLE }], n: 2, stream: true }).then(() => undefined, (e: unknown) => e as { status?: number })
    t.equal(refused?.status, 400, 'n > 1 without sampling: a 400 before any byte of the stream')
    let seen = ''
    const err = await (async () => {
      const stream = await client.chat.completions.create({ model: 'flan-tgi', messages: [{ role: 'user', content: `${ARTICLE} ${POISON}` }], max_tokens: 40, stream: true })
      for await (const chunk of stream) seen += chunk.choices[0]?.delta.content ?? ''
    })().then(() => undefined, (e: unknown) => e as Error)
    t.ok(err instanceof Error, `the client raised: ${String(err)}`)
    t.ok(seen.length > 0, 'after the tokens that came before it')
  })

  await t.test('a client that leaves mid-stream frees the endpoint', async t => {
    const controller = new AbortController()
    const stream = await client.chat.completions.create({ model: 'flan-tgi', messages: [{ role: 'user', content: ARTICLE }], max_tokens: 200, stream: true }, { signal: controller.signal })
    let chunks = 0
    await (async () => { for await (const chunk of stream) { void chunk; if (++chunks === 3) controller.abort() } })().catch(() => {})
    const deadline = Date.now() + 10_000
    while (stack.sagemaker.runtime.tgiBusy('flan-tgi') > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(stack.sagemaker.runtime.tgiBusy('flan-tgi'), 0, 'the generation was stopped, not left running to its 200 tokens')
  })

  await t.test('/v1/summarize and /v1/generate with stream: true: token events as they come, then done with the plain body', async t => {
    /** POSTs `body` and reads the server-sent events as they arrive, with arrival times. */
    const events = async (path: string, body: unknown): Promise<{ status: number, list: Array<{ event: string, data: any, at: number }> }> => {
      const started = performance.now()
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return { status: res.status, list: [{ event: 'body', data: await res.json(), at: 0 }] }
      const list: Array<{ event: string, data: any, at: number }> = []
      let buffer = ''
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += Buffer.from(chunk).toString('utf8')
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
          list.push({ event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'), at: performance.now() - started })
        }
      }
      return { status: res.status, list }
    }
    const plain = (await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: ARTICLE, model: 'flan-tgi', parameters: { max_length: 10 } } })).json()
    const sum = await events('/v1/summarize', { text: ARTICLE, model: 'flan-tgi', parameters: { max_length: 10 }, stream: true })
    const tokens = sum.list.filter(e => e.event === 'token')
    t.ok(tokens.length >= 5, `${tokens.length} token events`)
    t.ok(tokens[0].at < tokens[tokens.length - 1].at / 2, 'the first long before the last')
    t.same(sum.list.at(-1), { event: 'done', data: plain, at: sum.list.at(-1)?.at }, 'done carries exactly the plain answer')
    t.equal(tokens.map(e => e.data.text as string).join(''), plain.summary)

    const gen = await events('/v1/generate', { text_inputs: ['Summarize: the tram opens in May.', `Summarize: ${ARTICLE} ${POISON}`], model: 'flan-tgi', max_length: 8, stream: true })
    const done = gen.list.at(-1)
    t.equal(done?.event, 'done')
    t.equal(done?.data.generated_texts[1], null, 'the input that failed mid-way is null, as without streaming')
    t.match(done?.data.errors, [{ index: 1, code: 'MODEL_ERROR' }])
    t.equal(gen.list.filter(e => e.event === 'token' && e.data.index === 0).map(e => e.data.text as string).join(''), done?.data.generated_texts[0][0])

    const list = await events('/v1/summarize', { text: ARTICLE, parameters: { max_length: 10 }, stream: true })
    t.same(list.list.map(e => e.event), ['done'], 'a list endpoint (it does not stream): done alone')
    t.match(list.list[0].data, { summary: String, model: 'flan-t5-local' })

    const refused = await events('/v1/summarize', { text: ARTICLE, model: 'flan-tgi', parameters: { num_beams: 3 }, stream: true })
    t.equal(refused.status, 400, 'a refusal before the stream is an ordinary error')
  })

  await t.test('the official Python client streams it too', { skip: pythonOpenAi ? false : 'python3 cannot import openai (pip install openai; .ci/run tries it)' }, async t => {
    const run = await runPython('openai_stream.py', { ...process.env as Record<string, string>, GATEWAY_URL: url, MODEL: 'flan-tgi', POISON }, 90_000, HERE)
    const lines = run.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { check?: string, ok?: boolean, detail?: string, done?: number })
    for (const line of lines) if (line.check !== undefined) t.ok(line.ok, line.check, line.ok === true ? {} : { detail: line.detail })
    t.equal(run.code, 0, 'openai_stream.py exited 0', { stderr: run.stderr.slice(-2000) })
    t.equal(lines.at(-1)?.done, 2, 'both checks ran')
  })
})
