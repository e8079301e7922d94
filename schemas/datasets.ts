import { Type, type Static } from 'typebox'

/** A record id: a non-empty string or an integer; ids compare as strings (7 and "7" collide). */
export const RecordId = Type.Union([
  Type.String({ minLength: 1, maxLength: 256 }),
  Type.Integer()
], { description: 'Record id: a string or an integer. Ids compare as strings, so 7 and "7" are the same id.' })
export type RecordId = Static<typeof RecordId>

/** The most line errors a rejected upload lists. */
export const MAX_LISTED_LINE_ERRORS = 100

export const DatasetQuery = Type.Object({
  prompt: Type.Optional(Type.String({ maxLength: 4096, description: 'Prepended to each `text` line (not to JumpStart `text_inputs` lines, which are sent as written).', examples: ['Briefly summarize this text: '] }))
}, { additionalProperties: false })
export type DatasetQuery = Static<typeof DatasetQuery>

export const DatasetCreated = Type.Object({
  s3Uri: Type.String({ description: 'Where the dataset lives; usable as a job\'s input.s3Uri or references.s3Uri.' }),
  records: Type.Integer({ description: 'Records stored (blank lines are skipped).' }),
  bytes: Type.Integer({ description: 'Size of the stored object in bytes (JumpStart JSON Lines).' })
}, { title: 'DatasetCreated', examples: [{ s3Uri: 's3://text2text-local/text2text-gateway/datasets/6f1c1f5e-3c55-4f0b-9d55-0d7bba1c2b8e.jsonl', records: 2, bytes: 214 }] })
export type DatasetCreated = Static<typeof DatasetCreated>

export const DatasetLineError = Type.Object({
  line: Type.Integer({ description: '1-based line number in the upload.' }),
  message: Type.String({ description: 'What is wrong, naming the field and value.' })
}, { title: 'DatasetLineError' })
export type DatasetLineError = Static<typeof DatasetLineError>

/** A rejected upload, as the 400 reports it (documentation). */
export const DATASET_INVALID_EXAMPLE = { statusCode: 400, code: 'DATASET_INVALID', error: 'Bad Request', message: '1 line is invalid; nothing was stored. line 2: line.id "a" is duplicated (first on line 1)', errors: [{ line: 2, message: 'line.id "a" is duplicated (first on line 1)' }], invalidLines: 1 }

/** The 400 body of a rejected upload: Fastify's error shape plus the first 100 bad lines. */
export const DatasetErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(DatasetLineError, { description: `The first ${MAX_LISTED_LINE_ERRORS} invalid lines, in order.` })),
  invalidLines: Type.Optional(Type.Integer({ description: 'Invalid lines in the whole upload (may exceed the listed ones).' }))
}, {
  title: 'DatasetErrorResponse',
  description: 'Error body. For DATASET_INVALID, `errors` lists the bad lines; nothing was stored.',
  examples: [DATASET_INVALID_EXAMPLE]
})
export type DatasetErrorResponse = Static<typeof DatasetErrorResponse>
