import { catalogError, type CatalogError } from '../errors.js'
import type { EvaluationInputError } from '../evaluation/evaluate.js'

/**
 * Maps evaluation's input error to the catalog: the one place evaluation's own errors meet the
 * catalog (evaluation is a library, also used by the CLI, which reads the error's `field`).
 * A text over the token limit is TEXT_TOO_LONG (413), any other bad input INVALID_REQUEST (400),
 * the field named as in the request body.
 */
export function evaluationErrorToCatalog (err: EvaluationInputError): CatalogError {
  return catalogError(err.code === 'TEXT_TOO_LONG' ? 'TEXT_TOO_LONG' : 'INVALID_REQUEST', `body.${err.message}`, { cause: err })
}
