// InvokeEndpointWithResponseStream's wire format for the local runtime. AWS API reference,
// InvokeEndpointWithResponseStream and ResponseStream: the body is an
// `application/vnd.amazon.eventstream` stream of `PayloadPart` events (`Bytes`: a part of the
// container's response), ended early by a `ModelStreamError` or `InternalStreamFailure`
// exception. Each message is framed by @smithy/core's EventStreamCodec (prelude, headers, CRCs),
// the codec the SDK's own deserialiser decodes with; headers as the SDK reads them
// (`getMessageUnmarshaller`): `:message-type` event|exception, `:event-type` /
// `:exception-type`, `:content-type`.

import { EventStreamCodec } from '@smithy/core/event-streams'
import { mulberry32 } from '../util/prng.js'

/** Media type of an event-stream body. */
export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream'

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => Buffer.from(text, 'utf8')
)

const header = (value: string): { type: 'string', value: string } => ({ type: 'string', value })

/** One `PayloadPart` event carrying `bytes`. */
export function payloadPart (bytes: Uint8Array): Uint8Array {
  return codec.encode({
    headers: { ':event-type': header('PayloadPart'), ':message-type': header('event'), ':content-type': header('application/octet-stream') },
    body: bytes
  })
}

/** The stream's error events (ResponseStream's members besides PayloadPart). */
export type StreamErrorType = 'ModelStreamError' | 'InternalStreamFailure'

/** A `ModelStreamError` (with its ErrorCode, e.g. `StreamBroken`) or `InternalStreamFailure` exception message. */
export function streamError (type: StreamErrorType, message: string, errorCode?: string): Uint8Array {
  const body = type === 'ModelStreamError' ? { Message: message, ErrorCode: errorCode ?? 'StreamBroken' } : { Message: message }
  return codec.encode({
    headers: { ':exception-type': header(type), ':message-type': header('exception'), ':content-type': header('application/json') },
    body: Buffer.from(JSON.stringify(body))
  })
}

/** Longest PayloadPart the splitter makes (bytes); small so that events are cut often. */
const MAX_PART_BYTES = 24

/**
 * Re-cuts a container's body into parts at arbitrary byte offsets (inside an SSE event, inside a
 * UTF-8 character), and sometimes holds a piece back to send with the next chunk, so a part may
 * also span two events: clients must reassemble, as they must against AWS, which does not
 * promise parts aligned to anything. Every byte is sent, in order; deterministic per `seed`.
 */
export async function * splitParts (chunks: AsyncIterable<Buffer>, seed: number): AsyncGenerator<Buffer> {
  const random = mulberry32(seed)
  let held = Buffer.alloc(0)
  for await (const chunk of chunks) {
    let rest = Buffer.concat([held, chunk])
    held = Buffer.alloc(0)
    while (rest.length > 0) {
      const size = 1 + Math.floor(random() * MAX_PART_BYTES)
      if (size >= rest.length) {
        // the tail of this chunk: send it now, or (half the time) with the next chunk's start
        if (random() < 0.5) held = rest
        else yield rest
        break
      }
      yield rest.subarray(0, size)
      rest = rest.subarray(size)
    }
  }
  if (held.length > 0) yield held
}
