// A job's progress, as its checkpoint records it: the plan a fresh job starts from (the input
// objects in key order with their record counts and output keys), and the steps that advance it
// (a committed mini-batch, the next object, an object redone). Each step is synchronous, so a
// checkpoint snapshot written in the background never sees half of one.

import type { S3Client } from '@aws-sdk/client-s3'
import { parseSageMakerS3Uri } from '../sagemaker/s3-uri.js'
import { clientFailure, errorName, truncateReason } from './container.js'
import { countRecords, listInputObjects, ManifestError, outputKey } from './job-input.js'
import { JobFailure, type Settings } from './job-settings.js'
import type { JobCheckpoint, JobRecord, PlannedFile } from './job-store.js'
import type { Batch } from './mini-batches.js'

/** Lists the input objects and counts their records: the checkpoint a fresh job starts from. */
export async function initialCheckpoint (s3: S3Client, record: JobRecord, settings: Settings, signal: AbortSignal): Promise<JobCheckpoint> {
  const source = record.spec.TransformInput.DataSource.S3DataSource
  const inputUri = parseSageMakerS3Uri(source.S3Uri)
  const outputUri = parseSageMakerS3Uri(record.spec.TransformOutput.S3OutputPath)
  if (inputUri === undefined || outputUri === undefined) {
    throw new JobFailure(clientFailure('Only s3:// URIs are supported by the local stack.'))
  }
  let objects: Awaited<ReturnType<typeof listInputObjects>>
  try {
    objects = await listInputObjects(s3, source.S3DataType, inputUri, signal)
  } catch (err) {
    signal.throwIfAborted()
    if (err instanceof ManifestError) throw new JobFailure(clientFailure(err.message))
    throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err)}: ${(err as Error).message} (${source.S3Uri})`))
  }
  if (objects.length === 0) {
    throw new JobFailure(truncateReason(`ClientError: No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. ` +
      `Please ensure that the bucket exists in the selected region, that objects exist under that S3 prefix, and that the role has "s3:ListBucket" permissions on bucket "${inputUri.bucket}".`))
  }
  const files: PlannedFile[] = []
  let total = 0
  for (const obj of objects) {
    let records: number
    try {
      records = await countRecords(s3, obj, { gzip: settings.gzip, whole: settings.splitWhole, signal })
    } catch (err) {
      signal.throwIfAborted()
      throw new JobFailure(truncateReason(`ClientError: Failed to download data. ${errorName(err)}: ${(err as Error).message} (s3://${obj.bucket}/${obj.key})`))
    }
    total += records
    files.push({ bucket: obj.bucket, key: obj.key, size: obj.size, records, outKey: outputKey(obj.relativeTo, obj.key, outputUri.key) })
  }
  return {
    phase: 'running',
    outBucket: outputUri.bucket,
    files,
    total,
    fileIndex: 0,
    inputOffset: 0,
    inputLine: 0,
    outputOffset: 0,
    fileRecords: 0,
    processed: 0
  }
}

/** Records a committed mini-batch whose output took `outputBytes` of the spool. */
export function commitBatch (cp: JobCheckpoint, batch: Batch, outputBytes: number): void {
  cp.outputOffset += outputBytes
  cp.inputOffset = batch.endOffset
  cp.inputLine = batch.endLine
  cp.fileRecords += batch.records.length
  cp.processed += batch.records.length
}

/** Moves on to the next input object, from its start. */
export function nextFile (cp: JobCheckpoint): void {
  cp.fileIndex++
  cp.inputOffset = 0
  cp.inputLine = 0
  cp.outputOffset = 0
  cp.fileRecords = 0
}

/** Takes back what the current object contributed, so it is redone from its start. */
export function redoFile (cp: JobCheckpoint): void {
  cp.processed -= cp.fileRecords
  cp.fileRecords = 0
  cp.inputOffset = 0
  cp.inputLine = 0
  cp.outputOffset = 0
}
