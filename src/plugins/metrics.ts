import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The gateway's Prometheus metrics; names are part of the HTTP contract. */
export interface Metrics {
  registry: Registry
  batchSize: Histogram
  queueDepth: Gauge
  inFlight: Gauge
  invocations: Counter<'outcome'>
  items: Counter<'outcome'>
  invocationSeconds: Histogram<'outcome'>
  httpRequests: Counter<'route' | 'status'>
  /** Read at scrape time; the realtime plugin points them at its batcher. */
  sources: { queueDepth: () => number, inFlight: () => number }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** Creates a registry of its own, so several apps (tests) never share counters. */
export function createMetrics (): Metrics {
  const registry = new Registry()
  const sources = { queueDepth: () => 0, inFlight: () => 0 }
  collectDefaultMetrics({ register: registry, prefix: 't2t_process_' })
  return {
    registry,
    batchSize: new Histogram({ name: 't2t_batch_size', help: 'Items per endpoint invocation.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [registry] }),
    sources,
    queueDepth: new Gauge({ name: 't2t_queue_depth', help: 'Items waiting for an endpoint invocation.', registers: [registry], collect () { this.set(sources.queueDepth()) } }),
    inFlight: new Gauge({ name: 't2t_invocations_in_flight', help: 'Endpoint invocations in flight.', registers: [registry], collect () { this.set(sources.inFlight()) } }),
    invocations: new Counter({ name: 't2t_invocations_total', help: 'Endpoint invocations by outcome.', labelNames: ['outcome'], registers: [registry] }),
    items: new Counter({ name: 't2t_items_total', help: 'Real-time items by final outcome.', labelNames: ['outcome'], registers: [registry] }),
    invocationSeconds: new Histogram({ name: 't2t_invocation_duration_seconds', help: 'Endpoint invocation latency.', labelNames: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] }),
    httpRequests: new Counter({ name: 't2t_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'], registers: [registry] })
  }
}

/** Decorates `app.metrics` and counts every response by route template and status. */
export const metricsPlugin = fp(async (app) => {
  const metrics = createMetrics()
  app.decorate('metrics', metrics)
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequests.labels(request.routeOptions.url ?? 'unmatched', String(reply.statusCode)).inc()
    done()
  })
}, { name: 'metrics' })
