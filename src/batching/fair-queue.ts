/** What the fair queue needs of an entry. */
export interface LaneEntry {
  /** The tenant; '' for callers without one. */
  readonly lane: string
  /** Virtual time from `FairTags`: entries are served in tag order. */
  readonly tag: number
  /** Epoch ms the entry arrived. */
  readonly arrival: number
}

/**
 * Start-time fair queueing's tags: an entry's tag is its lane's previous tag, or the virtual
 * time now if that is later, plus 1 / weight; entries go out in tag order and the virtual time
 * follows the tags served. Equal weights make it round-robin across tenants; a tenant of weight
 * w gets w entries per round while it has any waiting. A burst of a thousand entries takes a
 * thousand tags ahead of it, so a tenant arriving later is served next, not after the burst; a
 * tenant that was idle banks nothing (its tag starts from the virtual time now).
 */
export class FairTags {
  readonly #weight: (lane: string) => number
  // per lane with entries waiting: the tag of its newest entry
  readonly #last = new Map<string, number>()
  #virtual = 0

  /** `weight(lane)` > 0: entries per round for that lane. */
  constructor (weight: (lane: string) => number) {
    this.#weight = weight
  }

  /** The tag of a new entry of `lane`. */
  next (lane: string): number {
    const tag = Math.max(this.#virtual, this.#last.get(lane) ?? 0) + 1 / this.#weight(lane)
    this.#last.set(lane, tag)
    return tag
  }

  /** An entry with `tag` was served: the virtual time moves on to it. */
  served (tag: number): void {
    if (tag > this.#virtual) this.#virtual = tag
  }

  /** `lane` has nothing waiting any more: forget it (it will start from the virtual time). */
  idle (lane: string): void {
    this.#last.delete(lane)
  }
}

/**
 * One FIFO lane per tenant; `peek`/`take` give the lane head with the lowest tag (see
 * `FairTags`), so tenants are served round-robin by weight and each tenant in arrival order.
 * Lanes are few (one per tenant with work waiting), so picks scan them.
 */
export class FairQueue<T extends LaneEntry> {
  readonly #lanes = new Map<string, T[]>()
  #size = 0

  /** Entries waiting in every lane. */
  get size (): number { return this.#size }

  /** Add at the back of its lane (tags of one lane increase, so the lane stays in tag order). */
  push (entry: T): void {
    let lane = this.#lanes.get(entry.lane)
    if (lane === undefined) {
      lane = []
      this.#lanes.set(entry.lane, lane)
    }
    lane.push(entry)
    this.#size++
  }

  /** Remove an entry wherever it is; false if it is not queued here. */
  remove (entry: T): boolean {
    const lane = this.#lanes.get(entry.lane)
    const i = lane === undefined ? -1 : lane.indexOf(entry)
    if (lane === undefined || i < 0) return false
    lane.splice(i, 1)
    this.#size--
    if (lane.length === 0) this.#lanes.delete(entry.lane)
    return true
  }

  /** The entry served next: the lowest tag among the lane heads, ties to the older arrival. */
  peek (): T | undefined {
    let best: T | undefined
    for (const lane of this.#lanes.values()) {
      const head = lane[0]
      if (best === undefined || head.tag < best.tag || (head.tag === best.tag && head.arrival < best.arrival)) best = head
    }
    return best
  }

  /** Take the entry served next. */
  take (): T | undefined {
    const entry = this.peek()
    if (entry !== undefined) this.remove(entry)
    return entry
  }

  /** Epoch ms the longest-waiting entry arrived (a lane head: lanes are FIFO); Infinity when empty. */
  oldestArrival (): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const lane of this.#lanes.values()) oldest = Math.min(oldest, lane[0].arrival)
    return oldest
  }
}

/**
 * Parses `name:weight,...` (TENANT_WEIGHTS) into a map; weights are whole numbers >= 1.
 * Throws a RangeError naming the bad entry.
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
