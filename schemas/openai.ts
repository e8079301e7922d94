import { Type, type Static } from 'typebox'

/**
 * OpenAI's request bodies of POST /v1/completions and POST /v1/chat/completions, the subset the
 * JumpStart text2text models can honour. Unknown keys are rejected (a parameter the model
 * cannot apply is never dropped in silence). https://platform.openai.com/docs/api-reference/completions
 * and https://platform.openai.com/docs/api-reference/chat/create
 */
const Stop = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 4 })], { description: 'Up to 4 sequences; the text is cut before the first one found.' })

const Common = {
  model: Type.String({ minLength: 1, description: 'An endpoint name (GET /v1/models).' }),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Sent as max_length.' })),
  n: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Sent as num_return_sequences.' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: '0 decodes greedily; above 0 samples (do_sample) at this temperature.' })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Nucleus sampling (do_sample).' })),
  seed: Type.Optional(Type.Integer({ description: 'Sent as seed.' })),
  stop: Type.Optional(Stop),
  stream: Type.Optional(Type.Boolean()),
  user: Type.Optional(Type.String())
}

export const CompletionBody = Type.Object({
  ...Common,
  prompt: Type.String({ minLength: 1 })
}, { additionalProperties: false, title: 'CompletionBody' })
export type CompletionBody = Static<typeof CompletionBody>

export const ChatMessage = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant']),
  content: Type.String(),
  name: Type.Optional(Type.String())
}, { additionalProperties: false })

export const ChatCompletionBody = Type.Object({
  ...Common,
  max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Sent as max_length (wins over max_tokens).' })),
  messages: Type.Array(ChatMessage, { minItems: 1 })
}, { additionalProperties: false, title: 'ChatCompletionBody' })
export type ChatCompletionBody = Static<typeof ChatCompletionBody>
