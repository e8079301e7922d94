// The emulated TGI container's continuous batching (LOCAL_TGI_STEP_MS, LOCAL_TGI_STEP_PER_REQUEST_MS):
// the container runs decode steps one after the other while any request is generating; a step
// takes baseMs + perRequestMs × (requests in it) and gives every request in it one token. A
// request that arrives during a step joins at the next one, as TGI's router adds waiting
// requests to the running batch between steps. So one request alone gets a token every
// base + perRequest ms, and n together get n tokens every base + n·perRequest ms: throughput
// rises with concurrency (up to MAX_CONCURRENT_REQUESTS, which the container's permits bound).
// Generation does not wait for the reader, as TGI's does not.

import { setTimeout as sleep } from 'node:timers/promises'

/** The latency model of one decode step (ms). */
export interface DecodeStep { baseMs: number, perRequestMs: number }

/** Waits `ms` (a fake clock in tests). */
export type Sleep = (ms: number) => Promise<void>

function abortError (): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}

/** One request's generation in the loop. */
export class Decoding {
  /** Tokens generated so far. */
  produced = 0
  #failed: Error | undefined
  readonly #waiters: Array<{ index: number, resolve: () => void, reject: (err: Error) => void }> = []

  constructor (readonly tokens: number, private readonly onLeave: (d: Decoding) => void) {}

  /** Resolves once token `index` (0-based) is generated; rejects once the request left (aborted). */
  async token (index: number): Promise<void> {
    if (index < this.produced) return
    if (this.#failed !== undefined) throw this.#failed
    await new Promise<void>((resolve, reject) => { this.#waiters.push({ index, resolve, reject }) })
  }

  /** One step's token. */
  advance (): void {
    this.produced++
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]
      if (w.index < this.produced) { this.#waiters.splice(i, 1); w.resolve() }
    }
    if (this.produced >= this.tokens) this.onLeave(this)
  }

  /** Stops generating (the reader left); waiters are rejected with `err`. */
  leave (err: Error = abortError()): void {
    this.onLeave(this)
    if (this.produced >= this.tokens) return
    this.#failed = err
    for (const w of this.#waiters.splice(0)) w.reject(err)
  }
}

/** One container's decode loop. */
export class DecodeLoop {
  readonly #active = new Set<Decoding>()
  #running = false

  constructor (private readonly step: DecodeStep, private readonly sleepFor: Sleep = async ms => { await sleep(ms) }) {}

  /** Requests generating now. */
  get active (): number {
    return this.#active.size
  }

  /** Starts generating `tokens` tokens for one request; `signal` stops it. */
  join (tokens: number, signal?: AbortSignal): Decoding {
    const decoding = new Decoding(tokens, d => { this.#active.delete(d) })
    if (tokens <= 0) return decoding
    if (signal?.aborted === true) { decoding.leave(); return decoding }
    signal?.addEventListener('abort', () => { decoding.leave() }, { once: true })
    this.#active.add(decoding)
    // started after the current task, so requests arriving together share the first step
    if (!this.#running) { this.#running = true; queueMicrotask(() => { void this.#run() }) }
    return decoding
  }

  async #run (): Promise<void> {
    try {
      while (this.#active.size > 0) {
        const batch = [...this.#active]
        await this.sleepFor(this.step.baseMs + this.step.perRequestMs * batch.length)
        for (const d of batch) if (this.#active.has(d)) d.advance()
      }
    } finally {
      this.#running = false
    }
  }
}
