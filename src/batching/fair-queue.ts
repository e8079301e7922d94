/** What the fair queue needs of an entry: the lane (tenant) it belongs to and its arrival order. */
export interface LaneEntry {
  /** The tenant; '' for callers without one. */
  readonly lane: string
  /** Arrival order; lower is older. */
  readonly seq: number
}

interface Lane<T> {
  // FIFO by arrival
  readonly items: T[]
  // smooth weighted round-robin credit; reset when the lane empties, so an idle tenant banks none
  credit: number
}

/**
 * One FIFO lane per tenant, served by smooth weighted round-robin (nginx's: every pick adds each
 * non-empty lane's weight to its credit, the richest lane gives its oldest entry and pays the
 * sum of the weights). A tenant with weight w gets w entries per round while it has any waiting,
 * so one tenant's burst never pushes another's entries behind it; within a lane, arrival order.
 */
export class FairQueue<T extends LaneEntry> {
  readonly #lanes = new Map<string, Lane<T>>()
  readonly #weight: (lane: string) => number
  #size = 0

  /** `weight(lane)` > 0: entries per round for that lane. */
  constructor (weight: (lane: string) => number) {
    this.#weight = weight
  }

  /** Entries waiting in every lane. */
  get size (): number { return this.#size }

  /** Add at the back of its lane. */
  push (entry: T): void {
    let lane = this.#lanes.get(entry.lane)
    if (lane === undefined) {
      lane = { items: [], credit: 0 }
      this.#lanes.set(entry.lane, lane)
    }
    lane.items.push(entry)
    this.#size++
  }

  /** Remove an entry wherever it is; false if it is not queued here. */
  remove (entry: T): boolean {
    const lane = this.#lanes.get(entry.lane)
    const i = lane === undefined ? -1 : lane.items.indexOf(entry)
    if (lane === undefined || i < 0) return false
    lane.items.splice(i, 1)
    this.#size--
    if (lane.items.length === 0) this.#lanes.delete(entry.lane)
    return true
  }

  /** The oldest entry of any lane. */
  oldest (): T | undefined {
    let best: T | undefined
    for (const lane of this.#lanes.values()) {
      const head = lane.items[0]
      if (best === undefined || head.seq < best.seq) best = head
    }
    return best
  }

  /** The entry `take()` would return next, without taking it. */
  peek (): T | undefined {
    return this.#pick()?.items[0]
  }

  /** Take the next entry in weighted round-robin order. */
  take (): T | undefined {
    const picked = this.#pick()
    if (picked === undefined) return undefined
    let total = 0
    for (const [name, lane] of this.#lanes) {
      const weight = this.#weight(name)
      lane.credit += weight
      total += weight
    }
    picked.credit -= total
    const entry = picked.items[0]
    this.remove(entry)
    return entry
  }

  // the lane with the most credit after this round's increment; ties to the older head
  #pick (): Lane<T> | undefined {
    let best: Lane<T> | undefined
    let bestCredit = Number.NEGATIVE_INFINITY
    for (const [name, lane] of this.#lanes) {
      const credit = lane.credit + this.#weight(name)
      if (credit > bestCredit || (credit === bestCredit && best !== undefined && lane.items[0].seq < best.items[0].seq)) {
        best = lane
        bestCredit = credit
      }
    }
    return best
  }
}

/**
 * Parses `name:weight,...` (TENANT_WEIGHTS) into a map; weights are positive integers. Throws
 * a RangeError naming the bad entry.
 */
export function parseTenantWeights (spec: string): Map<string, number> {
  const weights = new Map<string, number>()
  for (const entry of spec.split(',').map(s => s.trim()).filter(Boolean)) {
    const m = /^([^:\s]+)\s*:\s*(\d+)$/.exec(entry)
    const weight = m === null ? NaN : Number(m[2])
    if (m === null || !Number.isSafeInteger(weight) || weight < 1) throw new RangeError(`"${entry}" is not name:weight with a whole weight >= 1`)
    weights.set(m[1], weight)
  }
  return weights
}
