import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { catalogError } from '../errors.js'
import { EvaluationInputError, type EvaluationRequest, type EvaluationResult } from '../evaluation/evaluate.js'
import { EvaluationPool } from '../evaluation/pool.js'

/** ROUGE scoring for the routes, off the event loop. */
export interface Scoring {
  /**
   * Scores with the configured limits; input errors become catalog errors (400, or 413 for a
   * text over the token limit). Used by /v1/evaluate and the per-job evaluation route.
   */
  score: (request: EvaluationRequest) => Promise<EvaluationResult>
}

declare module 'fastify' {
  interface FastifyInstance {
    scoring: Scoring
  }
}

/** Decorates `app.scoring`, backed by EVAL_WORKERS worker threads. */
export const scoringPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const pool = new EvaluationPool(config.EVAL_WORKERS)
  app.decorate('scoring', {
    async score (request) {
      try {
        return await pool.run(request, { maxTokens: config.EVAL_MAX_TOKENS })
      } catch (err) {
        if (err instanceof EvaluationInputError) {
          throw catalogError(err.code === 'TEXT_TOO_LONG' ? 'TEXT_TOO_LONG' : 'INVALID_REQUEST', `body.${err.message}`, { cause: err })
        }
        throw err
      }
    }
  } satisfies Scoring)
  app.addHook('onClose', async () => { await pool.close() })
}, { name: 'scoring' })
