/**
 * Each tenant's real-time calls, so GET /v1/usage shows a tenant what it sent (an endpoint's
 * invocations mix every tenant's inputs, so those are the admins' view): per endpoint, the
 * requests a tenant made and the inputs of them that were answered, counted per UTC hour.
 *
 * Counted in memory where the calls happen (realtime/realtime.ts) and written to S3 once a
 * minute and on close, one object per tenant, UTC day and replica:
 * `<S3_PREFIX>/usage/tenants/<tenant>/<yyyy-mm-dd>/<replica>.json` holding
 * `{"hours":{"<yyyy-mm-ddThh>":{"<endpoint>":{"requests":n,"items":n}}}}`. A replica writes only
 * its own objects (its whole day each time), so replicas never race; a report sums them all.
 * Without a bucket the counts are this replica's since it started.
 */
import { randomUUID } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'
import { getText, listObjects, putText } from '../sagemaker/s3-io.js'
import type { Tenant } from '../tenants.js'

/** One tenant's calls to one endpoint. */
export interface CallCounts {
  requests: number
  items: number
}

/** A line of the report: a tenant's calls to an endpoint in the window. */
export interface TenantCallLine extends CallCounts {
  tenant: string
  endpoint: string
}

/** hour (`yyyy-mm-ddThh`, UTC) → endpoint → counts. */
type Hours = Record<string, Record<string, CallCounts>>

const HOUR_MS = 3600_000
const hourOf = (ms: number): string => new Date(ms).toISOString().slice(0, 13)
const dayOf = (hour: string): string => hour.slice(0, 10)

/** Where the objects go; none = memory only. */
export interface CallStore {
  s3: S3Client
  bucket: string
  prefix: string
  /** Writes one object; putText unless a test controls when a write ends. */
  put?: typeof putText
}

export class TenantCalls {
  /** This process's id in object keys: a restart is a new replica, so nothing is overwritten. */
  private readonly replica = randomUUID()
  /** tenant → day → its hours, everything this replica counted on days not yet left behind. */
  private readonly counted = new Map<string, Map<string, Hours>>()
  /** `tenant/day` written since it last changed: not written again. */
  private readonly clean = new Set<string>()
  /** The flush running or last run: flushes run one after another, so an older snapshot never lands after a newer one. */
  private flushing: Promise<void> = Promise.resolve()
  private readonly root: string | undefined

  constructor (private readonly store: CallStore | undefined, private readonly now: () => number = Date.now) {
    if (store !== undefined) {
      const trimmed = store.prefix.replace(/^\/+|\/+$/g, '')
      this.root = (trimmed === '' ? '' : trimmed + '/') + 'usage/tenants/'
    }
  }

  /** Counts one request of `tenant` to `endpoint` with `answered` of its inputs answered. */
  record (tenant: string, endpoint: string, answered: number): void {
    const hour = hourOf(this.now())
    const days = this.counted.get(tenant) ?? new Map<string, Hours>()
    this.counted.set(tenant, days)
    const hours = days.get(dayOf(hour)) ?? {}
    days.set(dayOf(hour), hours)
    const endpoints = hours[hour] ?? {}
    hours[hour] = endpoints
    const c = endpoints[endpoint] ?? { requests: 0, items: 0 }
    endpoints[endpoint] = c
    c.requests += 1
    c.items += answered
    this.clean.delete(`${tenant}/${dayOf(hour)}`)
  }

  /** Writes this replica's changed days to S3 (after any flush still running); days before yesterday are then dropped from memory. */
  async flush (): Promise<void> {
    const run = this.flushing.catch(() => {}).then(async () => { await this.writeChanged() })
    this.flushing = run
    await run
  }

  private async writeChanged (): Promise<void> {
    if (this.store === undefined || this.root === undefined) return
    const put = this.store.put ?? putText
    const today = dayOf(hourOf(this.now()))
    const yesterday = dayOf(hourOf(this.now() - 24 * HOUR_MS))
    for (const [tenant, days] of this.counted) {
      for (const [day, hours] of days) {
        const id = `${tenant}/${day}`
        if (!this.clean.has(id)) {
          // marked before the write: a record() during it clears the mark, so the next flush writes the newer count
          this.clean.add(id)
          try {
            await put(this.store.s3, this.store.bucket, `${this.root}${id}/${this.replica}.json`, JSON.stringify({ hours }), 'application/json')
          } catch (err) {
            this.clean.delete(id)
            throw err
          }
        }
        if (day !== today && day !== yesterday) { days.delete(day); this.clean.delete(id) }
      }
    }
  }

  /** The calls of `tenant` (an admin: every tenant's) in the hours overlapping [fromMs, toMs], by tenant and endpoint. */
  async lines (tenant: Tenant, fromMs: number, toMs: number): Promise<TenantCallLine[]> {
    const sums = new Map<string, TenantCallLine>()
    const add = (who: string, hours: Hours): void => {
      for (const [hour, endpoints] of Object.entries(hours)) {
        const start = Date.parse(`${hour}:00:00Z`)
        if (!(start + HOUR_MS > fromMs && start <= toMs)) continue
        for (const [endpoint, c] of Object.entries(endpoints)) {
          const key = `${who}\u0000${endpoint}`
          const line = sums.get(key) ?? { tenant: who, endpoint, requests: 0, items: 0 }
          line.requests += c.requests
          line.items += c.items
          sums.set(key, line)
        }
      }
    }
    const fromDay = dayOf(hourOf(fromMs))
    const toDay = dayOf(hourOf(toMs))
    if (this.store !== undefined && this.root !== undefined) {
      const prefix = tenant.admin ? this.root : `${this.root}${tenant.id}/`
      for await (const obj of listObjects(this.store.s3, this.store.bucket, prefix)) {
        // <tenant>/<day>/<replica>.json; this replica's days still in memory are read there (newer)
        const [who, day, file] = obj.key.slice(this.root.length).split('/')
        if (who === undefined || day === undefined || file === undefined) continue
        if (file === `${this.replica}.json` && this.counted.get(who)?.has(day) === true) continue
        if (day < fromDay || day > toDay) continue
        const text = await getText(this.store.s3, this.store.bucket, obj.key)
        if (text === undefined) continue
        try {
          add(who, (JSON.parse(text) as { hours: Hours }).hours ?? {})
        } catch { /* a torn or foreign object: not ours to report */ }
      }
    }
    for (const [who, days] of this.counted) {
      if (!tenant.admin && who !== tenant.id) continue
      for (const hours of days.values()) add(who, hours)
    }
    return [...sums.values()].sort((a, b) => a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)
  }
}
