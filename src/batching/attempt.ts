import { InvokeError } from './errors.js'

/** How one send of a payload ended, as the retry, bisection and deadline policies see it. */
export type AttemptResult =
  | { outcome: 'ok', value: string[][] }
  | { outcome: 'aborted' }
  | { outcome: 'model_error' | 'fatal', message: string, cause: unknown }
  | { outcome: 'retryable', message: string, cause: unknown, retryAfterMs?: number }

/** Classifies what an `InvokeFn` threw; anything but an `InvokeError` is fatal, anything after our own abort is `aborted`. */
export function classify (err: unknown, aborted: boolean): AttemptResult {
  if (aborted) return { outcome: 'aborted' }
  if (err instanceof InvokeError) {
    switch (err.kind) {
      case 'retryable': return { outcome: 'retryable', message: err.message, cause: err, retryAfterMs: err.retryAfterMs }
      case 'model': return { outcome: 'model_error', message: err.message, cause: err }
      case 'fatal': return { outcome: 'fatal', message: err.message, cause: err }
    }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { outcome: 'fatal', message, cause: err }
}
