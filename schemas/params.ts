import { Type, type Static } from 'typebox'

/** JumpStart text2text (FLAN-T5) generation parameters, exactly the set the contract allows. */
export const GenerationParameterProperties = {
  max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Maximum output length (tokens; words in local mode).' })),
  num_return_sequences: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Sequences returned per input.' })),
  num_beams: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'Beam width; must be >= num_return_sequences.' })),
  no_repeat_ngram_size: Type.Optional(Type.Integer({ minimum: 1, description: 'No n-gram of this size repeats in an output.' })),
  temperature: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Sampling temperature (with do_sample); higher is more random.' })),
  top_k: Type.Optional(Type.Integer({ minimum: 1, description: 'Sample from the k most likely tokens (with do_sample).' })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Nucleus sampling: the smallest token set with this cumulative probability (with do_sample).' })),
  do_sample: Type.Optional(Type.Boolean({ description: 'Sample instead of greedy / beam decoding.' })),
  early_stopping: Type.Optional(Type.Boolean({ description: 'Stop beam search when num_beams sentences are finished.' })),
  seed: Type.Optional(Type.Integer({ description: 'Random seed; the same seed gives the same sampled output.' })),
  // JumpStart documents it with the others ("if specified, it must be a positive integer"):
  // the container's own pipeline batch, in real-time payloads and job records alike
  batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Inputs per forward pass inside the model container (its pipeline batch); changes speed and memory, not output.' }))
}

/** Names of the generation parameters, for messages that list the allowed keys. */
export const GENERATION_PARAMETER_NAMES = Object.keys(GenerationParameterProperties)

/** The `parameters` object of /v1/summarize, job records and jobs (sent as HYPER_PARAMS). */
export const GenerationParameters = Type.Object(GenerationParameterProperties, {
  additionalProperties: false,
  $id: 'GenerationParameters',
  title: 'GenerationParameters',
  description: 'JumpStart text2text generation parameters. Unknown keys are rejected.',
  examples: [{ max_length: 50, num_beams: 4 }]
})
export type GenerationParameters = Static<typeof GenerationParameters>

/**
 * The same parameters as a job's `parameters` (HYPER_PARAMS). Its own object without an $id, as
 * one request schema (a job with inline records) holds both and an $id may occur only once.
 */
export const JobParameters = Type.Object(GenerationParameterProperties, {
  additionalProperties: false,
  title: 'JobParameters',
  description: 'Job-wide JumpStart parameters. JumpStart does not use a record\'s own parameters when HYPER_PARAMS is set, so: ' +
    'with inline records none of which has `parameters`, they are sent as HYPER_PARAMS (the container batches records, `batch_size`); ' +
    'when any inline record has `parameters`, no HYPER_PARAMS is sent and these are written into every record\'s line, the record\'s own value winning; ' +
    'with an `input.s3Uri` dataset uploaded through POST /v1/datasets some of whose lines carry parameters, giving these is a 400 INVALID_PARAMETERS. ' +
    'The same on AWS and in local mode. On a TGI or LMI model (one request per record) there is no HYPER_PARAMS: these go into every record\'s request under its own, translated for the contract. Unknown keys are rejected.'
})

/**
 * Cross-field rule the JSON schema cannot express: beam search cannot return more sequences
 * than it has beams. Returns a message naming both values, or undefined when fine.
 */
export function crossCheckParameters (params: GenerationParameters, path: string): string | undefined {
  const { num_beams: beams, num_return_sequences: sequences } = params
  if (beams !== undefined && sequences !== undefined && beams < sequences) {
    return `${path}.num_beams (${beams}) must be >= ${path}.num_return_sequences (${sequences})`
  }
  return undefined
}

/** TGI's `truncate`, the one input-side parameter: a caller's explicit consent to lose the start of a long input. */
export const Truncate = Type.Integer({ minimum: 1, description: 'Endpoints and models of the tgi contract only: keep only the last `truncate` tokens of each input (words in local mode), as TGI\'s own `truncate` does. Without it an input longer than the container\'s MAX_INPUT_LENGTH is a 400 (a transform job: the job fails naming the record); on any other contract, or above the container\'s MAX_INPUT_LENGTH, it is a 400 naming it. The last tokens are kept: a prompt in front of the text is cut first.' })
