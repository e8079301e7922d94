/**
 * Local mode's own JumpStart content bucket, `jumpstart-cache-prod-<region>`, seeded at every
 * stack start (the same objects written again: idempotent), so deploying by JumpStart model id
 * through the gateway runs offline, and a client reading the bucket as the SDK does (boto3,
 * test/conformance/jumpstart_cache.py) finds what it finds on AWS.
 *
 * The objects follow the format of JumpStart's public bucket as aws/sagemaker-python-sdk reads
 * it (at a24812666d258d9d19c9a82d0c9385ca0bd3ba01, sagemaker-core/src/sagemaker/core/jumpstart/):
 * - `models_manifest.json` (constants.py:118 `JUMPSTART_DEFAULT_MANIFEST_FILE_S3_KEY`): a list of
 *   `{model_id, version, min_version, spec_key}` (types.py:201-211 `JumpStartModelHeader.from_json`);
 * - one spec file per version (types.py:1300-1420 `JumpStartMetadataBaseFields.from_json`):
 *   hosting artefact keys, `inference_environment_variables` (types.py:363-374
 *   `JumpStartEnvironmentVariable.from_json`: name, type, default, scope,
 *   required_for_model_class) and `hosting_instance_type_variants` (types.py:513-525:
 *   `regional_aliases` of `$alias` image URIs per region, `variants` per instance family or
 *   type, read by `_get_regional_property`, types.py:854-923), shaped like the SDK's own FLAN-T5
 *   fixture (tests/unit/sagemaker/jumpstart/constants.py at 8326c232e7cd5f18688772e7516cf792b993b685,
 *   lines 5766-6340: `huggingface-text2text-flan-t5-base` 2.2.3).
 *
 * FLAN-T5 1.x versions run on the Hugging Face inference image with JumpStart's inference.py
 * (the list contract); 2.x versions on TGI (`huggingface-pytorch-tgi-inference`), which the
 * local runtime serves as emulated TGI. The values look real but are local: every spec says so
 * in `usage_info_message` (which the SDK logs), and no model weights are stored.
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import { putText } from '../sagemaker/s3-io.js'

/** The models local mode's catalog lists. */
export const LOCAL_JUMPSTART_MODELS = ['huggingface-text2text-flan-t5-large', 'huggingface-text2text-flan-t5-base'] as const
/** Versions of each: 1.x on the list container, 2.x on TGI; `*` resolves to the last. */
export const LOCAL_JUMPSTART_VERSIONS = ['1.0.0', '1.2.3', '2.0.0', '2.3.7'] as const

/** SageMaker's deep learning containers' account in most regions (the registry of the images below). */
const DLC_ACCOUNT = '763104351884'
const HF_INFERENCE_GPU = 'huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04'
const HF_INFERENCE_CPU = 'huggingface-pytorch-inference:1.10.2-transformers4.17.0-cpu-py38-ubuntu20.04'
const HF_TGI = 'huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const GPU_FAMILIES = ['g4dn', 'g5', 'g6', 'p3', 'p4d']
const CPU_FAMILIES = ['c5', 'm5']
const NOTE = 'Local mode\'s JumpStart catalog (text2text-gateway): served by the local stack\'s emulated containers; no model weights are stored.'

/** The content bucket of `region` (region_config.json `content_bucket`). */
export function localContentBucket (region: string): string {
  return `jumpstart-cache-prod-${region}`
}

const ecr = (region: string, image: string): string => `${DLC_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${image}`
const envVar = (name: string, type: 'text' | 'int', value: string | number, required: boolean): Record<string, unknown> =>
  ({ name, type, default: value, scope: 'container', required_for_model_class: required })
/** The SageMaker inference toolkit's settings every FLAN-T5 spec carries, 1.x and 2.x alike. */
const TOOLKIT_ENV = [
  envVar('SAGEMAKER_PROGRAM', 'text', 'inference.py', true),
  envVar('SAGEMAKER_SUBMIT_DIRECTORY', 'text', '/opt/ml/model/code', false),
  envVar('SAGEMAKER_CONTAINER_LOG_LEVEL', 'text', '20', false),
  envVar('SAGEMAKER_MODEL_SERVER_TIMEOUT', 'text', '3600', false),
  envVar('ENDPOINT_SERVER_TIMEOUT', 'int', 3600, true),
  envVar('MODEL_CACHE_ROOT', 'text', '/opt/ml/model', true),
  envVar('SAGEMAKER_ENV', 'text', '1', true)
]
const specKey = (modelId: string, version: string): string => `community_models/${modelId}/specs_v${version}.json`
const short = (modelId: string): string => modelId.replace('huggingface-text2text-', '')

/** The spec file of `modelId` at `version` in `region`. */
export function localSpec (modelId: string, version: string, region: string): Record<string, unknown> {
  const common = {
    model_id: modelId,
    url: `https://huggingface.co/google/${short(modelId)}`,
    version,
    training_supported: false,
    incremental_training_supported: false,
    inference_vulnerable: false,
    inference_dependencies: [],
    inference_vulnerabilities: [],
    deprecated: false,
    usage_info_message: NOTE,
    default_inference_instance_type: 'ml.g5.2xlarge',
    supported_inference_instance_types: ['ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g5.12xlarge', 'ml.p3.2xlarge'],
    predictor_specs: { supported_content_types: ['application/json'], supported_accept_types: ['application/json'], default_content_type: 'application/json', default_accept_type: 'application/json' },
    resource_name_base: `hf-text2text-${short(modelId)}`
  }
  if (version.startsWith('1.')) {
    return {
      ...common,
      min_sdk_version: '2.144.0',
      hosting_ecr_specs: { framework: 'huggingface', framework_version: '1.10.2', py_version: 'py38', huggingface_transformers_version: '4.17.0' },
      hosting_artifact_key: `huggingface-infer/infer-${modelId}.tar.gz`,
      hosting_script_key: 'source-directory-tarballs/huggingface/inference/text2text/v1.1.2/sourcedir.tar.gz',
      hosting_prepacked_artifact_key: `huggingface-infer/prepack/v${version}/infer-prepack-${modelId}.tar.gz`,
      hosting_prepacked_artifact_version: version,
      inference_environment_variables: [...TOOLKIT_ENV, envVar('SAGEMAKER_MODEL_SERVER_WORKERS', 'int', 1, true)],
      hosting_instance_type_variants: {
        regional_aliases: { [region]: { gpu_ecr_uri_1: ecr(region, HF_INFERENCE_GPU), cpu_ecr_uri_1: ecr(region, HF_INFERENCE_CPU) } },
        variants: Object.fromEntries([
          ...GPU_FAMILIES.map(f => [f, { regional_properties: { image_uri: '$gpu_ecr_uri_1' } }]),
          ...CPU_FAMILIES.map(f => [f, { regional_properties: { image_uri: '$cpu_ecr_uri_1' } }])
        ])
      }
    }
  }
  return {
    ...common,
    min_sdk_version: '2.189.0',
    hosting_ecr_specs: { framework: 'huggingface-llm', framework_version: '1.4.0', py_version: 'py310', huggingface_transformers_version: '4.33.2' },
    hosting_artifact_key: `huggingface-text2text/${modelId}/artifacts/inference/v2.0.0/`,
    hosting_script_key: 'source-directory-tarballs/huggingface/inference/text2text/v2.0.0/sourcedir.tar.gz',
    hosting_prepacked_artifact_key: `huggingface-text2text/${modelId}/artifacts/inference-prepack/v2.0.0/`,
    hosting_prepacked_artifact_version: '2.0.0',
    hosting_use_script_uri: false,
    inference_environment_variables: [
      ...TOOLKIT_ENV,
      envVar('HF_MODEL_ID', 'text', '/opt/ml/model', true),
      envVar('SM_NUM_GPUS', 'text', '1', true),
      envVar('MAX_INPUT_LENGTH', 'text', '1024', true),
      envVar('MAX_TOTAL_TOKENS', 'text', '2048', true),
      envVar('SAGEMAKER_MODEL_SERVER_WORKERS', 'int', 1, true)
    ],
    hosting_instance_type_variants: {
      regional_aliases: { [region]: { gpu_ecr_uri_1: ecr(region, HF_TGI) } },
      variants: {
        ...Object.fromEntries(GPU_FAMILIES.map(f => [f, { regional_properties: { image_uri: '$gpu_ecr_uri_1' } }])),
        'ml.g5.12xlarge': { properties: { environment_variables: { SM_NUM_GPUS: '4' } } },
        'ml.g5.24xlarge': { properties: { environment_variables: { SM_NUM_GPUS: '4' } } },
        'ml.g5.48xlarge': { properties: { environment_variables: { SM_NUM_GPUS: '8' } } }
      }
    }
  }
}

/** `models_manifest.json` of the local catalog. */
export function localManifest (): Array<Record<string, string>> {
  return LOCAL_JUMPSTART_MODELS.flatMap(modelId => LOCAL_JUMPSTART_VERSIONS.map(version => ({
    model_id: modelId,
    version,
    min_version: version.startsWith('1.') ? '2.144.0' : '2.189.0',
    spec_key: specKey(modelId, version)
  })))
}

/** Creates the region's content bucket in the local S3 (if absent) and writes the manifest and specs. */
export async function seedJumpStartCache (s3: S3Client, region: string): Promise<string> {
  const bucket = localContentBucket(region)
  // the local S3 answers 200 to re-creating a bucket it has (s3.ts), as AWS does in us-east-1
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  const manifest = localManifest()
  await Promise.all(manifest.map(async line => { await putText(s3, bucket, line.spec_key, JSON.stringify(localSpec(line.model_id, line.version, region)), 'application/json') }))
  // the manifest last: a reader that finds it finds every spec it names
  await putText(s3, bucket, 'models_manifest.json', JSON.stringify(manifest), 'application/json')
  return bucket
}
