/**
 * What a container contract is: how the gateway talks to one kind of inference container
 * behind a SageMaker endpoint (the request body it builds, the answer it reads, the stream it
 * reassembles, what the container's error statuses mean, and how many inputs one call carries).
 * One module per contract implements it; `detect.ts` says which one an endpoint's model speaks.
 */
import type { Params } from '../../batching/payload.js'
import type { InvokeErrorKind } from '../../batching/errors.js'
import type { CatalogError } from '../../errors.js'

/** The contracts the gateway knows. */
export type ContractName = 'jumpstart-list' | 'tgi' | 'lmi'

/** What a stream parser yields: a generated token, or the whole generated text at the end. */
export type StreamEvent =
  | { type: 'token', text: string }
  | { type: 'done', text: string }

/**
 * What a streamed generation gives its caller: the stream's events, or, once tokens have gone
 * out, the failure that ended it (the caller already holds part of the answer, so it cannot be an
 * ordinary error response).
 */
export type GenerationEvent = StreamEvent | { type: 'failed', error: CatalogError }

/** Incremental reader of a container's streamed answer, fed arbitrary byte chunks. */
export interface StreamParser {
  /** Reads one chunk (cut anywhere, even inside a UTF-8 character); throws StreamFailure on an error event. */
  feed: (chunk: Uint8Array) => StreamEvent[]
  /** The stream has ended: throws StreamFailure unless the final text was seen and nothing is left over. */
  end: () => StreamEvent[]
}

/** The container reported an error inside its stream, or the stream ended before the final text. */
export class StreamFailure extends Error {
  override readonly name = 'StreamFailure'
  /** The container's own error kind (TGI's `error_type`, e.g. `validation`, `overloaded`), or `incomplete`/`malformed`. */
  readonly errorType: string
  constructor (message: string, errorType: string) {
    super(message)
    this.errorType = errorType
  }
}

/** How a container's non-2xx answer (SageMaker's ModelError) steers a caller. */
export interface ContainerFailure {
  /** `retryable`: the same request may succeed later; `model`: this input failed; `fatal`: neither. */
  kind: InvokeErrorKind
  /** The container's words, without SageMaker's wrapping; undefined when the body says nothing. */
  message: string | undefined
  /** True when the request itself is at fault (4xx validation): sending it again cannot help. */
  callerFault: boolean
}

/** Options of one payload. */
export interface PayloadOptions {
  /** Ask the container to stream its answer (only where `streams` is true). */
  stream?: boolean
}

/** A container contract. */
export interface ContainerContract {
  readonly name: ContractName
  /** True when one invocation may carry a list of inputs. */
  readonly takesList: boolean
  /** Most inputs one invocation may carry; undefined when only the gateway's own payload limits apply. */
  readonly maxInputsPerCall: number | undefined
  /** Invocations one container serves at once before refusing (TGI's MAX_CONCURRENT_REQUESTS); undefined when unbounded. */
  readonly maxConcurrentPerInstance: number | undefined
  /** True when the container can stream tokens (InvokeEndpointWithResponseStream). */
  readonly streams: boolean
  /** The request body for `inputs` (in order) and the contract's own parameters; throws RangeError when it cannot carry them. */
  buildPayload: (inputs: readonly string[], params: Params, options?: PayloadOptions) => string
  /** Reads a JSON answer for `count` inputs into, per input, its generated sequences; throws ResponseShapeError. */
  parseResponse: (body: unknown, count: number, sequencesPerInput?: number) => string[][]
  /** A fresh incremental stream parser; undefined when the contract does not stream. */
  streamParser: (() => StreamParser) | undefined
  /** What the container's error status and body mean for the caller. */
  mapContainerError: (status: number | undefined, body: string | undefined) => ContainerFailure
}
