import { Type, type Static } from 'typebox'
import { GenerationParameterProperties, GenerationParameters } from './params.js'

/** Prepended to `text` by /v1/summarize when the caller sends no `prompt`. */
export const DEFAULT_PROMPT = 'Briefly summarize this text: '

const Model = Type.String({ minLength: 1, maxLength: 63, description: 'Endpoint to use; defaults to the first configured one.', examples: ['flan-t5-local'] })

export const SummarizeBody = Type.Object({
  text: Type.String({ minLength: 1, description: 'The text to summarise.', examples: ['The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring.'] }),
  model: Type.Optional(Model),
  prompt: Type.Optional(Type.String({ description: `Prepended to text. Default ${JSON.stringify(DEFAULT_PROMPT)}; send "" for none.` })),
  parameters: Type.Optional(GenerationParameters)
}, { additionalProperties: false, examples: [{ text: 'The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring.', parameters: { max_length: 50 } }] })
export type SummarizeBody = Static<typeof SummarizeBody>

export const SummarizeResponse = Type.Object({
  summary: Type.String({ description: 'generated_texts[0]' }),
  generated_texts: Type.Array(Type.String()),
  model: Type.String()
}, { examples: [{ summary: 'The city council voted on Tuesday to extend the tram line to the airport.', generated_texts: ['The city council voted on Tuesday to extend the tram line to the airport.'], model: 'flan-t5-local' }] })
export type SummarizeResponse = Static<typeof SummarizeResponse>

export const GenerateBody = Type.Object({
  text_inputs: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })
  ], { description: 'One input, or a list answered in input order.' }),
  model: Type.Optional(Model),
  ...GenerationParameterProperties
}, { additionalProperties: false, examples: [{ text_inputs: ['Summarize: The tram line will reach the airport in 2027.', 'Translate to German: Good morning.'], max_length: 50 }] })
export type GenerateBody = Static<typeof GenerateBody>

export const GenerateItemError = Type.Object({
  index: Type.Integer(),
  code: Type.String(),
  message: Type.String()
})

export const GenerateResponse = Type.Object({
  generated_texts: Type.Union([
    Type.Array(Type.String()),
    Type.Array(Type.Union([Type.Array(Type.String()), Type.Null()]))
  ], { description: 'For a string input: its sequences. For a list: one entry per input, null where the model failed on it.' }),
  errors: Type.Optional(Type.Array(GenerateItemError))
}, { examples: [{ generated_texts: [['The tram line will reach the airport in 2027.'], null], errors: [{ index: 1, code: 'MODEL_ERROR', message: 'the model failed on this input' }] }] })
export type GenerateResponse = Static<typeof GenerateResponse>
