/** Generation parameters as sent to the endpoint next to `text_inputs`. */
export type Params = Readonly<Record<string, string | number | boolean>>

/** Keys sorted so that `{a:1,b:2}` and `{b:2,a:1}` produce the same payload and the same partition. */
export function normaliseParams (params: Params): Params {
  const out: Record<string, string | number | boolean> = {}
  for (const key of Object.keys(params).sort()) out[key] = params[key]
  return out
}

/**
 * The partition of an (endpoint, params) pair: equal keys share a payload.
 * Values are compared exactly as they serialise (1 === 1.0, but 1 !== "1" and true !== "true");
 * we do not drop keys equal to a JumpStart default, because defaults differ between model
 * versions and a wrong guess would merge requests the endpoint treats differently.
 */
export function partitionKey (endpoint: string, params: Params): string {
  return JSON.stringify([endpoint, Object.entries(normaliseParams(params))])
}

/** The request body the endpoint receives: `{"text_inputs":[...],...params}`, params in sorted key order. */
export function encodePayload (inputs: readonly string[], params: Params): string {
  return assemblePayload(inputs.map((input) => JSON.stringify(input)), payloadTail(params))
}

/** What follows the inputs in a body: `]`, the sorted params, `}`. */
export function payloadTail (params: Params): string {
  const encoded = JSON.stringify(normaliseParams(params))
  return encoded === '{}' ? ']}' : '],' + encoded.slice(1)
}

/**
 * The body from inputs already encoded one by one (`JSON.stringify(input)`) and the params'
 * `payloadTail`, so the batcher, which sized each input when it arrived, never encodes one twice.
 */
export function assemblePayload (encodedInputs: readonly string[], tail: string): string {
  return '{"text_inputs":[' + encodedInputs.join(',') + tail
}

/** UTF-8 bytes of `encodePayload([], params)`: what a payload costs before any input. */
export function payloadOverheadBytes (params: Params): number {
  return Buffer.byteLength(encodePayload([], params), 'utf8')
}

/**
 * UTF-8 bytes of a payload holding `count` inputs whose encodings (`JSON.stringify(input)`)
 * sum to `sumInputBytes` bytes:
 * the overhead, the inputs, and a comma between each pair. Equals
 * `Buffer.byteLength(encodePayload(inputs, params))` exactly.
 */
export function payloadBytes (overheadBytes: number, count: number, sumInputBytes: number): number {
  return overheadBytes + sumInputBytes + Math.max(0, count - 1)
}
