/**
 * The contract of a SageMaker model, read from SageMaker itself: DescribeModel's container
 * (PrimaryContainer, else the first of Containers) through detectContract. The one place both the
 * real-time path (an endpoint's variant's model) and transform jobs (the job's model) ask.
 */
import { DescribeModelCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import { controlPlaneError, isResourceNotFound } from '../aws-errors.js'
import { detectContract, type Detection } from './detect.js'

/** What DescribeModel says a model's container speaks; undefined when there is no such model. */
export async function modelContract (control: SageMakerClient, modelName: string): Promise<Detection | undefined> {
  let out
  try {
    out = await control.send(new DescribeModelCommand({ ModelName: modelName }))
  } catch (err) {
    if (isResourceNotFound(err)) return undefined
    throw controlPlaneError('DescribeModel', err)
  }
  return detectContract(out.PrimaryContainer ?? out.Containers?.[0])
}
