import FakeTimers, { type TimerId } from '@sinonjs/fake-timers'
import { MicroBatcher, type BatcherOptions, type FlushEvent, type InvokeRequest, type SubmitOptions } from '../../src/batching/batcher.js'
import type { BatcherError } from '../../src/batching/errors.js'

// The batcher tests' harness: a MicroBatcher on a fake clock whose invocations the test
// answers (or that answer themselves after a fake latency).

// epoch ms the fake clock starts at; times in assertions are relative to it
export const T0 = 1_700_000_000_000

export interface Call {
  req: InvokeRequest
  // ms since T0 when invoke was called
  at: number
  resolve: (value: string[][]) => void
  reject: (error: unknown) => void
}

export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected'
  value?: T
  error?: BatcherError
  // ms since T0 when it settled
  at?: number
}

/**
 * A batcher on a fake clock. Without `answer`, invoke calls wait until the test answers them;
 * with it, each call is answered (or failed, if it throws) `latencyMs` later.
 */
export function setup (options: Partial<BatcherOptions> = {}, answer?: (req: InvokeRequest) => string[][], latencyMs = 0) {
  const clock = FakeTimers.createClock(T0)
  const calls: Call[] = []
  const events: FlushEvent[] = []
  const batcher = new MicroBatcher({
    invoke: async (req) => await new Promise<string[][]>((resolve, reject) => {
      calls.push({ req, at: clock.now - T0, resolve, reject })
      if (answer !== undefined) {
        clock.setTimeout(() => {
          try { resolve(answer(req)) } catch (err) { reject(err) }
        }, latencyMs)
      }
    }),
    clock: { now: () => clock.now, setTimeout: (cb, ms) => clock.setTimeout(cb, ms), clearTimeout: (h) => { clock.clearTimeout(h as TimerId) } },
    onFlush: (event) => { events.push(event) },
    batchIdPrefix: 'b',
    random: () => 0.5,
    ...options
  })
  const track = <T>(promise: Promise<T>): Tracked<T> => {
    const tracked: Tracked<T> = { state: 'pending' }
    promise.then(
      (value) => { Object.assign(tracked, { state: 'fulfilled', value, at: clock.now - T0 }) },
      (error: BatcherError) => { Object.assign(tracked, { state: 'rejected', error, at: clock.now - T0 }) }
    )
    return tracked
  }
  const submit = (input: string, extra: Partial<SubmitOptions> = {}): Tracked<string[]> =>
    track(batcher.submit({ model: 'm', params: {}, input, deadline: clock.now + 60_000, ...extra }))
  // runs microtasks, then timers due within ms
  const tick = async (ms = 0): Promise<void> => { await clock.tickAsync(ms) }
  return { clock, calls, events, batcher, submit, track, tick }
}

/** Answer a call with one sequence per input: the input upper-cased. */
export function echo (call: Call): void {
  call.resolve(call.req.inputs.map((input) => [input.toUpperCase()]))
}
