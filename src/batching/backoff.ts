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

/** What `retryPlan` weighs for one retryable failure of a payload. */
export interface RetryPlanInput {
  /** Epoch ms. */
  now: number
  /** ms the backoff policy asks for (`backoffMs`). */
  backoffMs: number
  /** ms the endpoint asked us to wait (Retry-After), 0 if none: the sleep is never shorter. */
  floorMs: number
  /** ms the next attempt is expected to take (the learnt latency), 0 if unknown. */
  attemptMs: number
  /** Epoch ms, per item still waiting. */
  deadlines: readonly number[]
}

/**
 * Retries are bounded by deadlines, not by a count: an item stays while one more attempt, after
 * the shortest wait allowed, can still answer it before its deadline (`keep`), and the sleep
 * (whole ms, so the batcher's timer and this check agree) is the backoff, cut short so that
 * the kept item with the earliest deadline still gets that attempt in.
 */
export function retryPlan (input: RetryPlanInput): { sleepMs: number, keep: boolean[] } {
  // at least 1 ms: a retry never spins at one instant
  const floorMs = Math.max(1, Math.ceil(input.floorMs))
  const keep = input.deadlines.map((deadline) => input.now + floorMs + input.attemptMs < deadline)
  let earliest = Number.POSITIVE_INFINITY
  input.deadlines.forEach((deadline, i) => { if (keep[i] && deadline < earliest) earliest = deadline })
  const room = Math.floor(earliest - input.now - input.attemptMs) - 1
  return { sleepMs: Math.max(floorMs, Math.min(Math.ceil(input.backoffMs), room)), keep }
}
