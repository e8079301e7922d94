/**
 * How deep a caller's JSON may nest, as a number both the contract (the OpenAPI document's
 * INVALID_JSON) and the checks (src/util/json-bounds.ts) read. Imports nothing.
 */

/** Deepest nesting accepted in a JSON body or dataset line (objects and arrays, each counts 1). */
export const MAX_JSON_DEPTH = 64
