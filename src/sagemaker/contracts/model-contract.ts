/**
 * The contract of a SageMaker model, read from SageMaker itself: DescribeModel's container
 * (PrimaryContainer, else the first of Containers) through detectContract, unless the model
 * carries the tag t2t:contract (written when the gateway created it with an explicit contract),
 * or the caller names one (an endpoint's tag, ENDPOINT_CONTRACTS): then that contract, with the
 * container's own limits from its environment. The one place the real-time path (an endpoint's
 * variant's model) and transform jobs (the job's model) ask.
 */
import { DescribeModelCommand, ListTagsCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import { CONTRACT_TAG } from '../../../schemas/contracts.js'
import { controlPlaneError, isResourceNotFound } from '../aws-errors.js'
import { detectContract, type Detection } from './detect.js'
import { explicitContract, isExplicitContractName, type ExplicitContractName } from './explicit.js'

/** What a model's container speaks; undefined when there is no such model. */
export async function modelContract (control: SageMakerClient, modelName: string, explicit?: ExplicitContractName): Promise<Detection | undefined> {
  let out
  try {
    out = await control.send(new DescribeModelCommand({ ModelName: modelName }))
  } catch (err) {
    if (isResourceNotFound(err)) return undefined
    throw controlPlaneError('DescribeModel', err)
  }
  const container = out.PrimaryContainer ?? out.Containers?.[0]
  const chosen = explicit ?? await taggedContract(control, out.ModelArn)
  if (typeof chosen === 'string' && !isExplicitContractName(chosen)) return { known: false, image: container?.Image, reason: `the model's tag ${CONTRACT_TAG} says ${JSON.stringify(chosen)}, not a contract the gateway knows` }
  if (chosen !== undefined) return { known: true, image: container?.Image ?? '', ...explicitContract(chosen, container?.Environment ?? {}) }
  return detectContract(container)
}

/** The model's t2t:contract tag, unvalidated; undefined without one (or without an ARN to ask by). */
async function taggedContract (control: SageMakerClient, arn: string | undefined): Promise<string | undefined> {
  if (arn === undefined) return undefined
  try {
    const tags = (await control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []
    return tags.find((t) => t.Key === CONTRACT_TAG)?.Value
  } catch (err) {
    if (isResourceNotFound(err)) return undefined
    throw controlPlaneError('ListTags', err)
  }
}
