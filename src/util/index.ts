/** Small helpers with no home of their own: JSON bounds and previews, AWS redaction, a seeded PRNG, ordered bounded lookups, the request validator (ajv) and its messages naming field and value. */
export { exceedsJsonDepth, preview, show } from './json-bounds.js'
export { redactAws, serializeError } from './redact-aws.js'
export { mulberry32 } from './prng.js'
export { firstMatching } from './first-matching.js'
export { mapLimit } from './map-limit.js'
export { describeValidation, faultyField, fieldName, validatorCompiler } from './validation.js'
