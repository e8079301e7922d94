/** Time source and timers, injectable so every policy runs under a fake clock in tests. */
export interface Clock {
  /** Epoch ms. */
  now (): number
  setTimeout (callback: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

/** The process clock: `Date.now` and the global timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}

// Node clamps longer delays to 1 ms; a timer this long just fires early and re-arms.
export const MAX_TIMER_MS = 2 ** 31 - 1
