import type { Config } from './config.js'
import { catalogError } from './errors.js'
import { evaluate, EvaluationInputError, type EvaluationRequest, type EvaluationResult } from './evaluation/evaluate.js'

/**
 * Runs the pure ROUGE evaluation with the configured limits and turns its input errors into
 * catalog errors (400, or 413 for a text over the token limit). Used by /v1/evaluate and the
 * per-job evaluation route.
 */
export function scoreOrThrow (request: EvaluationRequest, config: Config): EvaluationResult {
  try {
    return evaluate(request, { maxTokens: config.EVAL_MAX_TOKENS })
  } catch (err) {
    if (err instanceof EvaluationInputError) {
      throw catalogError(err.code === 'TEXT_TOO_LONG' ? 'TEXT_TOO_LONG' : 'INVALID_REQUEST', `body.${err.message}`, { cause: err })
    }
    throw err
  }
}
