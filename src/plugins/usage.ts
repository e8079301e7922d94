import fp from 'fastify-plugin'
import type { UsageArchive } from '../endpoints/archive.js'
import { usageReport } from '../endpoints/report.js'
import type { TenantCalls } from '../endpoints/tenant-calls.js'
import type { Tenant } from '../tenants.js'
import type { UsageReport } from '../../schemas/endpoints.js'
import type { TransformJob } from '../../schemas/jobs.js'

/** ms between two writes of the tenants' calls to S3 by one replica. */
const TENANT_CALLS_FLUSH_MS = 60_000

declare module 'fastify' {
  interface FastifyInstance {
    /** GET /v1/usage for a tenant. */
    usage: (tenant: Tenant, query: { from?: string, to?: string }) => Promise<UsageReport>
  }
}

export interface UsagePluginOptions {
  /** The local stack's bucket in local mode, else S3_BUCKET; none = no usage archive, no job usage. */
  bucket: string | undefined
  /** The archived usage of deleted endpoints (app.ts; none without a bucket). */
  archive: UsageArchive | undefined
  /** Each tenant's real-time calls, counted by the realtime plugin (app.ts); written to S3 here. */
  calls?: TenantCalls
  /** Clock of the report (tests pin it). */
  now?: () => number
}

/**
 * Decorates `app.usage` (GET /v1/usage): the endpoints' and the transform jobs' usage, the
 * archived usage of deleted endpoints and each tenant's calls, which it writes to S3 once a
 * minute and on close. Needs `app.endpoints`, `app.settings.prices` and `app.bucketServices`.
 */
export const usagePlugin = fp<UsagePluginOptions>(async (app, { bucket, archive, calls: tenantCalls, now = Date.now }) => {
  app.decorate('usage', async (tenant: Tenant, query: { from?: string, to?: string }) => {
    const batch = bucket === undefined ? undefined : app.bucketServices()
    return await usageReport({
      prices: app.settings.prices,
      now,
      endpoints: async (t) => await app.endpoints.list(t),
      // JobList's jobs are TransformJob references, which Static<> types as unknown
      ...(batch !== undefined ? { jobs: async (t, nextToken) => await batch.jobs.list(t, { limit: 100, ...(nextToken !== undefined ? { nextToken } : {}) }) as { jobs: TransformJob[], nextToken?: string } } : {}),
      ...(archive !== undefined ? { archived: async () => await archive.all() } : {}),
      ...(tenantCalls !== undefined ? { calls: async (t, fromMs, toMs) => await tenantCalls.lines(t, fromMs, toMs) } : {})
    }, tenant, query)
  })

  // each tenant's calls reach S3 once a minute (and on close), so every replica's report has them
  const callsTimer = tenantCalls === undefined
    ? undefined
    : setInterval(() => { tenantCalls.flush().catch((err: unknown) => { app.log.warn({ err }, 'could not record tenants\' calls; the next flush retries') }) }, TENANT_CALLS_FLUSH_MS)
  callsTimer?.unref()
  app.addHook('onClose', async () => {
    if (callsTimer !== undefined) clearInterval(callsTimer)
    await tenantCalls?.flush().catch((err: unknown) => { app.log.warn({ err }, 'could not record tenants\' calls on close') })
  })
}, { name: 'usage', dependencies: ['endpoints', 'bucket-services'] })
