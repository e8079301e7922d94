/**
 * Fixed-window counters by key (failed authentications per address): in this process, or in
 * Redis so every replica counts together and a restart keeps the window.
 */
import type { Redis } from 'ioredis'

/** A counter's state: hits in the current window and ms until the window ends. */
export interface WindowState {
  count: number
  ttlMs: number
}

/** Counts hits per key over a fixed window that starts at a key's first hit. */
export interface WindowCounter {
  /** The state without counting a hit. */
  peek: (key: string) => Promise<WindowState>
  /** Counts one hit and returns the new state. */
  hit: (key: string) => Promise<WindowState>
}

/** In this process; expired windows are dropped when touched and swept once per window. */
export class MemoryWindowCounter implements WindowCounter {
  private readonly windows = new Map<string, { count: number, endsAt: number }>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly windowMs: number, private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => {
      const t = this.now()
      for (const [key, w] of this.windows) if (w.endsAt <= t) this.windows.delete(key)
    }, windowMs)
    this.sweeper.unref()
  }

  async peek (key: string): Promise<WindowState> {
    const w = this.live(key)
    return w === undefined ? { count: 0, ttlMs: 0 } : { count: w.count, ttlMs: w.endsAt - this.now() }
  }

  async hit (key: string): Promise<WindowState> {
    let w = this.live(key)
    if (w === undefined) {
      w = { count: 0, endsAt: this.now() + this.windowMs }
      this.windows.set(key, w)
    }
    w.count++
    return { count: w.count, ttlMs: w.endsAt - this.now() }
  }

  /** Stops the sweeper. */
  close (): void {
    clearInterval(this.sweeper)
  }

  private live (key: string): { count: number, endsAt: number } | undefined {
    const w = this.windows.get(key)
    if (w !== undefined && w.endsAt <= this.now()) {
      this.windows.delete(key)
      return undefined
    }
    return w
  }
}

/** In Redis under `namespace + key`: the window's first hit creates the key with its expiry, then INCR. */
export class RedisWindowCounter implements WindowCounter {
  constructor (private readonly redis: Redis, private readonly windowMs: number, private readonly namespace: string) {}

  async peek (key: string): Promise<WindowState> {
    const [count, ttl] = await Promise.all([this.redis.get(this.namespace + key), this.redis.pttl(this.namespace + key)])
    return { count: Number(count ?? 0), ttlMs: Math.max(0, ttl) }
  }

  async hit (key: string): Promise<WindowState> {
    const k = this.namespace + key
    // SET NX: only the first hit of a window sets its end, so later hits never extend it
    // (PEXPIRE's own NX flag needs Redis 7)
    const results = await this.redis.multi().set(k, '0', 'PX', this.windowMs, 'NX').incr(k).pttl(k).exec()
    const count = Number(results?.[1]?.[1] ?? 0)
    const ttl = Number(results?.[2]?.[1] ?? this.windowMs)
    return { count, ttlMs: ttl < 0 ? this.windowMs : ttl }
  }
}
