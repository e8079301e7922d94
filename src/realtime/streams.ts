/**
 * Token streams for one caller each: the real-time service's streaming path for contracts that
 * stream (TGI). Not micro-batched (the container batches continuously; one stream is one
 * invocation), but held to the same rules as the batcher's items: the caller's deadline, its
 * cancellation (a client that leaves closes the endpoint's stream), retries with the batcher's
 * backoff for a refusal that may pass (TGI's 429 overloaded, throttling) as long as nothing has
 * been sent to the caller yet, and the batcher's error codes, so the catalog mapping is the one
 * in errors.ts.
 *
 * After the first token the caller already holds part of the answer: a failure then is reported
 * as a `failed` event, never retried (a retry would repeat or change tokens already sent) and
 * never a silent end.
 */
import { backoffMs, RETRY_AFTER_FLOOR_MS, type RetryOptions } from '../batching/backoff.js'
import { realClock, type Clock } from '../batching/clock.js'
import { BatcherError, InvokeError } from '../batching/errors.js'
import type { Params } from '../batching/payload.js'
import type { CancelSignal } from '../batching/batcher.js'
import { StreamFailure, type ContainerContract } from '../sagemaker/contracts/types.js'
import type { StreamInvokeFn } from '../sagemaker/stream-invoker.js'

/** What a stream yields: tokens, then the whole text, or a failure once tokens were sent. */
export type StreamOutput =
  | { type: 'token', text: string }
  | { type: 'done', text: string }
  | { type: 'failed', error: BatcherError }

/** One caller's streamed generation. */
export interface StreamRun {
  endpoint: string
  contract: ContainerContract
  input: string
  /** The contract's parameters (translateParameters). */
  params: Params
  /** Epoch ms. */
  deadline: number
  signal: CancelSignal
}

export interface StreamsOptions {
  invoke: StreamInvokeFn
  retry: RetryOptions
  clock?: Clock
  random?: () => number
}

/** Streams tokens to one caller; before the first token, failures reject with a BatcherError (as `submit` does). */
export type RunStream = (run: StreamRun) => AsyncGenerator<StreamOutput, void, undefined>

/** A failure of the stream, in the batcher's words. */
function asBatcherError (err: unknown, why: 'deadline' | 'cancelled' | undefined): BatcherError {
  if (err instanceof BatcherError) return err
  if (why === 'deadline') return new BatcherError('DEADLINE_EXCEEDED', 'the deadline passed before the stream ended', { cause: err })
  if (why === 'cancelled') return new BatcherError('CANCELLED', 'cancelled by the caller', { cause: err })
  if (err instanceof InvokeError) {
    if (err.kind === 'model') return new BatcherError('MODEL_ERROR', err.message, { cause: err })
    return new BatcherError('ENDPOINT_UNAVAILABLE', err.message, { cause: err, retryAfterMs: err.retryAfterMs ?? RETRY_AFTER_FLOOR_MS })
  }
  if (err instanceof StreamFailure) {
    // TGI's error types: validation and generation are this input's; overloaded and the stream's own breaks are the endpoint's
    if (err.errorType === 'validation' || err.errorType === 'generation' || err.errorType === 'malformed') return new BatcherError('MODEL_ERROR', err.message, { cause: err })
    return new BatcherError('ENDPOINT_UNAVAILABLE', err.message, { cause: err, retryAfterMs: RETRY_AFTER_FLOOR_MS })
  }
  return new BatcherError('ENDPOINT_UNAVAILABLE', err instanceof Error ? err.message : 'the stream failed', { cause: err, retryAfterMs: RETRY_AFTER_FLOOR_MS })
}

/** The streaming path's runner. */
export function createStreams ({ invoke, retry, clock = realClock, random = Math.random }: StreamsOptions): RunStream {
  return async function * runStream (run: StreamRun): AsyncGenerator<StreamOutput, void, undefined> {
    if (run.signal.aborted) throw new BatcherError('CANCELLED', 'cancelled before it was sent')
    if (!(run.deadline > clock.now())) throw new BatcherError('DEADLINE_EXCEEDED', 'deadline passed before it was sent')
    const controller = new AbortController()
    let why: 'deadline' | 'cancelled' | undefined
    const onCancel = (): void => { why ??= 'cancelled'; controller.abort() }
    run.signal.addEventListener('abort', onCancel, { once: true })
    const timer = clock.setTimeout(() => { why ??= 'deadline'; controller.abort() }, run.deadline - clock.now())
    let sent = false
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          for await (const event of invoke({ endpoint: run.endpoint, contract: run.contract, input: run.input, params: run.params, signal: controller.signal })) {
            sent = true
            yield event
          }
          return
        } catch (err) {
          const error = asBatcherError(err, why)
          if (sent) {
            yield { type: 'failed', error }
            return
          }
          const retryable = err instanceof InvokeError ? err.kind === 'retryable' : err instanceof StreamFailure && err.errorType === 'overloaded'
          if (why !== undefined || !retryable || attempt >= retry.maxAttempts) throw error
          const sleep = backoffMs(retry, attempt, random, err instanceof InvokeError ? err.retryAfterMs : undefined)
          if (clock.now() + sleep >= run.deadline) throw new BatcherError('DEADLINE_EXCEEDED', `the endpoint refused (${error.message}) and no retry fits before the deadline`, { cause: err })
          await new Promise<void>((resolve) => {
            const wake = clock.setTimeout(() => { controller.signal.removeEventListener('abort', stop); resolve() }, sleep)
            const stop = (): void => { clock.clearTimeout(wake); resolve() }
            controller.signal.addEventListener('abort', stop, { once: true })
          })
          if (why !== undefined) throw asBatcherError(err, why)
        }
      }
    } finally {
      clock.clearTimeout(timer)
      run.signal.removeEventListener('abort', onCancel)
      // a caller that stops reading (return()) closes the endpoint's stream too
      controller.abort()
    }
  }
}
