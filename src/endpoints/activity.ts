/**
 * Endpoint activity: what this replica sent each endpoint (the invocation ledger,
 * invocations.ts) written to the endpoint's tags as counts added and a last-invoked time,
 * at most once per LAST_INVOKED_REFRESH_MS per endpoint in the background, before a delete,
 * and on close. Configured (static) endpoints are not the gateway's: their counts stay in the
 * ledger and are never written.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Descriptions } from './descriptions.js'
import type { InvocationLedger, PendingCalls } from './invocations.js'
import { TAG } from './tags.js'

/** ms between two writes of one endpoint's last-invoked time and counts by one replica, at least. */
export const LAST_INVOKED_REFRESH_MS = 60_000

export interface ActivityOptions {
  descriptions: Descriptions
  invocations: InvocationLedger
  /** SAGEMAKER_ENDPOINT_NAME (or the local model): never written to. */
  staticNames: readonly string[]
  log: FastifyBaseLogger
  now: () => number
}

/** Writes this replica's invocation counts to the endpoints' tags. */
export class Activity {
  private readonly descriptions: Descriptions
  private readonly invocations: InvocationLedger
  private readonly staticNames: readonly string[]
  private readonly log: FastifyBaseLogger
  private readonly now: () => number
  /** name → epoch ms this replica last wrote the endpoint's invocation tags. */
  private readonly writtenAt = new Map<string, number>()
  /** name → the write of its counts in progress. */
  private readonly writing = new Map<string, Promise<void>>()

  constructor (opts: ActivityOptions) {
    this.descriptions = opts.descriptions
    this.invocations = opts.invocations
    this.staticNames = opts.staticNames
    this.log = opts.log
    this.now = opts.now
    opts.invocations.onInvocation((name) => { this.maybeWriteCounts(name) })
  }

  /** Writes this replica's unwritten calls to `name`'s tags (counts added, last-invoked raised). */
  async writeCounts (name: string): Promise<void> {
    const running = this.writing.get(name)
    if (running !== undefined) { await running; return }
    const calls = this.invocations.take(name)
    if (calls === undefined) return
    const p = this.writeCalls(name, calls).finally(() => { this.writing.delete(name) })
    this.writing.set(name, p)
    await p
  }

  /** Writes the counts of every endpoint in `names` the gateway may write to (on close). */
  async writeAllCounts (names: Iterable<string>): Promise<void> {
    for (const name of names) {
      if (!this.staticNames.includes(name)) await this.writeCounts(name).catch(() => undefined)
    }
  }

  /** Resolves once the write of `name`'s counts in progress, or (no name) every write in progress, has landed or failed. */
  async settled (name?: string): Promise<void> {
    if (name !== undefined) await this.writing.get(name)?.catch(() => undefined)
    else await Promise.allSettled(this.writing.values())
  }

  /** Writes at most once per LAST_INVOKED_REFRESH_MS per endpoint, in the background. */
  private maybeWriteCounts (name: string): void {
    const last = this.writtenAt.get(name) ?? 0
    if (this.now() - last < LAST_INVOKED_REFRESH_MS || this.staticNames.includes(name)) return
    this.writtenAt.set(name, this.now())
    void this.writeCounts(name).catch((err: unknown) => { this.log.warn({ err, endpoint: name }, 'could not record endpoint invocations') })
  }

  private async writeCalls (name: string, calls: PendingCalls): Promise<void> {
    try {
      // read-modify-write: two replicas writing in the same instant can lose one's counts (the
      // usage is an estimate); last-invoked only ever moves forward
      const found = await this.descriptions.describe(name, true)
      if (found === undefined || !found.meta.managed) return
      const last = Math.max(found.meta.lastInvokedMs ?? 0, calls.lastMs)
      await this.descriptions.addTags(found.arn, [
        { Key: TAG.lastInvokedAt, Value: new Date(last).toISOString() },
        { Key: TAG.invocations, Value: String(found.meta.invocations + calls.invocations) },
        { Key: TAG.items, Value: String(found.meta.items + calls.items) }
      ])
      this.writtenAt.set(name, this.now())
      this.descriptions.forget(name)
    } catch (err) {
      this.invocations.restore(name, calls)
      throw err
    }
  }
}
