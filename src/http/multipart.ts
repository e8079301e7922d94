/**
 * multipart/form-data read from the body stream the route was given: the same counted body
 * (body-budget.ts) every other parser reads, so one mechanism accounts for every upload's bytes
 * and pace. (@fastify/multipart reads `request.raw` beside it instead: two readers of one
 * socket, and the one nobody drained stalled the other after 16 KiB.)
 *
 * Parts come out in order, one at a time: a file part's bytes must be read (or the iteration
 * abandoned) before the next part is parsed, so memory stays at busboy's buffers. Whatever is
 * wrong with the form is a catalog error naming the problem: no or a wrong boundary, a body cut
 * short, a file over its limit, too many parts.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { Busboy, type BusboyFileStream } from '@fastify/busboy'
import { catalogError, isCatalogError, type CatalogError } from '../errors.js'

/** Limits of one form (bytes and counts); past any of them the form is refused. */
export interface FormLimits {
  fileBytes: number
  files: number
  fields: number
  /** Bytes of one non-file field's value. */
  fieldBytes: number
}

/** One part of a form: a field's text, or a file's bytes (read them, or they are dropped when the next part is asked for). */
export type FormPart =
  | { kind: 'field', name: string, value: string }
  | { kind: 'file', name: string, filename: string, bytes: AsyncIterable<Buffer> }
  /** A part of a file field sent without `filename` in its Content-Disposition (its bytes are dropped). */
  | { kind: 'unnamed-file', name: string }

type Event = { part: FormPart, file?: BusboyFileStream } | { end: true } | { error: CatalogError }

/** The `boundary` parameter of a multipart content type, or undefined. */
function boundaryOf (contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

/**
 * The parts of the multipart body `body` (sent with `headers`), in order. `fileFields` names the
 * fields that carry files: such a part without a filename is yielded as `unnamed-file`, so the
 * caller can say what is missing. Throws a catalog error (400 INVALID_REQUEST, 413
 * BODY_TOO_LARGE) for a malformed or oversized form, and the body's own error when it is cut.
 */
export async function * formParts (body: Readable, headers: IncomingHttpHeaders, limits: FormLimits, fileFields: readonly string[]): AsyncGenerator<FormPart> {
  const contentType = headers['content-type'] ?? ''
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) {
    throw catalogError('INVALID_REQUEST', `content-type ${JSON.stringify(contentType)} has no boundary parameter; multipart/form-data needs one (e.g. multipart/form-data; boundary=----form)`)
  }
  const busboy = new Busboy({
    headers: { ...headers, 'content-type': contentType },
    // a file field sent without a filename is still a file part (streamed, then refused by
    // name), never buffered as a field value
    isPartAFile: (name, _type, filename) => filename !== undefined || (name !== undefined && fileFields.includes(name)),
    limits: { fileSize: limits.fileBytes, files: limits.files, fields: limits.fields, fieldSize: limits.fieldBytes, parts: limits.files + limits.fields }
  })

  const events: Event[] = []
  let wake: (() => void) | undefined
  let partsSeen = 0
  const files = new Set<BusboyFileStream>()
  const emit = (event: Event): void => { events.push(event); wake?.() }
  const fail = (error: CatalogError): void => {
    for (const file of files) file.destroy(error)
    emit({ error })
  }

  busboy.on('field', (name, value, _nameTruncated, valueTruncated) => {
    partsSeen++
    if (valueTruncated) { fail(catalogError('INVALID_REQUEST', `form field ${JSON.stringify(name)} is longer than ${limits.fieldBytes} bytes`, { param: name })); return }
    emit({ part: { kind: 'field', name, value } })
  })
  busboy.on('file', (name, file, filename) => {
    partsSeen++
    // a part cut short errors here too; the reader of its bytes hears of it through iteration
    file.on('error', () => {})
    files.add(file)
    file.once('close', () => { files.delete(file) })
    file.once('end', () => { files.delete(file) })
    if (filename === undefined) { file.resume(); emit({ part: { kind: 'unnamed-file', name } }); return }
    emit({ part: { kind: 'file', name, filename, bytes: fileBytes(file, name, limits.fileBytes) }, file })
  })
  const tooMany = (): void => { fail(catalogError('INVALID_REQUEST', `the form has too many parts: at most ${limits.files} file(s) and ${limits.fields} field(s)`)) }
  busboy.on('partsLimit', tooMany)
  busboy.on('filesLimit', tooMany)
  busboy.on('fieldsLimit', tooMany)
  busboy.on('error', (err: Error) => {
    if (!/Unexpected end of multipart data/.test(err.message)) { fail(catalogError('INVALID_REQUEST', `the multipart body is malformed: ${err.message}`, { cause: err })); return }
    fail(partsSeen === 0
      ? catalogError('INVALID_REQUEST', `the body has no part delimited by boundary ${JSON.stringify(boundary)} (the content-type's): the boundary is wrong or the body is empty`)
      : catalogError('INVALID_REQUEST', `the multipart body ended before its closing delimiter "--${boundary}--": it was cut short`))
  })
  busboy.on('finish', () => { emit({ end: true }) })
  // the body's own failure (cut by a budget, or the caller went away) ends the form with it
  body.on('error', (err: Error) => { fail(isCatalogError(err) ? err : catalogError('CANCELLED', 'the client went away during the upload; nothing was stored', { cause: err })) })
  body.pipe(busboy)

  try {
    for (;;) {
      const event = events.shift()
      if (event === undefined) {
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
        continue
      }
      if ('end' in event) return
      if ('error' in event) throw event.error
      yield event.part
      // bytes of a file the caller did not read are dropped, or busboy would wait for them forever
      event.file?.resume()
    }
  } finally {
    body.unpipe(busboy)
    for (const file of files) file.destroy()
  }
}

/** A file part's bytes; its size limit and a broken form surface as catalog errors. */
async function * fileBytes (file: BusboyFileStream, name: string, maxBytes: number): AsyncGenerator<Buffer> {
  let truncated = false
  file.once('limit', () => { truncated = true })
  try {
    for await (const chunk of file) {
      if (truncated) break
      yield chunk as Buffer
    }
  } catch (err) {
    if (isCatalogError(err)) throw err
    throw catalogError('INVALID_REQUEST', `form file ${JSON.stringify(name)} ended before its part's closing delimiter: the multipart body was cut short`, { cause: err })
  }
  if (truncated || file.truncated) throw catalogError('BODY_TOO_LARGE', `form file ${JSON.stringify(name)} is larger than ${maxBytes} bytes`, { param: name })
}
