/**
 * The streaming variant of /v1/summarize and /v1/generate (`"stream": true`): server-sent
 * events in the gateway's own shape, documented in the README ("Streaming"):
 *   event: token  data: {"index", "text"}   a token of input `index` (0 for /v1/summarize), as the model writes it
 *   event: done   data: <the route's JSON answer>   last, exactly the body `stream: false` would have had
 *   event: error  data: <the gateway's error body>  instead of done, when a single input failed after its first token
 * A failure before any token is an ordinary error response. In a list, an input that fails
 * (before or after its first token) is null in done's `generated_texts` with an entry in
 * `errors`, as without streaming. An endpoint whose contract does not stream sends no token
 * events, only done.
 */
import { gatewayErrorBody } from '../../schemas/errors.js'
import { catalogError, type CatalogError } from '../errors.js'
import type { GenerationEvent } from '../sagemaker/contracts/types.js'
import { interleave, prime, type PrimedSource } from '../util/interleave.js'
import { namedEvent } from './event-stream.js'

/** How one input's stream ended. */
export type StreamResult = { ok: true, text: string } | { ok: false, error: CatalogError }

/** A failed first event as a source that yields that failure and ends. */
function failedSource (error: CatalogError): PrimedSource<GenerationEvent> {
  return {
    first: { done: false, value: { type: 'failed', error } },
    rest: (async function * (): AsyncGenerator<GenerationEvent, void, undefined> {})()
  }
}

/**
 * Starts every input's stream and awaits its first event. Per input: its source, or the error
 * it failed with before any token (the catalog error Realtime.stream rejects with).
 */
export async function startStreams (streams: ReadonlyArray<AsyncGenerator<GenerationEvent, void, undefined>>): Promise<Array<PrimedSource<GenerationEvent> | CatalogError>> {
  return (await prime(streams)).map((s) => 'failed' in s ? s.failed as CatalogError : s)
}

/**
 * The events of inputs already started (startStreams): tokens as they come, then `done` with
 * `answer(results)`; with `single`, a failure after the first token ends with `error` instead.
 */
export async function * generationEvents (started: ReadonlyArray<PrimedSource<GenerationEvent> | CatalogError>, opts: { single: boolean, answer: (results: StreamResult[]) => unknown }): AsyncGenerator<string, void, undefined> {
  const results: Array<StreamResult | undefined> = started.map(() => undefined)
  const sources = started.map((s) => 'first' in s ? s : failedSource(s))
  for await (const { index, value } of interleave(sources).values) {
    if (value.type === 'token') {
      yield namedEvent('token', { index, text: value.text })
    } else if (value.type === 'done') {
      results[index] = { ok: true, text: value.text }
    } else {
      if (opts.single) {
        yield namedEvent('error', gatewayErrorBody(value.error))
        return
      }
      results[index] = { ok: false, error: value.error }
    }
  }
  yield namedEvent('done', opts.answer(results.map((r): StreamResult => r ?? { ok: false, error: catalogError('MODEL_ERROR', 'the stream ended without its final text') })))
}
