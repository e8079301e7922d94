/**
 * Token streaming from an endpoint whose contract streams: InvokeEndpointWithResponseStream
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html),
 * its `PayloadPart` events (parts of the container's own stream, cut at arbitrary bytes) fed to
 * the contract's stream parser, which yields tokens and, last, the whole generated text.
 *
 * Failures: a refusal before the stream starts (ModelError with the container's status,
 * throttling, network) is an InvokeError, classified as for InvokeEndpoint, so the caller may
 * retry it; once a token has been yielded, a failure is a StreamFailure (the container's error
 * event, or the stream's `ModelStreamError` / `InternalStreamFailure`), never a silent end.
 */
import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime'
import type { Params } from '../batching/payload.js'
import type { RuntimeClient } from './clients.js'
import { classifyContractError } from './contracts/classify.js'
import { StreamFailure, type ContainerContract, type StreamEvent } from './contracts/types.js'
import { redactAws } from '../util/redact-aws.js'

/** One streamed generation. */
export interface StreamRequest {
  endpoint: string
  /** The endpoint's contract; it must stream (`streams`). */
  contract: ContainerContract
  input: string
  /** The contract's own parameters (translateParameters). */
  params: Params
  /** Aborting it closes the stream (the caller left). */
  signal: AbortSignal
}

/** Yields the generation's tokens, then one `done` event with the whole text. */
export type StreamInvokeFn = (req: StreamRequest) => AsyncGenerator<StreamEvent, void, undefined>

/** The stream invoker over the runtime client (abort signals travel through its handler, see AbortableHttpHandler). */
export function createStreamInvoker ({ client, handler }: RuntimeClient): StreamInvokeFn {
  return async function * invokeStream (req: StreamRequest): AsyncGenerator<StreamEvent, void, undefined> {
    const { contract } = req
    if (!contract.streams || contract.streamParser === undefined) throw new RangeError(`the ${contract.name} contract does not stream`)
    const body = Buffer.from(contract.buildPayload([req.input], req.params, { stream: true }), 'utf8')
    handler.bind(body, req.signal)
    let out
    try {
      out = await client.send(new InvokeEndpointWithResponseStreamCommand({
        EndpointName: req.endpoint,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: body
      }))
    } catch (err) {
      throw classifyContractError(contract, err, req.signal.aborted)
    }
    const parser = contract.streamParser()
    if (out.Body === undefined) throw new StreamFailure('the endpoint answered without a stream', 'incomplete')
    try {
      for await (const event of out.Body) {
        if (event.PayloadPart?.Bytes !== undefined) {
          yield * parser.feed(event.PayloadPart.Bytes)
        } else if (event.ModelStreamError !== undefined) {
          throw new StreamFailure(redactAws(`the model's stream broke: ${event.ModelStreamError.message ?? ''}`.trim()), 'ModelStreamError')
        } else if (event.InternalStreamFailure !== undefined) {
          throw new StreamFailure(redactAws(`SageMaker's stream failed: ${event.InternalStreamFailure.message ?? ''}`.trim()), 'InternalStreamFailure')
        }
      }
    } catch (err) {
      if (err instanceof StreamFailure) throw err
      // the SDK throws the stream's modelled exceptions (and a dropped connection) out of the iterator
      const e = err as { name?: string, message?: string }
      if (req.signal.aborted) throw new StreamFailure('the stream was closed: no caller is waiting for it', 'aborted')
      throw new StreamFailure(redactAws(`${e.name ?? 'Error'}: ${e.message ?? 'the stream failed'}`), e.name ?? 'error')
    }
    yield * parser.end()
  }
}
