/**
 * The job as the API shows it: SageMaker's description (status, times, failure) joined with the
 * job's manifest (what the gateway added), progress where it can be honestly known, and usage.
 */
import type { DescribeTransformJobResponse } from '@aws-sdk/client-sagemaker'
import type { JobStatus, TransformJob } from '../../schemas/jobs.js'
import type { PriceTable } from '../endpoints/prices.js'
import { jobUsage } from '../endpoints/usage.js'
import { DEFAULT_TENANT_ID } from '../tenants.js'
import { redactAws } from '../util/redact-aws.js'
import type { Submission } from './layout.js'
import type { Manifest } from './manifest.js'

const iso = (d: Date | undefined): string | undefined => d === undefined ? undefined : new Date(d).toISOString()

/** A job SageMaker knows and the gateway made: its description and its manifest. */
export interface OwnedJob {
  description: DescribeTransformJobResponse
  manifest: Manifest
  submission: Submission
}

/**
 * Progress where it can be honestly known, the same on AWS and locally: SageMaker reports
 * nothing between InProgress and Completed (DescribeTransformJob has no record count, and a
 * job writes its `<input>.out` objects only as whole files), so none until Completed; then
 * `processed` is what the output holds (`processed`, counted by the caller), which may be fewer
 * than `total`: a job can complete with output missing.
 */
export function jobProgress (job: OwnedJob, processed: number | undefined): { processed: number, total: number } | undefined {
  const total = job.manifest.input.recordCount
  return job.description.TransformJobStatus === 'Completed' && total !== undefined && processed !== undefined ? { processed, total } : undefined
}

/** The API's job: SageMaker's status and times, the manifest's facts, progress (`processed`: records the output holds, once Completed), and `usage` when prices are known. */
export function jobView (job: OwnedJob, prices: PriceTable | undefined, processed?: number): TransformJob {
  const d = job.description
  const m = job.manifest
  const progress = jobProgress(job, processed)
  const startedAt = iso(d.TransformStartTime)
  const endedAt = iso(d.TransformEndTime)
  // what the job runs on, for `resources` and for `usage`
  const instanceType = d.TransformResources?.InstanceType ?? 'unknown'
  const instanceCount = d.TransformResources?.InstanceCount ?? 1
  return {
    name: d.TransformJobName ?? m.name,
    status: (d.TransformJobStatus ?? 'InProgress') as JobStatus,
    model: d.ModelName ?? m.model,
    owner: m.owner ?? DEFAULT_TENANT_ID,
    createdAt: iso(d.CreationTime) ?? m.createdAt,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(endedAt !== undefined ? { endedAt } : {}),
    ...(d.FailureReason !== undefined && d.FailureReason !== '' ? { failureReason: redactAws(d.FailureReason) } : {}),
    input: { s3Uri: m.input.s3Uri, ...(m.input.recordCount !== undefined ? { recordCount: m.input.recordCount } : {}) },
    output: { s3Uri: m.output.s3Uri },
    ...(m.references !== undefined ? { references: { s3Uri: m.references.s3Uri } } : {}),
    parameters: m.parameters,
    ...(m.truncate !== undefined ? { truncate: m.truncate } : {}),
    ...(d.TransformResources !== undefined ? { resources: { instanceType, instanceCount, ...(d.MaxConcurrentTransforms !== undefined ? { maxConcurrentTransforms: d.MaxConcurrentTransforms } : {}), ...(d.MaxPayloadInMB !== undefined ? { maxPayloadMB: d.MaxPayloadInMB } : {}) } } : {}),
    ...(progress !== undefined ? { progress } : {}),
    ...(prices !== undefined ? { usage: jobUsage(prices, { instanceType, instanceCount, startMs: d.TransformStartTime?.getTime(), endMs: d.TransformEndTime?.getTime() }, Date.now()) } : {})
  }
}
