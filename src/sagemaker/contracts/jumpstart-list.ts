/**
 * `jumpstart-list`: JumpStart's original text2text container (FLAN-T5 1.x: the Hugging Face
 * PyTorch inference image running JumpStart's `inference.py`). Request
 * `{"text_inputs": [...], ...params}`, answer one list of generated texts per input (every
 * shape in response-shapes.ts); errors are the toolkit's JSON `{"code","type","message"}`. It
 * takes a list, so the batcher coalesces callers into one payload; it does not stream.
 */
import { encodePayload } from '../../batching/payload.js'
import { parseListResponse } from '../response-shapes.js'
import { jsonMember } from './classify.js'
import type { ContainerContract } from './types.js'

export const jumpstartList: ContainerContract = {
  name: 'jumpstart-list',
  takesList: true,
  // the payload's bytes (6 MB) and the batcher's own size bound are the only limits
  maxInputsPerCall: undefined,
  maxConcurrentPerInstance: undefined,
  streams: false,
  buildPayload: (inputs, params) => encodePayload(inputs, params),
  parseResponse: (body, count, sequencesPerInput = 1) => parseListResponse(body, count, sequencesPerInput),
  streamParser: undefined,
  // Any container refusal names something in the payload: bisecting the list finds the input.
  mapContainerError: (status, body) => ({
    kind: 'model',
    message: jsonMember(body, 'message') ?? body?.trim(),
    callerFault: status !== undefined && status >= 400 && status < 500
  })
}
