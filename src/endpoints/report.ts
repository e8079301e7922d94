/**
 * GET /v1/usage: the instance time and estimated cost of jobs and endpoints in a window. Jobs
 * count when created in the window (their whole instance time); endpoints when alive in it
 * (their instance time so far, or until deleted); real-time calls by the hours they were made
 * in. A tenant sees its own jobs and its own calls; admins see every tenant's, and the endpoints.
 */
import type { Endpoint, Usage, UsageReport } from '../../schemas/endpoints.js'
import type { TransformJob } from '../../schemas/jobs.js'
import { catalogError } from '../errors.js'
import type { Tenant } from '../tenants.js'
import type { ArchivedEndpoint } from './archive.js'
import type { TenantCallLine } from './tenant-calls.js'
import { roundTo, type PriceTable } from './prices.js'

/** Default window: the 30 days before `to`. */
export const DEFAULT_WINDOW_MS = 30 * 24 * 3600_000
/** Pages of 100 jobs read at most for one report. */
export const MAX_JOB_PAGES = 50

/** Where the report's figures come from (the services, or fakes in tests). */
export interface UsageSources {
  prices: PriceTable
  /** One page of the tenant's jobs, newest first (GET /v1/transform-jobs). */
  jobs?: (tenant: Tenant, nextToken: string | undefined) => Promise<{ jobs: TransformJob[], nextToken?: string }>
  endpoints: (tenant: Tenant) => Promise<Endpoint[]>
  archived?: () => Promise<ArchivedEndpoint[]>
  /** Real-time calls in the window: the tenant's own; an admin's: every tenant's. */
  calls?: (tenant: Tenant, fromMs: number, toMs: number) => Promise<TenantCallLine[]>
  now: () => number
}

/** Parses the window; 400 naming the field for a bad or inverted one. */
export function usageWindow (query: { from?: string, to?: string }, nowMs: number): { fromMs: number, toMs: number } {
  const parse = (field: 'from' | 'to', value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback
    const ms = Date.parse(value)
    if (!Number.isFinite(ms)) throw catalogError('INVALID_REQUEST', `querystring.${field} ${JSON.stringify(value)} is not an ISO 8601 date-time`)
    return ms
  }
  const toMs = parse('to', query.to, nowMs)
  const fromMs = parse('from', query.from, toMs - DEFAULT_WINDOW_MS)
  if (fromMs > toMs) throw catalogError('INVALID_REQUEST', `querystring.from (${query.from ?? ''}) is after querystring.to (${new Date(toMs).toISOString()})`)
  return { fromMs, toMs }
}

/** Builds the report for `tenant`. */
export async function usageReport (sources: UsageSources, tenant: Tenant, query: { from?: string, to?: string }): Promise<UsageReport> {
  const { fromMs, toMs } = usageWindow(query, sources.now())
  const jobs: UsageReport['jobs'] = []
  if (sources.jobs !== undefined) {
    let token: string | undefined
    // newest first: the first job older than the window ends the listing
    let older = false
    for (let page = 0; page < MAX_JOB_PAGES && !older; page++) {
      const out = await sources.jobs(tenant, token)
      for (const job of out.jobs) {
        const created = Date.parse(job.createdAt)
        if (created < fromMs) { older = true; break }
        if (created > toMs || job.usage === undefined) continue
        jobs.push(line(job.name, job.usage))
      }
      token = out.nextToken
      if (token === undefined) break
    }
  }
  const endpoints: UsageReport['endpoints'] = []
  if (tenant.admin) {
    for (const e of await sources.endpoints(tenant)) {
      if (Date.parse(e.createdAt) > toMs) continue
      endpoints.push({ ...line(e.name, e.usage), status: e.status, invocations: e.usage.invocations ?? 0, items: e.usage.items ?? 0 })
    }
    for (const a of await sources.archived?.() ?? []) {
      const alive = Date.parse(a.endpoint.createdAt) <= toMs && Date.parse(a.deletedAt) >= fromMs
      if (!alive) continue
      const u = a.endpoint.usage
      endpoints.push({ ...line(a.endpoint.name, u), status: 'Deleted', invocations: u.invocations ?? 0, items: u.items ?? 0 })
    }
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
  const all = [...jobs, ...endpoints]
  const invocations = sum(endpoints.map(e => e.invocations))
  const items = sum(endpoints.map(e => e.items))
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    jobs,
    endpoints,
    calls: await sources.calls?.(tenant, fromMs, toMs) ?? [],
    totals: {
      instanceSeconds: roundTo(sum(all.map(l => l.instanceSeconds)), 3),
      estimatedCostUsd: roundTo(sum(all.map(l => l.estimatedCostUsd ?? 0)), 4),
      invocations,
      items,
      invocationsSaved: Math.max(0, items - invocations)
    },
    prices: { source: sources.prices.source, date: sources.prices.date, region: sources.prices.region }
  }
}

function line (name: string, u: Usage): UsageReport['jobs'][number] {
  return { name, instanceType: u.instanceType, instanceCount: u.instanceCount, instanceSeconds: u.instanceSeconds, estimatedCostUsd: u.estimatedCostUsd }
}
