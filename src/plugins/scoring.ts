import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createScoring, type Scoring } from '../scoring/scoring.js'

declare module 'fastify' {
  interface FastifyInstance {
    scoring: Scoring
  }
}

/** Decorates `app.scoring` (src/scoring/), backed by EVAL_WORKERS worker threads, closed with the app. */
export const scoringPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const scoring = createScoring({ workers: config.EVAL_WORKERS, maxTokens: config.EVAL_MAX_TOKENS })
  app.decorate('scoring', scoring)
  app.addHook('onClose', async () => { await scoring.close() })
}, { name: 'scoring' })
