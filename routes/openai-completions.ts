import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ChatCompletionBody, ChatCompletionResponse, CompletionBody, CompletionResponse, FLATTENING_RULE } from '../schemas/openai.js'
import { JSON_BODY_ERRORS, openAiErrorResponses, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { catalogError } from '../src/errors.js'
import { callerGone } from '../src/http/caller.js'
import { sendEventStream } from '../src/http/event-stream.js'
import { openAiTokenStream, primeStreams } from '../src/openai/token-stream.js'
import { useOpenAiErrors } from '../src/http/errors.js'
import { realtimeEndpoint } from '../src/openai/models.js'
import {
  chatCompletionObject, chatCompletionRequest, completionObject, completionRequest, contractParameters, eventStream, newEnvelope,
  streamChunks, toChoices, usageOf, type Choice, type GenerationRequest, type Usage
} from '../src/openai/requests.js'
import { tenantOf } from '../src/plugins/security.js'

const ERRORS = [...JSON_BODY_ERRORS, 'INVALID_PARAMETERS', 'ENDPOINT_NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'MODEL_ERROR', 'QUEUE_FULL', ...V1_ERRORS, 'DEADLINE_EXCEEDED'] as const

const STREAMING = 'With `stream: true` the answer is `text/event-stream`: `data: {chunk}` events, then `data: [DONE]`. On an endpoint whose contract streams (tgi) the tokens arrive as the model writes them (n choices are n sampled streams, interleaved by index; stop sequences are cut as the text arrives), and a failure after the first chunk ends the stream with `data: {"error": {...}}`, which the official clients raise; on a list endpoint (jumpstart-list) each choice arrives as one content chunk. Errors before the stream starts are ordinary OpenAI error responses. ' +
  'A request whose prompts the model failed on, even one of them, fails whole with that error (OpenAI has no per-choice error). finish_reason is always "stop"; usage is an estimate in words.'

type Kind = 'completion' | 'chat'

const EXAMPLE_ENV = { id: 'cmpl-0b5e8f0c2d9a4c1e8f3b7a6d5c4e3f21', created: 1764633600, model: 'flan-t5-local' }
const EXAMPLE_CHOICES = toChoices([['The tram line will reach the airport.', 'The tram line opens in 2027.'], ['Guten Morgen.', 'Guten Morgen!']], 2, [])
const COMPLETION_EXAMPLE = completionObject(EXAMPLE_ENV, EXAMPLE_CHOICES, usageOf(['Summarize: The tram line will reach the airport in 2027.', 'Translate to German: Good morning.'], EXAMPLE_CHOICES))
const CHAT_CHOICES = EXAMPLE_CHOICES.slice(0, 1)
const CHAT_EXAMPLE = chatCompletionObject({ ...EXAMPLE_ENV, id: 'chatcmpl-0b5e8f0c2d9a4c1e8f3b7a6d5c4e3f21' }, CHAT_CHOICES, usageOf(['Summarize: The tram line will reach the airport in 2027.'], CHAT_CHOICES))

/**
 * Runs one OpenAI request through the micro-batcher (every prompt one item, batched with
 * other callers like /v1/summarize) and answers with OpenAI's object or event stream.
 */
async function run (app: Parameters<FastifyPluginAsyncTypebox>[0], kind: Kind, work: GenerationRequest, request: FastifyRequest, reply: FastifyReply): Promise<{ model: string, choices: Choice[], usage: Usage } | undefined> {
  const endpoint = await realtimeEndpoint(app.endpoints, work.model)
  if (work.inputs.length > app.config.GENERATE_MAX_ITEMS) throw catalogError('INVALID_REQUEST', `prompt has ${work.inputs.length} items; the limit is ${app.config.GENERATE_MAX_ITEMS}`, { param: 'prompt' })
  if (work.stream && endpoint.contract.streams) {
    // refusals as the whole request would have them (n without sampling, stop beyond the limit)
    contractParameters(work, endpoint.contract, endpoint.limits)
    // a stream carries one sequence: n choices are n sampled streams of the same prompt
    const { num_return_sequences: _n, num_beams: _b, ...one } = work.params
    const params = contractParameters({ ...work, n: 1, params: one }, endpoint.contract, endpoint.limits)
    const deadline = Date.now() + app.config.REQUEST_TIMEOUT_MS
    const signal = callerGone(reply)
    const tenant = tenantOf(request).id
    app.realtime.admitStreams(work.inputs.length * work.n, tenant)
    const choices = await primeStreams(work.inputs.flatMap((input, p) => Array.from({ length: work.n }, (_, k) => ({
      index: p * work.n + k,
      events: app.realtime.stream({ endpoint, params, input, deadline, signal, tenant })
    }))))
    sendEventStream(reply, openAiTokenStream({ kind, env: newEnvelope(kind, endpoint.name), choices, stop: work.stop, includeUsage: work.includeUsage, inputs: work.inputs }))
    return undefined
  }
  const outcomes = await app.realtime.run({
    endpoint,
    params: contractParameters(work, endpoint.contract, endpoint.limits),
    inputs: work.inputs,
    deadline: Date.now() + app.config.REQUEST_TIMEOUT_MS,
    signal: callerGone(reply),
    tenant: tenantOf(request).id
  })
  const perPrompt = outcomes.map((o, i) => {
    if (!o.ok) {
      if (work.inputs.length > 1) o.error.param = `prompt[${i}]`
      throw o.error
    }
    return o.texts
  })
  const choices = toChoices(perPrompt, work.n, work.stop)
  const usage = usageOf(work.inputs, choices)
  if (!work.stream) return { model: endpoint.name, choices, usage }
  // the whole stream is known before its first byte: errors above are ordinary responses
  await reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache')
    .send(eventStream(streamChunks(kind, newEnvelope(kind, endpoint.name), choices, usage, work.includeUsage)))
  return undefined
}

/** POST /v1/completions and /v1/chat/completions, OpenAI-compatible, micro-batched. */
const openAiCompletions: FastifyPluginAsyncTypebox = async (app) => {
  useOpenAiErrors(app)
  const bodyLimit = app.settings.bodyLimits.inputList

  app.post('/v1/completions', {
    bodyLimit,
    schema: {
      tags: ['openai'],
      operationId: 'openAiCreateCompletion',
      summary: 'OpenAI completions (legacy), on a FLAN-T5 endpoint',
      description: '`model` is an endpoint name; each prompt of a list is one item of the micro-batcher, coalesced with other callers as on POST /v1/summarize. Choices come in OpenAI\'s order: index = prompt_index × n + k. ' + STREAMING,
      security: BEARER_AUTH,
      body: CompletionBody,
      response: { 200: jsonResponse('OpenAI\'s text_completion object (or, with stream: true, a text/event-stream of text_completion chunks).', CompletionResponse, { examples: { list: { summary: 'two prompts, n = 2', value: COMPLETION_EXAMPLE } } }), ...openAiErrorResponses(...ERRORS) }
    }
  }, async (request, reply) => {
    const done = await run(app, 'completion', completionRequest(request.body), request, reply)
    return done === undefined ? reply : completionObject(newEnvelope('completion', done.model), done.choices, done.usage)
  })

  app.post('/v1/chat/completions', {
    bodyLimit,
    schema: {
      tags: ['openai'],
      operationId: 'openAiCreateChatCompletion',
      summary: 'OpenAI chat completions, on a FLAN-T5 endpoint',
      description: `\`model\` is an endpoint name. ${FLATTENING_RULE} The prompt is one item of the micro-batcher. ` + STREAMING,
      security: BEARER_AUTH,
      body: ChatCompletionBody,
      response: { 200: jsonResponse('OpenAI\'s chat.completion object (or, with stream: true, a text/event-stream of chat.completion.chunk objects).', ChatCompletionResponse, { examples: { chat: { summary: 'one user message', value: CHAT_EXAMPLE } } }), ...openAiErrorResponses(...ERRORS) }
    }
  }, async (request, reply) => {
    const done = await run(app, 'chat', chatCompletionRequest(request.body), request, reply)
    return done === undefined ? reply : chatCompletionObject(newEnvelope('chat', done.model), done.choices, done.usage)
  })
}
export default openAiCompletions
