import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { crossCheckParameters } from '../schemas/params.js'
import { DEFAULT_PROMPT, SummarizeBody, SummarizeResponse } from '../schemas/realtime.js'
import { once, sendEventStream, namedEvent } from '../src/http/event-stream.js'
import { generationEvents, startStreams } from '../src/http/generation-events.js'
import { errorResponses, JSON_BODY_ERRORS, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'
import { catalogError } from '../src/errors.js'
import { callerGone } from '../src/http/caller.js'
import { tenantOf } from '../src/plugins/security.js'
import { BESIDE_PARAMETERS, translateParameters, truncateExtra } from '../src/sagemaker/contracts/parameters.js'

/** POST /v1/summarize: one text, micro-batched with other callers. */
const summarize: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/summarize', {
    bodyLimit: app.settings.bodyLimits.oneText,
    schema: {
      tags: ['real-time'],
      operationId: 'summarize',
      summary: 'Summarise one text',
      description: 'The prompt (default "Briefly summarize this text: ") is prepended to `text`; the request is coalesced with concurrent ones that use the same model and parameters into one list payload to the endpoint ' +
        '(micro-batching), so a caller waits at most BATCH_MAX_WAIT_MS for company; on an endpoint of a single-input contract (TGI, what JumpStart FLAN-T5 2.x deploys) it is one invocation of its own, within the endpoint\'s concurrency bound. `summary` is `generated_texts[0]`. ' +
        'Parameters are translated into the endpoint\'s contract; one it cannot honour is a 400 INVALID_PARAMETERS naming it, and an input the container refuses (TGI\'s 422) a 400 INVALID_REQUEST. ' +
        'Overload is refused early with 503 and Retry-After rather than queued past REQUEST_TIMEOUT_MS (504).',
      security: BEARER_AUTH,
      body: SummarizeBody,
      response: {
        200: jsonResponse('The summary, every returned sequence and the model that wrote them.', SummarizeResponse),
        ...errorResponses(...JSON_BODY_ERRORS, 'INVALID_PARAMETERS', 'PAYLOAD_TOO_LARGE', 'MODEL_ERROR', 'QUEUE_FULL', ...V1_ERRORS, 'DEADLINE_EXCEEDED')
      }
    }
  }, async (request, reply) => {
    const { text, prompt, parameters = {}, truncate } = request.body
    const crossError = crossCheckParameters(parameters, 'body.parameters')
    if (crossError !== undefined) throw catalogError('INVALID_PARAMETERS', crossError)
    const endpoint = await app.endpoints.resolveEndpoint(request.body.model)
    // truncate sits beside `parameters`, not in it (it is not one of JumpStart's)
    const translated = translateParameters(endpoint.contract, parameters, BESIDE_PARAMETERS, truncateExtra(truncate), endpoint.limits)
    const { params } = translated
    const run = { endpoint, params, deadline: Date.now() + app.config.REQUEST_TIMEOUT_MS, signal: callerGone(reply), tenant: tenantOf(request).id }
    const input = (prompt ?? DEFAULT_PROMPT) + text
    const answer = (texts: string[]): SummarizeResponse => ({ summary: texts[0] ?? '', generated_texts: texts, model: endpoint.name })
    if (request.body.stream === true && endpoint.contract.streams) {
      if (translated.sequences > 1) throw catalogError('INVALID_PARAMETERS', `body.parameters.num_return_sequences ${translated.sequences} cannot be streamed (a stream carries one sequence)`, { param: 'body.parameters.num_return_sequences' })
      const started = await startStreams([app.realtime.stream({ ...run, input })])
      const [first] = started
      if (first !== undefined && !('first' in first)) throw first
      return sendEventStream(reply, generationEvents(started, { single: true, answer: ([r]) => answer(r?.ok === true ? [r.text] : []) }))
    }
    const [outcome] = await app.realtime.run({ ...run, inputs: [input] })
    if (outcome === undefined || !outcome.ok) throw outcome?.error ?? catalogError('INTERNAL_ERROR', 'no outcome')
    return request.body.stream === true ? sendEventStream(reply, once(namedEvent('done', answer(outcome.texts)))) : answer(outcome.texts)
  })
}
export default summarize
