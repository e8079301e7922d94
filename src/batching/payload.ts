/** Generation parameters as sent to the endpoint next to `text_inputs`. */
export type Params = Readonly<Record<string, string | number | boolean>>

/** Keys sorted so that `{a:1,b:2}` and `{b:2,a:1}` produce the same payload and the same partition. */
export function normaliseParams (params: Params): Params {
  const out: Record<string, string | number | boolean> = {}
  for (const key of Object.keys(params).sort()) out[key] = params[key]
  return out
}

/**
 * The partition of a (model, params) pair: equal keys share a payload.
 * Values are compared exactly as they serialise (1 === 1.0, but 1 !== "1" and true !== "true");
 * we do not drop keys equal to a JumpStart default, because defaults differ between model
 * versions and a wrong guess would merge requests the endpoint treats differently.
 */
export function partitionKey (model: string, params: Params): string {
  return JSON.stringify([model, Object.entries(normaliseParams(params))])
}

/** The request body the endpoint receives: `{"text_inputs":[...],...params}`, params in sorted key order. */
export function encodePayload (inputs: readonly string[], params: Params): string {
  return JSON.stringify({ text_inputs: inputs, ...normaliseParams(params) })
}

/** UTF-8 bytes of `encodePayload([], params)`: what a payload costs before any input. */
export function payloadOverheadBytes (params: Params): number {
  return Buffer.byteLength(encodePayload([], params), 'utf8')
}

/** UTF-8 bytes one input adds to a payload, without the separating comma. */
export function inputBytes (input: string): number {
  return Buffer.byteLength(JSON.stringify(input), 'utf8')
}

/**
 * UTF-8 bytes of a payload holding `count` inputs whose `inputBytes` sum to `sumInputBytes`:
 * the overhead, the inputs, and a comma between each pair. Equals
 * `Buffer.byteLength(encodePayload(inputs, params))` exactly.
 */
export function payloadBytes (overheadBytes: number, count: number, sumInputBytes: number): number {
  return overheadBytes + sumInputBytes + Math.max(0, count - 1)
}
