/** Time source and timers, injectable so every policy runs under a fake clock in tests. */
export interface Clock {
  /** Epoch ms. */
  now (): number
  setTimeout (callback: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

/**
 * The process clock: `Date.now` and the global timers. A timer's callback runs in the check
 * phase of the loop turn its timer fires in, after the poll phase: when the process was busy
 * (writing a batch's answers, or off the CPU) past the timer's time, the requests that arrived
 * meanwhile are read before the batcher decides, instead of looking like a pause in arrivals.
 * (Requests that arrive while that same poll phase is busy are read in the next turn: the
 * callback does not wait for them.)
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle: RealTimer = {}
    handle.timeout = setTimeout(() => { handle.immediate = setImmediate(callback) }, ms)
    return handle
  },
  // also once the timer has fired and its callback waits for the check phase
  clearTimeout: (handle) => {
    clearTimeout((handle as RealTimer | undefined)?.timeout)
    clearImmediate((handle as RealTimer | undefined)?.immediate)
  }
}

interface RealTimer { timeout?: ReturnType<typeof setTimeout>, immediate?: ReturnType<typeof setImmediate> }

// Node clamps longer delays to 1 ms; a timer this long just fires early and re-arms.
export const MAX_TIMER_MS = 2 ** 31 - 1
