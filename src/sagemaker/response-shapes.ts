/**
 * JumpStart text2text containers answer list input in several shapes seen in the wild:
 *   [["a1", ...], ["b1", ...]]                           top-level list, each input's texts: the
 *       JumpStart FLAN-T5 container (the AWS notebook aws/amazon-sagemaker-examples,
 *       introduction_to_amazon_algorithms/jumpstart-foundation-models/
 *       text2text-generation-flan-t5-Batch-Transform.ipynb, json.loads the body of a 10-input
 *       call and prints `*generated_text_list` one entry per input); the local stack answers so
 *   {"generated_texts": ["a", "b"]}                      one sequence per input (flat)
 *   {"generated_texts": [["a1", "a2"], ["b1", "b2"]]}    several sequences per input
 *   {"generated_texts": [{"generated_text": "a"}, ...]}  objects (HF pipeline style)
 *   [{"generated_text": "a"}, ...] or [[{...}, ...], ...] top-level lists (HF/TGI style)
 * The gateway always sends a list (even of one), so only list answers are read.
 * This module maps them all to one list of sequences per input.
 */

/** Thrown when a body cannot be read as one answer per input. */
export class ResponseShapeError extends Error {
  override name = 'ResponseShapeError'
}

function textOf (value: unknown, where: string): string {
  if (typeof value === 'string') return value
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>
    if (typeof v.generated_text === 'string') return v.generated_text
    if (typeof v.summary_text === 'string') return v.summary_text
    if (typeof v.text === 'string') return v.text
  }
  throw new ResponseShapeError(`${where} is not a generated text`)
}

function sequencesOf (value: unknown, where: string): string[] {
  if (Array.isArray(value)) return value.map((v, i) => textOf(v, `${where}[${i}]`))
  return [textOf(value, where)]
}

/** Parses a response body for a list payload of `count` inputs into sequences per input. */
export function parseListResponse (body: unknown, count: number, sequencesPerInput = 1): string[][] {
  const list = extractList(body)
  if (list.length === count) return list.map((v, i) => sequencesOf(v, `generated_texts[${i}]`))
  // A flat list of count×k strings: k sequences per input, in input order.
  if (sequencesPerInput > 1 && list.length === count * sequencesPerInput && list.every(v => !Array.isArray(v))) {
    const out: string[][] = []
    for (let i = 0; i < count; i++) {
      out.push(list.slice(i * sequencesPerInput, (i + 1) * sequencesPerInput).map((v, j) => textOf(v, `generated_texts[${i * sequencesPerInput + j}]`)))
    }
    return out
  }
  throw new ResponseShapeError(`the endpoint returned ${list.length} results for ${count} inputs`)
}

function extractList (body: unknown): unknown[] {
  if (Array.isArray(body)) return body
  if (body !== null && typeof body === 'object') {
    const texts = (body as Record<string, unknown>).generated_texts ?? (body as Record<string, unknown>).generated_text
    if (Array.isArray(texts)) return texts
    if (typeof texts === 'string') return [texts]
  }
  throw new ResponseShapeError('the endpoint response has no generated_texts list')
}
