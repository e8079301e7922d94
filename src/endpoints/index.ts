/**
 * Real-time endpoints as a resource, service side (no HTTP), one module per concern:
 * - descriptions.ts: what SageMaker says about an endpoint (DescribeEndpoint + its tags, cached
 *   a few seconds; ListEndpoints; the model and instance type its config names); tag writes.
 * - resolver.ts: a real-time `model` → the endpoint to invoke and its container contract (the
 *   only part on the real-time path), an endpoint → the SageMaker model it serves; ModelNotServed.
 * - lifecycle.ts: deploy, scale and delete managed endpoints, with their rollbacks and adoption.
 * - activity.ts: this replica's invocation counts (invocations.ts, the ledger) written to tags.
 * - sweeper.ts: the idle sweeper and its timer.
 * - views.ts: the API's Endpoint objects (one, the list).
 * - service.ts: the facade that builds them and gives the routes one object.
 * - tags.ts (the gateway's facts as tags), usage.ts and prices.ts (instance time, estimated
 *   cost), report.ts (GET /v1/usage), archive.ts (deleted endpoints' usage), tenant-calls.ts.
 */
export { Endpoints, type EndpointsOptions } from './service.js'
export { ModelNotServed, type ResolvedEndpoint } from './resolver.js'
export { InvocationLedger } from './invocations.js'
export { loadPriceTable, type PriceTable } from './prices.js'
