import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EvaluateBody, EvaluationResponse } from '../schemas/evaluate.js'
import { errorResponses } from '../schemas/errors.js'

/** POST /v1/evaluate: ROUGE of predictions against references, as Google's rouge-score. */
const evaluateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/evaluate', {
    bodyLimit: 64 * 1024 * 1024,
    schema: {
      tags: ['evaluation'],
      operationId: 'evaluate',
      summary: 'ROUGE-1/2/L/Lsum of predictions against references',
      description: 'Joined on id (compared as strings). A reference with no prediction is scored against "" and listed in `missing`; a prediction with no reference is listed in `unmatched`. Scores equal Google\'s rouge-score (what Hugging Face evaluate wraps); rougeLsum splits sentences on newlines.',
      body: EvaluateBody,
      response: { 200: EvaluationResponse, ...errorResponses(400, 401, 413, 415, 429) }
    }
  }, async (request) => await app.scoring.score(request.body))
}
export default evaluateRoutes
