/** Retry policy for `retryable` invocation failures. */
export interface RetryOptions {
  /** Invocations per payload including the first; 1 disables retries. */
  maxAttempts: number
  /** ms; the ceiling of the first backoff, doubled per further attempt. */
  baseMs: number
  /** ms; no backoff ceiling exceeds this. */
  capMs: number
}

// ms; the least Retry-After we ever suggest, so clients do not hammer a saturated gateway
export const RETRY_AFTER_FLOOR_MS = 1000
// ms; SageMaker bounds an invocation at 60 s, so a longer estimate is noise
export const RETRY_AFTER_CAP_MS = 60_000

/** The ceiling of the backoff after `failedAttempt` (1-based) failed: `min(capMs, baseMs * 2^(failedAttempt-1))`. */
export function backoffCeilingMs (retry: RetryOptions, failedAttempt: number): number {
  return Math.min(retry.capMs, retry.baseMs * 2 ** (failedAttempt - 1))
}

/**
 * ms to sleep before retrying after attempt `failedAttempt` (1-based) failed: "full jitter"
 * (uniform in [0, ceiling)), which spreads synchronized retries of many batches, raised to the
 * endpoint's own `retryAfterMs` when it gave one.
 */
export function backoffMs (retry: RetryOptions, failedAttempt: number, random: () => number, retryAfterMs?: number): number {
  const jittered = random() * backoffCeilingMs(retry, failedAttempt)
  return Math.max(jittered, retryAfterMs ?? 0)
}

/**
 * Retry-After for a client turned away with QUEUE_FULL: the batches ahead of it, processed
 * `maxConcurrent` at a time, each taking about the recent invocation latency; at least
 * RETRY_AFTER_FLOOR_MS, at most RETRY_AFTER_CAP_MS, whole ms.
 */
export function estimateRetryAfterMs (latencyMs: number, queuedBatches: number, maxConcurrent: number): number {
  const waves = Math.ceil(queuedBatches / maxConcurrent)
  const estimate = Math.ceil(latencyMs * waves)
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(RETRY_AFTER_FLOOR_MS, estimate))
}
