/**
 * Request and response schemas of the OpenAI-compatible routes (POST /v1/completions,
 * POST /v1/chat/completions, GET /v1/models), after OpenAI's API reference
 * (https://platform.openai.com/docs/api-reference/completions/create,
 * https://platform.openai.com/docs/api-reference/chat/create). Strict: unknown keys are a 400.
 * OpenAI fields a FLAN-T5 endpoint cannot honour are declared (so the message can say so) and
 * refused by src/openai/requests.ts unless they hold their no-op value (UNSUPPORTED_FIELDS).
 */
import { Type, type Static, type TSchema } from 'typebox'
import { GenerationParameterProperties } from './params.js'

const Model = Type.String({ minLength: 1, maxLength: 63, description: 'The endpoint to use (an endpoint name, as listed by GET /v1/models).', examples: ['flan-t5-local'] })
const MaxLength = GenerationParameterProperties.max_length
const Maximum = (MaxLength as unknown as { maximum: number }).maximum

/** OpenAI's generation fields the gateway maps to JumpStart parameters (src/openai/requests.ts). */
const SharedFields = {
  model: Model,
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: Maximum }), Type.Null()], { description: `Sent as max_length (1..${Maximum}; tokens, words in local mode). Absent or null: the model's default.` })),
  n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10 }), Type.Null()], { description: 'Sent as num_return_sequences (1..10). Without sampling, n > 1 also sends num_beams = n (beam search returns the n best beams).' })),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()], { description: '> 0 turns sampling on (do_sample: true, temperature); 0, null or absent: deterministic decoding.' })),
  top_p: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Null()], { description: 'Sent as top_p when sampling (temperature > 0). Without sampling only 1 (its no-op value) is accepted: the model would ignore any other.' })),
  seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Sent as seed: the same seed gives the same sampled output.' })),
  stop: Type.Optional(Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 4 }),
    Type.Null()
  ], { description: 'Up to 4 sequences; each output is cut before the first occurrence of any of them (applied by the gateway to what the model returned).' })),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: 'true: server-sent events (`data: {chunk}`, then `data: [DONE]`). From a tgi endpoint the tokens arrive as the model writes them; from a jumpstart-list endpoint (it does not stream) one content chunk per choice, then the final chunk.' })),
  stream_options: Type.Optional(Type.Union([Type.Object({
    include_usage: Type.Optional(Type.Boolean({ description: 'Send a last chunk with `usage` and no choices.' }))
  }, { additionalProperties: false }), Type.Null()], { description: 'Only with stream: true.' })),
  user: Type.Optional(Type.String({ maxLength: 256, description: 'An end-user id. Accepted as metadata; not sent to the model.' }))
}

/** Declares a known OpenAI field that requests.ts refuses unless it holds its no-op value. */
function refused<T extends TSchema> (schema: T, noOp: string) {
  return Type.Optional(Type.Union([schema, Type.Null()], { description: `Not supported by FLAN-T5 endpoints; accepted only as ${noOp}, any other value is a 400 naming this field.` }))
}
const AnyObject = Type.Object({}, { additionalProperties: true })

export const CompletionBody = Type.Object({
  prompt: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    // token-id prompts are OpenAI's too; declared so the refusal can say why (no tokenizer here)
    Type.Array(Type.Integer(), { minItems: 1 }),
    Type.Array(Type.Array(Type.Integer()), { minItems: 1 })
  ], { description: 'One prompt, or a list: each prompt is one item of the micro-batcher; choices come in OpenAI\'s order (index = prompt_index × n + k). Token-id prompts are refused.' }),
  ...SharedFields,
  best_of: refused(Type.Integer(), 'null or 1'),
  echo: refused(Type.Boolean(), 'null or false'),
  logprobs: refused(Type.Integer(), 'null'),
  logit_bias: refused(AnyObject, 'null or {}'),
  presence_penalty: refused(Type.Number(), 'null or 0'),
  frequency_penalty: refused(Type.Number(), 'null or 0'),
  suffix: refused(Type.String(), 'null')
}, {
  additionalProperties: false,
  title: 'CompletionRequest',
  description: 'OpenAI\'s completions request, mapped to the JumpStart FLAN-T5 parameters: max_tokens → max_length, n → num_return_sequences, temperature > 0 → do_sample, top_p, seed; stop is applied to the output. Unknown keys are a 400.',
  examples: [{ model: 'flan-t5-local', prompt: ['Summarize: The tram line will reach the airport in 2027.', 'Translate to German: Good morning.'], max_tokens: 50, n: 2, temperature: 0.7, seed: 1 }]
})
export type CompletionBody = Static<typeof CompletionBody>

const TextPart = Type.Object({
  type: Type.String({ description: 'Only "text" is supported.' }),
  text: Type.Optional(Type.String())
}, { additionalProperties: true })

const Message = Type.Object({
  role: Type.Union([Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool'), Type.Literal('function')], { description: 'system, developer, user or assistant; tool and function are refused (no tool calls).' }),
  content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 }), Type.Null()], { description: 'A string or a list of text parts ({type: "text", text}); other part types are refused.' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Shown in the flattened prompt as "User (name): ...".' })),
  tool_calls: refused(Type.Array(AnyObject), 'null or []'),
  function_call: refused(AnyObject, 'null'),
  tool_call_id: refused(Type.String(), 'null'),
  refusal: refused(Type.String(), 'null'),
  audio: refused(AnyObject, 'null')
}, { additionalProperties: false })

/** How messages become one prompt (src/openai/requests.ts flattenMessages; the README has it too). */
export const FLATTENING_RULE = 'The messages are flattened into one prompt: a conversation of one user message is its content alone; otherwise each message is a line "System: ...", "User: ...", "Assistant: ..." (developer counts as System; a name shows as "User (name): ..."; text parts are joined with a space), the lines joined with a newline, and a last line "Assistant:" asks the model for the reply.'

export const ChatCompletionBody = Type.Object({
  messages: Type.Array(Message, { minItems: 1, description: FLATTENING_RULE }),
  ...SharedFields,
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: Maximum }), Type.Null()], { description: 'Same as max_tokens (OpenAI\'s newer name); sending both with different values is a 400.' })),
  tools: refused(Type.Array(AnyObject), 'null or []'),
  tool_choice: refused(Type.Union([Type.String(), AnyObject]), 'null or "none"'),
  parallel_tool_calls: refused(Type.Boolean(), 'null'),
  functions: refused(Type.Array(AnyObject), 'null or []'),
  function_call: refused(Type.Union([Type.String(), AnyObject]), 'null or "none"'),
  logprobs: refused(Type.Boolean(), 'null or false'),
  top_logprobs: refused(Type.Integer(), 'null'),
  logit_bias: refused(AnyObject, 'null or {}'),
  presence_penalty: refused(Type.Number(), 'null or 0'),
  frequency_penalty: refused(Type.Number(), 'null or 0'),
  response_format: refused(AnyObject, 'null or {"type": "text"}'),
  modalities: refused(Type.Array(Type.String()), 'null or ["text"]'),
  audio: refused(AnyObject, 'null'),
  prediction: refused(AnyObject, 'null'),
  reasoning_effort: refused(Type.String(), 'null'),
  web_search_options: refused(AnyObject, 'null'),
  service_tier: refused(Type.String(), 'null or "auto"'),
  store: refused(Type.Boolean(), 'null or false'),
  metadata: refused(AnyObject, 'null')
}, {
  additionalProperties: false,
  title: 'ChatCompletionRequest',
  description: 'OpenAI\'s chat completions request, mapped like CompletionRequest. ' + FLATTENING_RULE + ' Unknown keys are a 400.',
  examples: [{ model: 'flan-t5-local', messages: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'Summarize: The tram line will reach the airport in 2027.' }], max_tokens: 50 }]
})
export type ChatCompletionBody = Static<typeof ChatCompletionBody>

const Usage = Type.Object({
  prompt_tokens: Type.Integer({ description: 'Estimate: whitespace-separated words of the prompts (each prompt once).' }),
  completion_tokens: Type.Integer({ description: 'Estimate: whitespace-separated words of every choice\'s text.' }),
  total_tokens: Type.Integer()
}, { description: 'An estimate in words (the gateway has no tokenizer of the endpoint\'s model).' })

const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length')], { description: 'Always "stop": the model ended, or a stop sequence cut the text (JumpStart does not report whether max_length ended it, so "length" is never claimed).' })

const Common = {
  id: Type.String({ examples: ['cmpl-3f2a...'] }),
  created: Type.Integer({ description: 'Unix seconds.' }),
  model: Type.String({ description: 'The endpoint that answered.' })
}

export const CompletionResponse = Type.Object({
  ...Common,
  object: Type.Literal('text_completion'),
  choices: Type.Array(Type.Object({
    text: Type.String(),
    index: Type.Integer({ description: 'prompt_index × n + k' }),
    logprobs: Type.Null(),
    finish_reason: FinishReason
  })),
  usage: Usage
}, { title: 'CompletionResponse' })
export type CompletionResponse = Static<typeof CompletionResponse>

export const ChatCompletionResponse = Type.Object({
  ...Common,
  object: Type.Literal('chat.completion'),
  choices: Type.Array(Type.Object({
    index: Type.Integer(),
    message: Type.Object({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }),
    logprobs: Type.Null(),
    finish_reason: FinishReason
  })),
  usage: Usage
}, { title: 'ChatCompletionResponse' })
export type ChatCompletionResponse = Static<typeof ChatCompletionResponse>

export const ModelObject = Type.Object({
  id: Type.String({ description: 'The endpoint name: send it as `model`.' }),
  object: Type.Literal('model'),
  created: Type.Integer({ description: 'Unix seconds the endpoint was created (0 when unknown).' }),
  owned_by: Type.String({ description: '"text2text-gateway" for endpoints it deployed, "local" for the local stack\'s built-in one, "sagemaker" for other configured ones.' })
}, { title: 'Model' })

export const ModelList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(ModelObject)
}, { title: 'ModelList' })
