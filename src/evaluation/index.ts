/**
 * ROUGE scoring, pure code: tokenising, NLTK's Porter stemmer, the scores, bootstrap confidence
 * intervals, and the worker threads that score off the event loop.
 */
export { evaluate, EvaluationInputError, type EvaluationRequest, type EvaluationResult } from './evaluate.js'
