/**
 * The Fastify plugins that decorate the app with a service, one name each, registered in order
 * by app.ts: security (keys, tenants, limits, shedding), metrics, realtime (the batcher),
 * scoring, endpoints, bucket-services, usage. Each receives its clients from app.ts and declares
 * the plugins whose decorators it uses.
 */
export { securityPlugin } from './security.js'
export { metricsPlugin } from './metrics.js'
export { realtimePlugin } from './realtime.js'
export { scoringPlugin } from './scoring.js'
export { endpointsPlugin } from './endpoints.js'
export { bucketServicesPlugin } from './bucket-services.js'
export { usagePlugin } from './usage.js'
