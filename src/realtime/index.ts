/**
 * Real-time generation, gateway side: the service behind app.realtime that the real-time routes
 * (summarize, generate, the OpenAI-compatible completions) call. It owns list admission over
 * the micro-batcher (a list is queued whole or refused whole; a tenant's own queue bound) and
 * the one mapping of the batcher's BatcherError to the catalog (errors.ts): the batcher is a
 * library with no catalog, and this is the edge of the service that wraps it. It knows nothing
 * of HTTP or Fastify; plugins/realtime.ts builds the batcher from app.settings and wires it.
 */
export { batcherErrorToCatalog } from './errors.js'
export { Batchers, CONTRACT_BODY_MARGIN_BYTES, endpointConcurrency, type BatchersOptions } from './batchers.js'
export { createRealtime, type ItemOutcome, type Realtime, type RealtimeOptions } from './realtime.js'
