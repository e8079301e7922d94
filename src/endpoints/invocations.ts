/**
 * This replica's endpoint invocations, counted where they happen (around the invoker the
 * batcher calls), so usage and idle tear-down know what was sent to which endpoint. Counts are
 * held as deltas until the endpoints service writes them to the endpoint's tags (at most once a
 * minute per endpoint), then cleared.
 */
import type { InvokeFn } from '../batching/batcher.js'
import { InvokeError } from '../batching/errors.js'

/** Calls not yet written to tags to one endpoint from this replica. */
export interface PendingCalls {
  invocations: number
  items: number
  /** Epoch ms of the latest invocation. */
  lastMs: number
}

/** Listens to successful invocations (the endpoints service refreshes tags from here). */
export type InvocationListener = (endpoint: string, items: number) => void

export class InvocationLedger {
  private readonly pending = new Map<string, PendingCalls>()
  private readonly listeners: InvocationListener[] = []

  constructor (private readonly now: () => number = Date.now) {}

  /** The invoker, counting each successful invocation and its items per endpoint. */
  wrap (invoke: InvokeFn): InvokeFn {
    return async (req) => {
      let out: string[][]
      try {
        out = await invoke(req)
      } catch (err) {
        // an endpoint deleted under queued requests answers "not found": say so without AWS's
        // account details (the batcher turns a fatal error into 503 ENDPOINT_UNAVAILABLE)
        if (err instanceof InvokeError && err.kind === 'fatal' && /not found/i.test(err.message)) {
          throw new InvokeError('fatal', `endpoint ${JSON.stringify(req.endpoint)} is not serving (deleted or being deleted)`, { cause: err })
        }
        throw err
      }
      this.record(req.endpoint, req.inputs.length)
      return out
    }
  }

  /** Counts one invocation of `items` inputs to `endpoint`. */
  record (endpoint: string, items: number): void {
    const p = this.pending.get(endpoint) ?? { invocations: 0, items: 0, lastMs: 0 }
    p.invocations += 1
    p.items += items
    p.lastMs = Math.max(p.lastMs, this.now())
    this.pending.set(endpoint, p)
    for (const listener of this.listeners) listener(endpoint, items)
  }

  onInvocation (listener: InvocationListener): void {
    this.listeners.push(listener)
  }

  /** Endpoints with calls not yet written to tags. */
  names (): string[] {
    return [...this.pending.keys()]
  }

  /** Calls not yet written to tags to `endpoint` (undefined: none since the last take). */
  peek (endpoint: string): PendingCalls | undefined {
    return this.pending.get(endpoint)
  }

  /** Removes and returns the calls not yet written (put them back with `restore` if writing fails). */
  take (endpoint: string): PendingCalls | undefined {
    const p = this.pending.get(endpoint)
    this.pending.delete(endpoint)
    return p
  }

  restore (endpoint: string, calls: PendingCalls): void {
    const p = this.pending.get(endpoint)
    if (p === undefined) { this.pending.set(endpoint, { ...calls }); return }
    p.invocations += calls.invocations
    p.items += calls.items
    p.lastMs = Math.max(p.lastMs, calls.lastMs)
  }
}
