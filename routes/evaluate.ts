import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EvaluateBody, EvaluationResponse } from '../schemas/evaluate.js'
import { errorResponses, JSON_BODY_ERRORS, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse } from '../schemas/responses.js'

/** POST /v1/evaluate: ROUGE of predictions against references, as Google's rouge-score. */
const evaluateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/evaluate', {
    bodyLimit: 64 * 1024 * 1024,
    schema: {
      tags: ['evaluation'],
      operationId: 'evaluate',
      summary: 'ROUGE-1/2/L/Lsum of predictions against references',
      description: 'Joined on id (compared as strings). A reference with no prediction is scored against "" and listed in `missing`; a prediction with no reference is listed in `unmatched`. ' +
        'Scores are means over references and equal Google\'s rouge-score (what Hugging Face evaluate wraps); rougeLsum splits sentences on newlines; `useStemmer` is NLTK\'s Porter stemmer on tokens longer than 3. ' +
        '`perRecord` adds each reference\'s scores; `bootstrap` adds seeded confidence bounds (`low`, `high`). Pure computation: no model is called.',
      security: BEARER_AUTH,
      body: EvaluateBody,
      response: {
        200: jsonResponse('Mean ROUGE scores by type, with the ids that could not be joined.', EvaluationResponse),
        ...errorResponses(...JSON_BODY_ERRORS, 'TEXT_TOO_LONG', ...V1_ERRORS)
      }
    }
  }, async (request) => await app.scoring.score(request.body))
}
export default evaluateRoutes
