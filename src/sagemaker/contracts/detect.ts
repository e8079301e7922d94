/**
 * Which contract a model's container speaks, from what DescribeModel says of it (the image and
 * the environment): pure, no AWS calls. An image it does not recognise is `unknown`, with the
 * reason, never a guess: the caller must then choose the contract explicitly.
 */
import { positiveIntegerEnv } from './env.js'
import { jumpstartList } from './jumpstart-list.js'
import { LMI_DEFAULT_MAX_ROLLING_BATCH_SIZE, lmiDynamic, lmiRolling } from './lmi.js'
import { tgiContract, tgiLimits, type TgiLimits } from './tgi.js'
import type { ContainerContract } from './types.js'

/** A container as DescribeModel describes it (PrimaryContainer or Containers[0]). */
export interface ContainerSpec {
  Image?: string
  Environment?: Readonly<Record<string, string>>
}

/** What detection found. */
export type Detection =
  | { known: true, contract: ContainerContract, image: string, tgi?: TgiLimits }
  | { known: false, image: string | undefined, reason: string }

/**
 * Hugging Face TGI images: the SageMaker DLC JumpStart 2.x deploys
 * (`763104351884.dkr.ecr.<region>.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04`)
 * and Hugging Face's own (`ghcr.io/huggingface/text-generation-inference:<version>`).
 */
const TGI_REPOSITORIES = new Set(['huggingface-pytorch-tgi-inference', 'text-generation-inference'])
/** DJL Serving's LMI images (`763104351884.dkr.ecr.<region>.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124`). */
const LMI_REPOSITORIES = new Set(['djl-inference'])
/** The Hugging Face inference toolkit image JumpStart 1.x text2text models run with its own `inference.py`. */
const HF_TOOLKIT_REPOSITORIES = new Set(['huggingface-pytorch-inference'])

/** The last path segment of an image's repository: no registry, no tag, no digest. */
export function imageRepository (image: string): string {
  const path = image.split('@')[0]
  const segments = path.split('/')
  const last = segments[segments.length - 1]
  const colon = last.indexOf(':')
  return colon < 0 ? last : last.slice(0, colon)
}

function detectLmi (image: string, env: Readonly<Record<string, string>>): Detection {
  const rolling = env.OPTION_ROLLING_BATCH
  if (rolling === undefined) {
    // the default depends on the container version and on serving.properties inside the model
    // data, neither of which DescribeModel shows
    return { known: false, image, reason: `the LMI image ${image} does not say how it batches: set OPTION_ROLLING_BATCH in the model's environment (auto, vllm, trtllm, ... or disable), or choose the contract explicitly` }
  }
  if (rolling.trim().toLowerCase() === 'disable') {
    const batch = positiveIntegerEnv(env, 'SERVING_BATCH_SIZE')
    if (typeof batch === 'string') return { known: false, image, reason: batch }
    return { known: true, image, contract: lmiDynamic(batch) }
  }
  const size = positiveIntegerEnv(env, 'OPTION_MAX_ROLLING_BATCH_SIZE')
  if (typeof size === 'string') return { known: false, image, reason: size }
  return { known: true, image, contract: lmiRolling(size ?? LMI_DEFAULT_MAX_ROLLING_BATCH_SIZE) }
}

/** True for an image of Hugging Face TGI (whatever its environment says). */
export function isTgiImage (image: string): boolean {
  return TGI_REPOSITORIES.has(imageRepository(image))
}

/** The contract a container speaks, or `known: false` with the reason. */
export function detectContract (container: ContainerSpec | undefined): Detection {
  const image = container?.Image
  if (image === undefined || image.trim() === '') return { known: false, image, reason: 'the model has no container image' }
  const env = container?.Environment ?? {}
  const repository = imageRepository(image)
  if (isTgiImage(image)) {
    const limits = tgiLimits(env)
    if (typeof limits === 'string') return { known: false, image, reason: limits }
    return { known: true, image, contract: tgiContract(limits.maxConcurrentRequests), tgi: limits }
  }
  if (LMI_REPOSITORIES.has(repository)) return detectLmi(image, env)
  if (HF_TOOLKIT_REPOSITORIES.has(repository)) {
    // JumpStart 1.x runs its own inference.py on the toolkit; without it the toolkit's
    // default handler speaks `{"inputs"}`, a contract the gateway does not implement
    if (env.SAGEMAKER_PROGRAM === 'inference.py') return { known: true, image, contract: jumpstartList }
    return { known: false, image, reason: `the Hugging Face inference image ${image} runs JumpStart's text2text handler only with SAGEMAKER_PROGRAM=inference.py; without it the contract is the toolkit's own, which the gateway does not speak` }
  }
  return { known: false, image, reason: `the image ${image} is not one whose contract the gateway knows (jumpstart-list, tgi, lmi); choose the contract explicitly` }
}
