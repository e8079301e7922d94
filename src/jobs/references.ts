/**
 * References for scoring a job, and the existence check every S3 location a job names gets:
 * reference lines (`{"id","text"}` or the JumpStart `{"id","text_inputs"}`) read from every
 * object under a location, one line in memory at a time.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { splitLines } from '../sagemaker/lines.js'
import { getStream, listObjects } from '../sagemaker/s3-io.js'
import { formatS3Uri, type S3Location } from '../sagemaker/s3-uri.js'
import { exceedsJsonDepth, show } from '../util/json-bounds.js'
import { MAX_JSON_DEPTH } from '../../schemas/json-bounds.js'
import { catalogError } from '../errors.js'
import { toReference } from './records.js'
import { MAX_RECORD_BYTES } from './results.js'

/** One reference text of a record. */
export interface Reference {
  id: string | number
  text: string
}

/** 400 when no object lies under `location` (a job over it would fail at once). */
export async function requireObjects (s3: S3Client, location: S3Location, field: string): Promise<void> {
  for await (const obj of listObjects(s3, location.bucket, location.key)) {
    if (!obj.key.endsWith('/')) return
  }
  throw catalogError('S3_OBJECT_NOT_FOUND', `${field} ${show(formatS3Uri(location))} matches no S3 object`)
}

/** Reads reference lines (`{"id","text"}` or `{"id","text_inputs"}`) from every object under `location`. */
export async function readReferences (s3: S3Client, location: S3Location, what: string): Promise<Reference[]> {
  const out: Reference[] = []
  for await (const obj of listObjects(s3, location.bucket, location.key)) {
    if (obj.key.endsWith('/')) continue
    const body = await getStream(s3, location.bucket, obj.key)
    if (body === undefined) continue
    try {
      for await (const line of splitLines(body, MAX_RECORD_BYTES)) {
        if (line.text !== undefined && line.text.trim() === '') continue
        let value: unknown
        try { value = line.text === undefined || exceedsJsonDepth(line.text, MAX_JSON_DEPTH) ? undefined : JSON.parse(line.text) } catch { value = undefined }
        const reference = toReference(value)
        if (reference === undefined) {
          throw catalogError('INVALID_REQUEST', `${what}: ${formatS3Uri({ bucket: location.bucket, key: obj.key })} line ${line.number} is not {"id","text"} JSON`)
        }
        out.push(reference)
      }
    } finally {
      body.destroy()
    }
  }
  return out
}
