/**
 * ROUGE scoring, gateway side: the service behind app.scoring that /v1/evaluate and the
 * per-job evaluation route call. It runs src/evaluation/ (a pure library, also used by the CLI)
 * on worker threads with the configured limits, and owns the one mapping of evaluation's
 * EvaluationInputError to the catalog (errors.ts), at the edge of the service that wraps it.
 * It knows nothing of HTTP or Fastify; plugins/scoring.ts wires it.
 */
export { evaluationErrorToCatalog } from './errors.js'
export { createScoring, type Scoring } from './scoring.js'
