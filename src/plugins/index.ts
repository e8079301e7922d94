/**
 * The Fastify plugins that decorate the app with a service, one name each, registered in order
 * by app.ts: security (keys, tenants, limits, shedding), metrics, realtime (the batcher),
 * scoring, batch-jobs, endpoints. Each receives its clients from app.ts.
 */
export { securityPlugin } from './security.js'
export { metricsPlugin } from './metrics.js'
export { realtimePlugin } from './realtime.js'
export { scoringPlugin } from './scoring.js'
export { batchJobsPlugin } from './batch-jobs.js'
export { endpointsPlugin } from './endpoints.js'
