/**
 * The JSON body parser of every JSON route: Fastify's own (secure-json-parse, proto and
 * constructor poisoning refused) behind the checks that keep a body from being read as
 * something other than what was sent:
 * - an empty body is no body at all on a route that takes none (the Python `openai` client
 *   sends `content-type: application/json` with nothing on cancel and delete); a route that
 *   takes a body refuses it. Decided on the matched route's schema, never its URL.
 * - the bytes must be UTF-8 (decoding would turn a bad byte into U+FFFD silently);
 * - nesting depth is checked on the text, iteratively, before anything parses or walks the
 *   value: a body nested thousands deep would otherwise overflow the stack in validation or in
 *   the error handler's messages;
 * - an integer JSON.parse could not keep exactly (beyond 2^53 - 1) is refused, naming the field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { catalogError } from '../errors.js'
import { exceedsJsonDepth, inexactInteger, inexactIntegerMessage } from '../util/json-bounds.js'
import { MAX_JSON_DEPTH } from '../../schemas/json-bounds.js'
import { invalidUtf8Offset } from '../util/utf8.js'

/** True when the matched route declares a body (its schema has one): an empty body is then refused. */
export function routeTakesBody (request: FastifyRequest): boolean {
  return request.routeOptions.schema?.body !== undefined
}

/** Replaces the app's application/json parser with the checked one (call before routes). */
export function useDepthCheckedJsonParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
    if (bytes.length === 0) {
      if (!routeTakesBody(request)) { done(null, undefined); return }
      done(catalogError('INVALID_JSON', `body is empty; ${request.method} ${request.routeOptions.url ?? ''} takes a JSON object`), undefined)
      return
    }
    const badByte = invalidUtf8Offset(bytes)
    if (badByte !== undefined) {
      done(catalogError('INVALID_JSON', `body is not valid UTF-8 at byte offset ${badByte}; JSON bodies must be UTF-8`), undefined)
      return
    }
    const text = bytes.toString('utf8')
    if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
      done(catalogError('INVALID_JSON', `body nests deeper than ${MAX_JSON_DEPTH} levels (objects and arrays); flatten it`), undefined)
      return
    }
    parse(request, text, (err, value: unknown) => {
      if (err !== null) { done(err, undefined); return }
      const inexact = inexactInteger(text, value)
      if (inexact === undefined) { done(null, value); return }
      const param = inexact.path.replace(/^\./, '')
      done(catalogError('INVALID_REQUEST', inexactIntegerMessage(`body${inexact.path}`, inexact.value), param !== '' ? { param } : {}), undefined)
    })
  })
}
