/**
 * The JSON body parser of every JSON route: Fastify's own (secure-json-parse, proto and
 * constructor poisoning refused) behind a nesting-depth check. The check runs on the text,
 * iteratively, before anything parses or walks the value: a body nested thousands deep would
 * otherwise overflow the stack in validation or in the error handler's messages.
 */
import type { FastifyInstance } from 'fastify'
import { catalogError } from '../errors.js'
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../util/json-bounds.js'

/** Replaces the app's application/json parser with the depth-checked one (call before routes). */
export function useDepthCheckedJsonParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
      done(catalogError('INVALID_JSON', `body nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays); flatten it`), undefined)
      return
    }
    parse(request, text, done)
  })
}
