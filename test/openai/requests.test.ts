// OpenAI's request and response objects:
// https://platform.openai.com/docs/api-reference/completions/create,
// https://platform.openai.com/docs/api-reference/completions/object (choices, index, finish_reason),
// https://platform.openai.com/docs/api-reference/chat/object,
// https://platform.openai.com/docs/api-reference/chat-streaming/streaming
import t from 'tap'
import { validatorCompiler } from '../../src/util/validation.js'
import { ChatCompletionBody, CompletionBody } from '../../schemas/openai.js'
import {
  applyStop, chatCompletionObject, chatCompletionRequest, completionObject, completionRequest, contractParameters, countWords,
  eventStream, flattenMessages, newEnvelope, streamChunks, toChoices, usageOf
} from '../../src/openai/requests.js'
import { jumpstartList } from '../../src/sagemaker/contracts/jumpstart-list.js'
import { lmiRolling } from '../../src/sagemaker/contracts/lmi.js'
import { tgiContract } from '../../src/sagemaker/contracts/tgi.js'

// the gateway's own body validator, as Fastify runs it
const check = (schema: unknown) => {
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/' }) as (v: unknown) => boolean
  return { Check: (v: unknown) => validate(structuredClone(v)) }
}
const completionSchema = check(CompletionBody)
const chatSchema = check(ChatCompletionBody)

t.test('completions: OpenAI fields map to JumpStart parameters; a prompt list is one input per prompt', async t => {
  const r = completionRequest({ model: 'm', prompt: ['a b', 'c'], max_tokens: 20, n: 2, temperature: 0.7, top_p: 0.9, seed: 3, stop: 'x', user: 'u1' })
  t.same(r.inputs, ['a b', 'c'])
  t.same(r.params, { max_length: 20, num_return_sequences: 2, do_sample: true, temperature: 0.7, top_p: 0.9, seed: 3 })
  t.equal(r.n, 2)
  t.same(r.stop, ['x'])
  t.equal(r.stream, false)
  t.same(completionRequest({ model: 'm', prompt: 'p' }).params, {}, 'nothing sent: the model defaults')
  t.same(completionRequest({ model: 'm', prompt: 'p', n: 3, temperature: 0 }).params, { num_return_sequences: 3, num_beams: 3 }, 'n > 1 without sampling asks beam search for n beams')
  t.same(completionRequest({ model: 'm', prompt: 'p', top_p: 1 }).params, {}, 'top_p 1 is a no-op without sampling')
  t.same(completionRequest({ model: 'm', prompt: 'p', stream: true, stream_options: { include_usage: true } }).includeUsage, true)
})

t.test('refused fields are 400s naming the field and saying FLAN-T5 cannot honour them; no-op values pass', async t => {
  // a refusal of a known field says FLAN-T5 cannot honour it; a bad combination says why
  const refuse = (fn: () => unknown, param: string, why = /not supported by FLAN-T5 endpoints/): void => {
    t.throws(fn, { statusCode: 400, code: 'INVALID_REQUEST', param }, param)
    try { fn() } catch (err) {
      t.ok((err as Error).message.startsWith(param), `${param}: the message names the field first`)
      t.match((err as Error).message, why, `${param}: the message says why`)
    }
  }
  refuse(() => completionRequest({ model: 'm', prompt: 'p', logprobs: 2 }), 'logprobs')
  refuse(() => completionRequest({ model: 'm', prompt: 'p', best_of: 3 }), 'best_of')
  refuse(() => completionRequest({ model: 'm', prompt: 'p', echo: true }), 'echo')
  refuse(() => completionRequest({ model: 'm', prompt: 'p', suffix: 'end' }), 'suffix')
  refuse(() => completionRequest({ model: 'm', prompt: 'p', presence_penalty: 0.5 }), 'presence_penalty')
  refuse(() => completionRequest({ model: 'm', prompt: [1, 2, 3] }), 'prompt')
  refuse(() => completionRequest({ model: 'm', prompt: 'p', top_p: 0.5 }), 'top_p', /needs sampling/)
  refuse(() => completionRequest({ model: 'm', prompt: 'p', stream_options: { include_usage: true } }), 'stream_options', /only allowed with stream: true/)
  const msg = [{ role: 'user' as const, content: 'hi' }]
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, tools: [{ type: 'function' }] }), 'tools')
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, tool_choice: 'auto' }), 'tool_choice')
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, logprobs: true }), 'logprobs')
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, response_format: { type: 'json_object' } }), 'response_format')
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, frequency_penalty: 1 }), 'frequency_penalty')
  refuse(() => chatCompletionRequest({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }), 'messages[0].role')
  refuse(() => chatCompletionRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }), 'messages[0].content[0].type')
  refuse(() => chatCompletionRequest({ model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: '1' }] }] }), 'messages[0].tool_calls')
  refuse(() => chatCompletionRequest({ model: 'm', messages: msg, max_tokens: 5, max_completion_tokens: 6 }), 'max_completion_tokens', /differ/)
  t.doesNotThrow(() => completionRequest({ model: 'm', prompt: 'p', logprobs: null, best_of: 1, echo: false, presence_penalty: 0, frequency_penalty: 0, logit_bias: {} }))
  t.doesNotThrow(() => chatCompletionRequest({ model: 'm', messages: msg, tools: [], tool_choice: 'none', logprobs: false, response_format: { type: 'text' }, store: false }))
  t.same(chatCompletionRequest({ model: 'm', messages: msg, max_completion_tokens: 7 }).params, { max_length: 7 })
})

t.test('the schemas are strict: unknown keys, empty prompts and out-of-range values are refused', async t => {
  t.ok(completionSchema.Check({ model: 'm', prompt: ['a', 'b'], n: 2 }))
  t.notOk(completionSchema.Check({ model: 'm', prompt: 'a', bogus: 1 }), 'unknown key')
  t.notOk(completionSchema.Check({ model: 'm', prompt: '' }), 'empty prompt')
  t.notOk(completionSchema.Check({ model: 'm', prompt: 'a', n: 11 }), 'n over 10')
  t.notOk(completionSchema.Check({ model: 'm', prompt: 'a', stop: ['1', '2', '3', '4', '5'] }), 'more than 4 stops')
  t.notOk(completionSchema.Check({ prompt: 'a' }), 'model is required')
  t.ok(chatSchema.Check({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }))
  t.notOk(chatSchema.Check({ model: 'm', messages: [] }), 'no messages')
  t.notOk(chatSchema.Check({ model: 'm', messages: [{ role: 'user', content: 'hi', extra: 1 }] }), 'unknown message key')
})

t.test('chat flattening: one user message is itself; otherwise role lines and a last "Assistant:"', async t => {
  t.equal(flattenMessages([{ role: 'user', content: 'Summarize: x.' }]), 'Summarize: x.')
  t.equal(flattenMessages([
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: 'there' }] },
    { role: 'assistant', content: 'Hi.' },
    { role: 'developer', content: 'No jokes.' },
    { role: 'user', name: 'ann', content: 'Why?' }
  ]), 'System: Be brief.\nUser: Hello there\nAssistant: Hi.\nSystem: No jokes.\nUser (ann): Why?\nAssistant:')
  t.throws(() => flattenMessages([{ role: 'user', content: '  ' }]), { param: 'messages[0].content', message: /empty/ })
})

t.test('stop cuts at the earliest sequence; finish_reason is "stop"', async t => {
  t.same(applyStop('one two. three', ['.', 'two']), { text: 'one ', finish_reason: 'stop' })
  t.same(applyStop('one two', ['zzz']), { text: 'one two', finish_reason: 'stop' })
  t.same(applyStop('one two', []), { text: 'one two', finish_reason: 'stop' })
})

t.test('choices follow OpenAI\'s order for a prompt list with n: index = prompt_index * n + k', async t => {
  const choices = toChoices([['a0', 'a1'], ['b0', 'b1'], ['c0', 'c1']], 2, [])
  t.same(choices.map(c => [c.index, c.text]), [[0, 'a0'], [1, 'a1'], [2, 'b0'], [3, 'b1'], [4, 'c0'], [5, 'c1']])
  t.throws(() => toChoices([['a0']], 2, []), { statusCode: 500, message: /returned 1 sequences for prompt 0; 2 were asked for/ }, 'fewer sequences than n is not papered over')
})

t.test('usage counts words of each prompt once and of every choice', async t => {
  t.equal(countWords('  a  b\nc '), 3)
  t.equal(countWords(''), 0)
  const choices = toChoices([['x y', 'z'], ['w']].slice(0, 1), 2, [])
  t.same(usageOf(['one two three'], choices), { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 })
})

t.test('response objects and stream chunks have OpenAI\'s shape', async t => {
  const env = newEnvelope('chat', 'm', 1_700_000_000_500)
  t.match(env.id, /^chatcmpl-[0-9a-f]{32}$/)
  t.equal(env.created, 1_700_000_000)
  t.match(newEnvelope('completion', 'm').id, /^cmpl-/)
  const choices = toChoices([['Hi. There']], 1, ['.'])
  const usage = usageOf(['hello'], choices)
  t.same(completionObject(env, choices, usage), { id: env.id, object: 'text_completion', created: env.created, model: 'm', choices: [{ text: 'Hi', index: 0, logprobs: null, finish_reason: 'stop' }], usage })
  t.same(chatCompletionObject(env, choices, usage).choices, [{ index: 0, message: { role: 'assistant', content: 'Hi', refusal: null }, logprobs: null, finish_reason: 'stop' }])
  const chunks = streamChunks('chat', env, choices, usage, true)
  t.same(chunks.map(c => c.object), ['chat.completion.chunk', 'chat.completion.chunk', 'chat.completion.chunk', 'chat.completion.chunk'])
  t.same((chunks[0]?.choices as unknown[])[0], { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null })
  t.same((chunks[1]?.choices as unknown[])[0], { index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null })
  t.same((chunks[2]?.choices as unknown[])[0], { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' })
  t.same(chunks[3], { id: env.id, object: 'chat.completion.chunk', created: env.created, model: 'm', choices: [], usage })
  t.same(streamChunks('completion', env, choices, usage, false).map(c => (c.choices as Array<{ text: string, finish_reason: unknown }>)[0]), [
    { text: 'Hi', index: 0, logprobs: null, finish_reason: null },
    { text: '', index: 0, logprobs: null, finish_reason: 'stop' }
  ])
  const text = eventStream([{ a: 1 }])
  t.equal(text, 'data: {"a":1}\n\ndata: [DONE]\n\n')
})

t.test('contractParameters: the endpoint contract\'s parameters, refusals naming the OpenAI field, stop sent where the contract takes it', async t => {
  const tgi = tgiContract()
  const sampled = completionRequest({ model: 'm', prompt: 'x', n: 2, temperature: 0.5, max_tokens: 9, stop: ['.', '!'] })
  t.same(contractParameters(sampled, tgi, {}), { max_new_tokens: 9, do_sample: true, temperature: 0.5, best_of: 2, details: true, stop: '[".","!"]' }, 'TGI: best_of for n, stop sent (and still applied to the output by toChoices)')
  t.same(contractParameters(sampled, jumpstartList, {}), sampled.params, 'the list contract: the public parameters as before, no stop sent')

  const greedy = completionRequest({ model: 'm', prompt: 'x', n: 2 })
  t.throws(() => contractParameters(greedy, tgi, {}), { code: 'INVALID_PARAMETERS', param: 'n', message: /^n 2 is not supported by this endpoint's tgi contract without sampling .*set temperature > 0$/ })
  t.throws(() => contractParameters(greedy, lmiRolling(), {}), { code: 'INVALID_PARAMETERS', param: 'n', message: /^n 2 is not supported by this endpoint's lmi contract \(an LMI answer holds one sequence per input\)$/ })
  t.throws(() => contractParameters(sampled, tgi, { maxStopSequences: 1 }), { param: 'stop', message: /^stop \[".","!"\] is not supported by this endpoint's tgi contract \(the container's MAX_STOP_SEQUENCES is 1\)$/ })
  const seeded = completionRequest({ model: 'm', prompt: 'x', n: 2, temperature: 1, seed: 7 })
  t.throws(() => contractParameters(seeded, tgi, {}), { param: 'seed', message: /^seed 7 is not supported by this endpoint's tgi contract/ })
  const tooMany = chatCompletionRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 3, temperature: 1, max_completion_tokens: 4 })
  t.throws(() => contractParameters(tooMany, tgi, { maxBestOf: 2 }), { param: 'n', message: /^n 3 is not supported by this endpoint's tgi contract \(the container's MAX_BEST_OF is 2\)$/ })
  t.same(contractParameters(chatCompletionRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 4 }), tgi, {}), { max_new_tokens: 4 })
})
