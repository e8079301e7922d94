// The OpenAI-compatible routes driven by the official `openai` package against a listening
// gateway on local mode. References: https://platform.openai.com/docs/api-reference/completions,
// https://platform.openai.com/docs/api-reference/chat, https://platform.openai.com/docs/api-reference/models,
// https://platform.openai.com/docs/api-reference/chat-streaming, and for the exception classes
// https://platform.openai.com/docs/guides/error-codes (the package's APIError.generate).
import t from 'tap'
import OpenAI from 'openai'
import { listeningApp } from '../helpers/local-app.js'
import { LOCAL_MODEL_NAME } from '../../src/config.js'

const KEY = 'openai-test-key'
const TEXT = 'The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring. The line opens in 2027.'
const OTHER = 'Heavy rain flooded the old town overnight. Firefighters pumped out cellars until dawn. Schools stay closed today.'

async function client (t: Parameters<typeof listeningApp>[0], overrides: Record<string, string | number | boolean> = {}): Promise<{ openai: OpenAI, url: string }> {
  const { url } = await listeningApp(t, { API_KEYS: KEY, ...overrides })
  return { openai: new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 }), url }
}

t.test('completions with a prompt list and n: OpenAI\'s object, choices in prompt_index * n + k order', async t => {
  const { openai } = await client(t)
  const res = await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: [TEXT, OTHER], n: 2, max_tokens: 8, temperature: 0.8, seed: 7 })
  t.equal(res.object, 'text_completion')
  t.match(res.id, /^cmpl-/)
  t.equal(res.model, LOCAL_MODEL_NAME)
  t.ok(Math.abs(res.created - Date.now() / 1000) < 60, 'created is unix seconds')
  t.equal(res.choices.length, 4, '2 prompts x n = 2')
  t.same(res.choices.map(c => c.index), [0, 1, 2, 3])
  t.match(res.choices[0]?.text, /tram|council|Construction|line/, 'choices 0 and 1 answer the first prompt')
  t.match(res.choices[1]?.text, /tram|council|Construction|line/)
  t.match(res.choices[2]?.text, /rain|Firefighters|Schools/, 'choices 2 and 3 answer the second prompt')
  t.match(res.choices[3]?.text, /rain|Firefighters|Schools/)
  for (const c of res.choices) {
    t.equal(c.finish_reason, 'stop')
    t.ok(c.text.split(/\s+/).filter(Boolean).length <= 8, 'max_tokens became max_length (words in local mode)')
  }
  const words = (s: string): number => s.trim().split(/\s+/).length
  t.same(res.usage, {
    prompt_tokens: words(TEXT) + words(OTHER),
    completion_tokens: res.choices.reduce((s, c) => s + words(c.text), 0),
    total_tokens: words(TEXT) + words(OTHER) + res.choices.reduce((s, c) => s + words(c.text), 0)
  })
  const stopped = await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: TEXT, stop: ['tram'] })
  t.equal(stopped.choices.length, 1)
  t.notMatch(stopped.choices[0]?.text, /tram/, 'stop cut the text')
  t.ok(TEXT.startsWith(stopped.choices[0]?.text ?? 'x'), 'before the stop sequence')
})

t.test('chat completions: flattened messages, OpenAI\'s chat.completion object', async t => {
  const { openai } = await client(t)
  const res = await openai.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'user', content: TEXT }], max_tokens: 6 })
  t.equal(res.object, 'chat.completion')
  t.match(res.id, /^chatcmpl-/)
  t.equal(res.choices.length, 1)
  t.equal(res.choices[0]?.message.role, 'assistant')
  t.equal(res.choices[0]?.message.content, 'The city council voted on Tuesday', 'the lead words, cut to max_tokens words')
  t.equal(res.choices[0]?.finish_reason, 'stop')
  const multi = await openai.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: TEXT }], n: 2 })
  t.equal(multi.choices.length, 2)
  t.same(multi.choices.map(c => c.index), [0, 1])
  t.match(multi.choices[0]?.message.content, /^System: Be brief\./, 'the local engine summarises the flattened prompt, which starts with the system line')
})

t.test('streaming: the client iterates chunks of both routes to [DONE]', async t => {
  const { openai } = await client(t)
  const stream = await openai.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'user', content: TEXT }], max_tokens: 6, stream: true, stream_options: { include_usage: true } })
  let content = ''
  const roles: string[] = []
  const finish: unknown[] = []
  let usage: unknown
  let id = ''
  for await (const chunk of stream) {
    t.equal(chunk.object, 'chat.completion.chunk')
    id = id === '' ? chunk.id : id
    t.equal(chunk.id, id, 'every chunk has the same id')
    for (const c of chunk.choices) {
      if (c.delta.role !== undefined) roles.push(c.delta.role)
      content += c.delta.content ?? ''
      if (c.finish_reason !== null) finish.push(c.finish_reason)
    }
    if (chunk.usage != null) usage = chunk.usage
  }
  t.same(roles, ['assistant'])
  t.equal(content, 'The city council voted on Tuesday')
  t.same(finish, ['stop'])
  t.match(usage, { completion_tokens: 6 })

  const texts: string[] = []
  const indexes: number[] = []
  for await (const chunk of await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: [TEXT, OTHER], max_tokens: 3, stream: true })) {
    t.equal(chunk.object, 'text_completion')
    for (const c of chunk.choices) { if (c.text !== '') { texts.push(c.text); indexes.push(c.index) } }
  }
  t.same(texts, ['The city council', 'Heavy rain flooded'])
  t.same(indexes, [0, 1])
})

t.test('models: the list and one model', async t => {
  const { openai } = await client(t)
  const ids: string[] = []
  for await (const m of openai.models.list()) {
    t.equal(m.object, 'model')
    ids.push(m.id)
  }
  t.same(ids, [LOCAL_MODEL_NAME])
  const one = await openai.models.retrieve(LOCAL_MODEL_NAME)
  t.equal(one.id, LOCAL_MODEL_NAME)
  t.equal(one.owned_by, 'local')
  t.type(await openai.models.retrieve('nope').catch((e: unknown) => e), OpenAI.NotFoundError)
})

t.test('errors map to the client\'s exception classes', async t => {
  const { openai, url } = await client(t, { RATE_LIMIT_MAX: 6, LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const unsupported = await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: TEXT, logprobs: 2 }).catch((e: unknown) => e)
  t.type(unsupported, OpenAI.BadRequestError)
  t.equal((unsupported as InstanceType<typeof OpenAI.BadRequestError>).param, 'logprobs')
  t.match((unsupported as Error).message, /logprobs is not supported by FLAN-T5 endpoints/)
  const tools = await openai.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] }).catch((e: unknown) => e)
  t.type(tools, OpenAI.BadRequestError)
  t.equal((tools as InstanceType<typeof OpenAI.BadRequestError>).param, 'tools')
  const badKey = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 })
  const auth = await badKey.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
  t.type(auth, OpenAI.AuthenticationError)
  t.equal((auth as InstanceType<typeof OpenAI.AuthenticationError>).code, 'invalid_api_key')
  const unknown = await openai.completions.create({ model: 'no-such-endpoint', prompt: TEXT }).catch((e: unknown) => e)
  t.type(unknown, OpenAI.NotFoundError)
  t.equal((unknown as InstanceType<typeof OpenAI.NotFoundError>).code, 'model_not_found')
  t.equal((unknown as InstanceType<typeof OpenAI.NotFoundError>).param, 'model')
  const model = await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: ['fine text here.', 'POISON here.'] }).catch((e: unknown) => e)
  t.type(model, OpenAI.InternalServerError)
  t.equal((model as InstanceType<typeof OpenAI.InternalServerError>).status, 502)
  t.equal((model as InstanceType<typeof OpenAI.InternalServerError>).param, 'prompt[1]', 'the failed prompt is named')
  const streamed = await openai.chat.completions.create({ model: LOCAL_MODEL_NAME, messages: [{ role: 'user', content: 'POISON' }], stream: true }).catch((e: unknown) => e)
  t.type(streamed, OpenAI.InternalServerError, 'an error before the first byte of a stream is an error response')
  // RATE_LIMIT_MAX is 6 a minute: some request among the next 6 is refused, and that one is
  // the client's RateLimitError
  let limited: unknown
  for (let i = 0; i < 6 && limited === undefined; i++) limited = await openai.models.list().then(() => undefined, (e: unknown) => e)
  t.type(limited, OpenAI.RateLimitError)
  t.equal((limited as InstanceType<typeof OpenAI.RateLimitError>).code, 'rate_limit_exceeded')
})

t.test('concurrent single completions are micro-batched (t2t_batch_size)', async t => {
  // one slot busy 300 ms with the first prompt: the others queue meanwhile and share the next
  // invocation (the default policy sends at once while a slot is free)
  const { openai, url } = await client(t, { MAX_CONCURRENT_INVOCATIONS: 1, LOCAL_LATENCY_BASE_MS: 300 })
  const N = 8
  const results = await Promise.all(Array.from({ length: N }, async (_, i) => await openai.completions.create({ model: LOCAL_MODEL_NAME, prompt: `${TEXT} Item ${i}.`, max_tokens: 4 })))
  t.equal(results.length, N)
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const count = Number(/^t2t_batch_size_count\s+(\d+)/m.exec(metrics)?.[1])
  const sum = Number(/^t2t_batch_size_sum\s+(\d+)/m.exec(metrics)?.[1])
  t.equal(sum, N, 'every completion was one item')
  t.ok(count < N, `${N} items in ${count} invocations`)
})
