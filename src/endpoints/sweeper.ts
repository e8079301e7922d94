/**
 * The idle sweeper: every managed InService endpoint with idleDeleteAfterMinutes that nobody
 * invoked for that long is deleted. It runs every ENDPOINT_SWEEP_INTERVAL_MS on a timer of its
 * own (unref'd: it never holds the process open; one sweep at a time), started and stopped by
 * the endpoints plugin.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Described, Descriptions } from './descriptions.js'
import type { InvocationLedger } from './invocations.js'
import type { Lifecycle } from './lifecycle.js'

/** The tenant an idle tear-down acts as (endpoints are deleted by admins only). */
const SWEEPER = { id: 'idle-sweeper', admin: true }

export interface SweeperOptions {
  descriptions: Descriptions
  lifecycle: Lifecycle
  invocations: InvocationLedger
  log: FastifyBaseLogger
  now: () => number
  /** Called once per idle tear-down (metrics). */
  onIdleDelete?: (name: string) => void
}

/** Deletes idle endpoints, once per call or on its timer. */
export class IdleSweeper {
  private readonly descriptions: Descriptions
  private readonly lifecycle: Lifecycle
  private readonly invocations: InvocationLedger
  private readonly log: FastifyBaseLogger
  private readonly now: () => number
  private readonly onIdleDelete: ((name: string) => void) | undefined
  private timer: NodeJS.Timeout | undefined
  /** The timer's sweep in progress. */
  private sweeping: Promise<void> | undefined

  constructor (opts: SweeperOptions) {
    this.descriptions = opts.descriptions
    this.lifecycle = opts.lifecycle
    this.invocations = opts.invocations
    this.log = opts.log
    this.now = opts.now
    this.onIdleDelete = opts.onIdleDelete
  }

  /**
   * One idle sweep: every managed InService endpoint with idleDeleteAfterMinutes whose last
   * invocation (through any replica; this one's unwritten calls count too), or InService start,
   * is older than that is deleted. Replicas may sweep at once: a second DeleteEndpoint finds it
   * Deleting or gone, and that is agreement, not an error. Returns the names deleted here.
   */
  async sweep (): Promise<string[]> {
    const deleted: string[] = []
    for (const found of await this.descriptions.listManaged()) {
      const name = found.description.EndpointName ?? ''
      const idle = found.meta.idleMinutes
      if (idle === undefined || found.description.EndpointStatus !== 'InService') continue
      const last = this.lastActivity(found)
      if (this.now() - last < idle * 60_000) continue
      // re-read right before deleting: another replica may have written a newer invocation
      const fresh = await this.descriptions.describe(name, true)
      if (fresh === undefined || fresh.description.EndpointStatus !== 'InService' || this.now() - this.lastActivity(fresh) < idle * 60_000) continue
      try {
        await this.lifecycle.delete(SWEEPER, name, 'idle')
        this.log.info({ endpoint: name, idleDeleteAfterMinutes: idle, lastActivity: new Date(last).toISOString() }, 'idle endpoint torn down')
        this.onIdleDelete?.(name)
        deleted.push(name)
      } catch (err) {
        this.log.warn({ err, endpoint: name }, 'idle tear-down did not complete; next sweep retries')
      }
    }
    return deleted
  }

  /**
   * Sweeps every `intervalMs` until stop(); a tick while a sweep runs is skipped. `afterSweep`
   * runs after each sweep (the plugin's gauges); a failure of either is logged and the next
   * tick retries.
   */
  start (intervalMs: number, afterSweep?: () => Promise<void>): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      if (this.sweeping !== undefined) return
      this.sweeping = this.tick(afterSweep).finally(() => { this.sweeping = undefined })
    }, intervalMs)
    this.timer.unref()
  }

  /** Stops the timer; resolves once a sweep in progress is done. */
  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.sweeping
  }

  private async tick (afterSweep: (() => Promise<void>) | undefined): Promise<void> {
    try {
      await this.sweep()
      await afterSweep?.()
    } catch (err) {
      this.log.warn({ err }, 'endpoint sweep failed; the next one retries')
    }
  }

  /** Latest of: last invocation (tags or this replica), InService start, last modification (ms). */
  private lastActivity (found: Described): number {
    const name = found.description.EndpointName ?? ''
    return Math.max(
      found.meta.lastInvokedMs ?? 0,
      this.invocations.peek(name)?.lastMs ?? 0,
      found.meta.ledger.sinceMs ?? 0,
      found.description.LastModifiedTime?.getTime() ?? 0
    )
  }
}
