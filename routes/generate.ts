import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { crossCheckParameters, GENERATION_PARAMETER_NAMES, type GenerationParameters } from '../schemas/params.js'
import { GenerateBody, GenerateResponse } from '../schemas/realtime.js'
import { once, sendEventStream, namedEvent } from '../src/http/event-stream.js'
import { generationEvents, startStreams } from '../src/http/generation-events.js'
import type { ItemOutcome } from '../src/realtime/realtime.js'
import { errorResponses, JSON_BODY_ERRORS, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { catalogError } from '../src/errors.js'
import { callerGone } from '../src/http/caller.js'
import { tenantOf } from '../src/plugins/security.js'
import { translateParameters, truncateExtra } from '../src/sagemaker/contracts/parameters.js'

/** POST /v1/generate: the JumpStart body, each input micro-batched like a summarize call. */
const generate: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/generate', {
    bodyLimit: app.settings.bodyLimits.inputList,
    schema: {
      tags: ['real-time'],
      operationId: 'generate',
      summary: 'Real-time inference with the JumpStart body',
      description: 'The JumpStart text2text body: `text_inputs` is one string or a list, generation parameters sit beside it. Each input is micro-batched like a POST /v1/summarize call (no prompt is added); on an endpoint of a single-input contract (TGI) each input is its own invocation. ' +
        'A string is answered with its sequences; a list is answered in input order, an item the model failed on is null with an entry in `errors` — 502 only when every item failed. ' +
        'A list is admitted whole or refused whole (503 QUEUE_FULL); more than GENERATE_MAX_ITEMS items is a 413.',
      security: BEARER_AUTH,
      body: GenerateBody,
      response: {
        200: jsonResponse('For a string, its sequences; for a list, one entry per input in input order (null where the model failed, explained in `errors`).', GenerateResponse, {
          examples: {
            string: { summary: 'text_inputs was a string', value: { generated_texts: ['The tram line will reach the airport in 2027.'] } },
            list: { summary: 'text_inputs was a list; the model failed on the second item', value: { generated_texts: [['The tram line will reach the airport in 2027.'], null], errors: [{ index: 1, code: 'MODEL_ERROR', message: 'the model failed on this input' }] } }
          }
        }),
        ...errorResponses(...JSON_BODY_ERRORS, 'INVALID_PARAMETERS', 'BATCH_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'MODEL_ERROR', 'QUEUE_FULL', ...V1_ERRORS, 'DEADLINE_EXCEEDED')
      }
    }
  }, async (request, reply) => {
    const body = request.body
    const params: GenerationParameters = {}
    for (const name of GENERATION_PARAMETER_NAMES) {
      const value = (body as Record<string, unknown>)[name]
      if (value !== undefined) (params as Record<string, unknown>)[name] = value
    }
    const crossError = crossCheckParameters(params, 'body')
    if (crossError !== undefined) throw catalogError('INVALID_PARAMETERS', crossError)
    const endpoint = await app.endpoints.resolveEndpoint(body.model)
    const single = typeof body.text_inputs === 'string'
    const inputs = typeof body.text_inputs === 'string' ? [body.text_inputs] : body.text_inputs
    const limit = app.config.GENERATE_MAX_ITEMS
    if (inputs.length > limit) throw catalogError('BATCH_TOO_LARGE', `body.text_inputs has ${inputs.length} items; the limit is ${limit}`)
    const translated = translateParameters(endpoint.contract, params, 'body', truncateExtra(body.truncate), endpoint.limits)
    const run = { endpoint, params: translated.params, deadline: Date.now() + app.config.REQUEST_TIMEOUT_MS, signal: callerGone(reply), tenant: tenantOf(request).id }
    if (body.stream === true && endpoint.contract.streams) {
      if (translated.sequences > 1) throw catalogError('INVALID_PARAMETERS', `body.num_return_sequences ${translated.sequences} cannot be streamed (a stream carries one sequence)`, { param: 'body.num_return_sequences' })
      app.realtime.admitStreams(inputs.length, run.tenant)
      const started = await startStreams(inputs.map((input) => app.realtime.stream({ ...run, input })))
      const before = started.map((s): ItemOutcome => 'first' in s ? { ok: true, texts: [] } : { ok: false, error: s })
      if (single || before.every(o => !o.ok)) refuseAllFailed(before, single)
      return sendEventStream(reply, generationEvents(started, {
        single,
        answer: (results) => answerOf(results.map((r): ItemOutcome => r.ok ? { ok: true, texts: [r.text] } : r), single)
      }))
    }
    const outcomes = await app.realtime.run({ ...run, inputs })
    refuseAllFailed(outcomes, single)
    const answer = answerOf(outcomes, single)
    return body.stream === true ? sendEventStream(reply, once(namedEvent('done', answer))) : answer
  })
}

/** A single input that failed, or a list every item of which failed, is an error response (502 MODEL_ERROR unless they share another code). */
function refuseAllFailed (outcomes: readonly ItemOutcome[], single: boolean): void {
  const failed = outcomes.filter(o => !o.ok)
  if (failed.length < outcomes.length || failed.length === 0) return
  const first = failed[0]
  if (first.ok) return
  if (single) throw first.error
  const sameCode = failed.every(f => !f.ok && f.error.code === first.error.code)
  if (!sameCode || first.error.code === 'MODEL_ERROR') throw catalogError('MODEL_ERROR', `every item failed; text_inputs[0]: ${first.error.message}`)
  throw first.error
}

/** The answer: a string's sequences; for a list, per input its sequences or null, with `errors`. */
function answerOf (outcomes: readonly ItemOutcome[], single: boolean): GenerateResponse {
  if (single) {
    const [outcome] = outcomes
    return { generated_texts: outcome?.ok === true ? outcome.texts : [] }
  }
  const errors = outcomes.flatMap((o, index) => o.ok ? [] : [{ index, code: o.error.code, message: o.error.message }])
  return {
    generated_texts: outcomes.map(o => o.ok ? o.texts : null),
    ...(errors.length > 0 ? { errors } : {})
  }
}
export default generate
