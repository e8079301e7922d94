/**
 * Real-time endpoints as a resource, service side (no HTTP): their life cycle (deploy, scale,
 * tear down, the idle sweep), the invocation ledger, usage and the estimated cost.
 */
export { Endpoints, ModelNotServed, type EndpointsOptions } from './service.js'
export { InvocationLedger } from './invocations.js'
export { loadPriceTable, type PriceTable } from './prices.js'
