// OpenAI's streaming shape for token streams (src/openai/token-stream.ts), checked chunk by chunk
// against https://platform.openai.com/docs/api-reference/chat-streaming/streaming: a role delta,
// content deltas as tokens arrive, an empty delta with finish_reason, usage last with
// stream_options.include_usage, `data: [DONE]`; stop sequences cut as text arrives, never sent;
// a failure after the first chunk ends with `data: {"error": ...}`.
import t from 'tap'
import { catalogError } from '../../src/errors.js'
import { openAiTokenStream, primeStreams, StopCutter, type TokenEvent } from '../../src/openai/token-stream.js'

async function * events (list: TokenEvent[]): AsyncGenerator<TokenEvent, void, undefined> {
  for (const e of list) {
    await new Promise(resolve => setImmediate(resolve))
    yield e
  }
}

const env = { id: 'chatcmpl-1', created: 1, model: 'tgi-ep' }

async function collect (gen: AsyncGenerator<string>): Promise<Array<Record<string, unknown> | '[DONE]'>> {
  const out: Array<Record<string, unknown> | '[DONE]'> = []
  for await (const e of gen) {
    t.match(e, /^data: .*\n\n$/s)
    const body = e.slice(6, -2)
    out.push(body === '[DONE]' ? '[DONE]' : JSON.parse(body) as Record<string, unknown>)
  }
  return out
}

t.test('StopCutter holds back what could become a stop sequence and cuts at the first', async t => {
  const c = new StopCutter(['END', '\n\n'])
  t.equal(c.push('Hello E'), 'Hello ')
  t.equal(c.push('N'), '')
  t.equal(c.push('ough'), 'ENough')
  t.equal(c.push(' then\n'), ' then')
  t.equal(c.push('\nmore'), '')
  t.ok(c.stopped)
  t.equal(c.end(), '')
  const d = new StopCutter(['xyz'])
  t.equal(d.push('abx'), 'ab')
  t.equal(d.end(), 'x', 'a held tail is text once the generation ends')
  t.equal(new StopCutter([]).push('anything'), 'anything')
})

t.test('chat: role, a delta per token, finish, usage, [DONE]', async t => {
  const choices = await primeStreams([{ index: 0, events: events([{ type: 'token', text: 'The' }, { type: 'token', text: ' tram' }, { type: 'done', text: 'The tram' }]) }])
  const out = await collect(openAiTokenStream({ kind: 'chat', env, choices, stop: [], includeUsage: true, inputs: ['three word prompt'] }))
  const deltas = out.slice(0, -2).map(c => (c as { choices: Array<{ delta: unknown, finish_reason: unknown }> }).choices[0])
  t.same(deltas.map(d => d.delta), [{ role: 'assistant', content: '', refusal: null }, { content: 'The' }, { content: ' tram' }, {}])
  t.same(deltas.map(d => d.finish_reason), [null, null, null, 'stop'])
  t.same((out.at(-2) as { usage: unknown }).usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
  t.equal(out.at(-1), '[DONE]')
  t.ok(out.slice(0, -2).every(c => (c as { usage?: unknown }).usage === null), 'usage: null on every chunk before the last')
})

t.test('completions: a stop sequence ends the choice and closes its stream', async t => {
  let closed = false
  async function * long (): AsyncGenerator<TokenEvent, void, undefined> {
    try {
      for (const w of ['one', ' two', '.', ' three', ' four']) yield { type: 'token', text: w }
      yield { type: 'done', text: 'one two. three four' }
    } finally { closed = true }
  }
  const choices = await primeStreams([{ index: 0, events: long() }])
  const out = await collect(openAiTokenStream({ kind: 'completion', env: { ...env, id: 'cmpl-1' }, choices, stop: ['.'], includeUsage: false, inputs: ['p'] }))
  const texts = out.slice(0, -1).map(c => (c as { choices: Array<{ text: string, finish_reason: unknown }> }).choices[0])
  t.same(texts.map(c => c.text), ['one', ' two', ''])
  t.same(texts.map(c => c.finish_reason), [null, null, 'stop'])
  t.ok(closed, 'the generation was closed at the stop sequence')
})

t.test('choices interleave by index; a failure mid-way is an error event, then nothing', async t => {
  const choices = await primeStreams([
    { index: 0, events: events([{ type: 'token', text: 'a' }, { type: 'token', text: 'b' }, { type: 'done', text: 'ab' }]) },
    { index: 1, events: events([{ type: 'token', text: 'x' }, { type: 'failed', error: catalogError('MODEL_ERROR', 'the model failed mid-way') }]) }
  ])
  const out = await collect(openAiTokenStream({ kind: 'completion', env, choices, stop: [], includeUsage: false, inputs: ['p'] }))
  const last = out.at(-1) as { error?: { message: string, type: string } }
  t.equal(last.error?.message, 'the model failed mid-way')
  t.notOk(out.includes('[DONE]'), 'no [DONE] after an error')
  const indexes = out.slice(0, -1).map(c => (c as { choices: Array<{ index: number }> }).choices[0].index)
  t.ok(indexes.includes(0) && indexes.includes(1))
})

t.test('a refusal before any token rejects the whole request and closes the other choices', async t => {
  let closed = false
  async function * slow (): AsyncGenerator<TokenEvent, void, undefined> {
    try { yield { type: 'token', text: 'a' }; yield { type: 'done', text: 'a' } } finally { closed = true }
  }
  async function * refused (): AsyncGenerator<TokenEvent, void, undefined> { throw catalogError('INVALID_PARAMETERS', 'no') }
  await t.rejects(primeStreams([{ index: 0, events: slow() }, { index: 1, events: refused() }]), { code: 'INVALID_PARAMETERS' })
  t.ok(closed)
})
