import { EvaluationInputError, type EvaluationRequest, type EvaluationResult } from '../evaluation/evaluate.js'
import { EvaluationPool } from '../evaluation/pool.js'
import { evaluationErrorToCatalog } from './errors.js'

/** ROUGE scoring for the routes, off the event loop. */
export interface Scoring {
  /**
   * Scores with the configured limits; input errors become catalog errors (400, or 413 for a
   * text over the token limit). Used by /v1/evaluate and the per-job evaluation route.
   */
  score: (request: EvaluationRequest) => Promise<EvaluationResult>
  /** Stops the worker threads. */
  close: () => Promise<void>
}

/** The scoring service: `workers` evaluation threads, texts of at most `maxTokens` tokens. */
export function createScoring ({ workers, maxTokens }: { workers: number, maxTokens: number }): Scoring {
  const pool = new EvaluationPool(workers)
  return {
    async score (request) {
      try {
        return await pool.run(request, { maxTokens })
      } catch (err) {
        throw err instanceof EvaluationInputError ? evaluationErrorToCatalog(err) : err
      }
    },
    close: async () => { await pool.close() }
  }
}
