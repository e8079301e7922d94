import { Type, type Static } from 'typebox'
import { GenerationParameterProperties, GenerationParameters, Truncate } from './params.js'

/** Prepended to `text` by /v1/summarize when the caller sends no `prompt`. */
export const DEFAULT_PROMPT = 'Briefly summarize this text: '

/** `stream`: the streaming variant of the real-time routes (src/http/generation-events.ts). */
const Stream = Type.Boolean({ description: 'true: server-sent events (README, Streaming): `token` events {"index", "text"} as the model writes them (endpoints whose contract streams: tgi, lmi rolling batch; none from jumpstart-list or lmi dynamic batch), then `done` with exactly the body stream: false would have had, or, when a single input failed after its first token, `error` with the error body. Errors before the first event are ordinary error responses.' })

const Model = Type.String({ minLength: 1, maxLength: 63, description: 'Endpoint to use; defaults to the first configured one.', examples: ['flan-t5-local'] })

export const SummarizeBody = Type.Object({
  text: Type.String({ minLength: 1, description: 'The text to summarise.', examples: ['The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring.'] }),
  model: Type.Optional(Model),
  prompt: Type.Optional(Type.String({ description: `Prepended to text. Default ${JSON.stringify(DEFAULT_PROMPT)}; send "" for none.` })),
  parameters: Type.Optional(GenerationParameters),
  truncate: Type.Optional(Truncate),
  stream: Type.Optional(Stream)
}, { additionalProperties: false, title: 'SummarizeRequest', examples: [{ text: 'The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring.', parameters: { max_length: 50 } }] })
export type SummarizeBody = Static<typeof SummarizeBody>

export const SummarizeResponse = Type.Object({
  summary: Type.String({ description: 'generated_texts[0]' }),
  generated_texts: Type.Array(Type.String(), { description: 'Every returned sequence (num_return_sequences of them), best first.' }),
  model: Type.String({ description: 'The endpoint that answered.' })
}, { title: 'SummarizeResponse', examples: [{ summary: 'The city council voted on Tuesday to extend the tram line to the airport.', generated_texts: ['The city council voted on Tuesday to extend the tram line to the airport.'], model: 'flan-t5-local' }] })
export type SummarizeResponse = Static<typeof SummarizeResponse>

export const GenerateBody = Type.Object({
  text_inputs: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })
  ], { description: 'One input, or a list answered in input order.' }),
  model: Type.Optional(Model),
  ...GenerationParameterProperties,
  truncate: Type.Optional(Truncate),
  stream: Type.Optional(Stream)
}, {
  additionalProperties: false,
  title: 'GenerateRequest',
  description: 'The JumpStart text2text body: text_inputs and the generation parameters side by side. Unknown keys are rejected.',
  examples: [
    { text_inputs: ['Summarize: The tram line will reach the airport in 2027.', 'Translate to German: Good morning.'], max_length: 50 },
    { text_inputs: 'Summarize: The tram line will reach the airport in 2027.', max_length: 50, num_return_sequences: 2, num_beams: 2 }
  ]
})
export type GenerateBody = Static<typeof GenerateBody>

export const GenerateItemError = Type.Object({
  index: Type.Integer({ description: 'Position of the failed item in text_inputs.' }),
  code: Type.String({ description: 'The catalog code it would have had alone (MODEL_ERROR, DEADLINE_EXCEEDED, ...).' }),
  message: Type.String()
}, { title: 'GenerateItemError', description: 'Why one item of a list has no output.' })

export const GenerateResponse = Type.Object({
  generated_texts: Type.Union([
    Type.Array(Type.String()),
    Type.Array(Type.Union([Type.Array(Type.String()), Type.Null()]))
  ], { description: 'For a string input: its sequences. For a list: one entry per input, null where the model failed on it.' }),
  errors: Type.Optional(Type.Array(GenerateItemError, { description: 'Present when some items of a list failed; in input order.' }))
}, { title: 'GenerateResponse', examples: [{ generated_texts: [['The tram line will reach the airport in 2027.'], null], errors: [{ index: 1, code: 'MODEL_ERROR', message: 'the model failed on this input' }] }] })
export type GenerateResponse = Static<typeof GenerateResponse>
