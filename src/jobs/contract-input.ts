/**
 * The input lines of a transform job, by its model's contract. The list contract reads JumpStart
 * lines (`{"id","text_inputs",...params}`). A single-input contract (TGI, LMI) takes one request
 * body per record, so each line is `{"id","inputs","parameters"}` (records.ts contractLine), the
 * job-wide parameters under the record's own, translated through the one vocabulary
 * (translateParameters) and so checked at submit: a parameter the contract cannot honour is a
 * 400 INVALID_PARAMETERS naming the field, never a job failing later. A dataset (stored as
 * JumpStart lines) is rewritten this way into the submission, streamed: one line in memory.
 */
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { CreateJobBody } from '../../schemas/jobs.js'
import type { GenerationParameters } from '../../schemas/params.js'
import { catalogError } from '../errors.js'
import { BESIDE_PARAMETERS, translateParameters, truncateExtra, type ContainerContract, type ExtraParameters, type ParameterLimits } from '../sagemaker/contracts/index.js'
import { splitLines } from '../sagemaker/lines.js'
import { getStream, listObjects } from '../sagemaker/s3-io.js'
import { formatS3Uri, type S3Location } from '../sagemaker/s3-uri.js'
import { show } from '../util/json-bounds.js'
import { contractLine, IdSet, jumpStartLine, readDatasetRecord } from './records.js'
import { MAX_RECORD_BYTES } from './results.js'

/** The job's model's contract and the container limits its parameters are checked against. */
export interface JobContract {
  contract: ContainerContract
  limits: ParameterLimits
}

/** One inline record of a submission. */
export type JobRecordInput = NonNullable<CreateJobBody['input']['records']>[number]

/** A single-input contract's line of one record: `own` parameters over the job-wide ones, refused naming `at`. */
function singleInputLine (target: JobContract, jobParameters: GenerationParameters, extra: ExtraParameters, id: string | number, text: string, own: Record<string, unknown>, at: string): string {
  const params = translateParameters(target.contract, { ...jobParameters, ...own }, at, extra, target.limits).params
  return contractLine(target.contract, id, text, params)
}

/**
 * The lines of a submission's inline records. The list contract: JumpStart lines (parameters in
 * each line only when records carry their own, `perRecord`).
 */
export function recordLines (target: JobContract, records: JobRecordInput[], body: CreateJobBody, perRecord: boolean): string[] {
  const prompt = body.prompt ?? ''
  const jobParameters = body.parameters ?? {}
  if (target.contract.name === 'jumpstart-list') {
    return records.map(r => jumpStartLine(r.id, prompt + r.text, perRecord ? { ...jobParameters, ...r.parameters } : {}))
  }
  // the job-wide ones first, so a refusal names the field that holds them
  const extra = truncateExtra(body.truncate)
  const shared = translateParameters(target.contract, jobParameters, BESIDE_PARAMETERS, extra, target.limits).params
  return records.map((r, i) => {
    const own = r.parameters ?? {}
    return Object.keys(own).length === 0
      ? contractLine(target.contract, r.id, prompt + r.text, shared)
      : singleInputLine(target, jobParameters, extra, r.id, prompt + r.text, own, `body.input.records[${i}].parameters`)
  })
}

/**
 * Rewrites the dataset at `location` (every object under it, in key order) as a single-input
 * contract's lines into s3://`bucket`/`key`; returns the record count. A line the dataset
 * checks would refuse, a duplicated id or a parameter the contract cannot honour is a 400 naming
 * the object and line; the partial upload is then aborted.
 */
export async function rewriteDataset (s3: S3Client, target: JobContract, location: S3Location, jobParameters: GenerationParameters, extra: ExtraParameters, out: { bucket: string, key: string }): Promise<number> {
  translateParameters(target.contract, jobParameters, BESIDE_PARAMETERS, extra, target.limits)
  const body = new PassThrough()
  const upload = new Upload({ client: s3, params: { Bucket: out.bucket, Key: out.key, Body: body, ContentType: 'application/jsonlines' } })
  const done = upload.done()
  // a failed upload is reported by `await done` below; until then it must not be unhandled
  done.catch(() => {})
  const ids = new IdSet()
  let count = 0
  try {
    for await (const object of listObjects(s3, location.bucket, location.key)) {
      if (object.key.endsWith('/')) continue
      const stream = await getStream(s3, location.bucket, object.key)
      if (stream === undefined) continue
      const where = `body.input.s3Uri ${JSON.stringify(formatS3Uri({ bucket: location.bucket, key: object.key }))}`
      try {
        for await (const line of splitLines(stream, MAX_RECORD_BYTES)) {
          const at = `${where} line ${line.number}`
          if (line.text === undefined) throw catalogError('INVALID_REQUEST', `${at} is ${line.tooLong === true ? `longer than ${MAX_RECORD_BYTES} bytes` : 'not UTF-8'}`)
          if (line.text.trim() === '') continue
          let value: unknown
          try {
            value = JSON.parse(line.text)
          } catch {
            throw catalogError('INVALID_REQUEST', `${at} is not JSON`)
          }
          const read = readDatasetRecord(value, '', at)
          if (!read.ok) throw catalogError('INVALID_REQUEST', read.message)
          const first = ids.add(read.id, count)
          if (first !== undefined) throw catalogError('INVALID_REQUEST', `${at}: id ${show(read.id)} is duplicated (first at record ${first + 1})`)
          const text = singleInputLine(target, jobParameters, extra, read.id, read.text, read.params, `${at}: parameters`) + '\n'
          count++
          if (!body.write(text)) await Promise.race([once(body, 'drain'), done])
        }
      } finally {
        stream.destroy()
      }
    }
    body.end()
    await done
  } catch (err) {
    body.destroy()
    await upload.abort().catch(() => {})
    throw err
  }
  return count
}
