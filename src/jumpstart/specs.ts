/**
 * A JumpStart model's spec file (the JSON `models_manifest.json` points at) and what the
 * gateway derives from it for a real-time endpoint, as the SageMaker Python SDK does for
 * inference (aws/sagemaker-python-sdk, sagemaker-core/src/sagemaker/core/jumpstart/, and
 * src/sagemaker/jumpstart/ before v3):
 * - the image: `hosting_instance_type_variants` (types.py `JumpStartInstanceTypeVariants.get_image_uri`
 *   → `_get_regional_property`): the variant of the instance type, else of its family
 *   (`ml.g5.2xlarge` → `g5`, common_utils.py `get_instance_type_family`), names a `$alias`
 *   that `regional_aliases[region]` resolves; without variants, `hosting_ecr_uri`
 *   (artifacts/image_uris.py `_retrieve_image_uri`, inference scope). `hosting_ecr_specs`
 *   alone (framework, version) needs the SDK's framework image tables: refused, named.
 * - the model data: `hosting_prepacked_artifact_key` when the spec has one (types.py
 *   `supports_prepacked_inference`, artifacts/model_uris.py `_retrieve_model_uri`), else
 *   `hosting_artifact_key` when `hosting_use_script_uri` is false; an instance variant's
 *   `prepacked_artifact_key`/`artifact_key` first; the key lives in the region's content bucket.
 *   A key ending in `/` is an uncompressed S3 prefix (factory/model.py
 *   `_add_model_data_to_kwargs`: `S3DataType: S3Prefix, CompressionType: None`).
 * - the environment: every `inference_environment_variables` default as a string (Python
 *   `str()`), as artifacts/environment_variables.py `_retrieve_default_environment_variables`
 *   gives a caller of CreateModel (`include_aws_sdk_env_vars=True`, the default of
 *   `sagemaker.environment_variables.retrieve_default`), then the instance variant's
 *   `environment_variables` (family, then exact type) over them.
 * Pure: no AWS calls.
 */

/** One line of `models_manifest.json` (types.py `JumpStartModelHeader`). */
export interface ManifestEntry {
  model_id: string
  version: string
  min_version: string
  spec_key: string
}

/** An `inference_environment_variables` entry (types.py `JumpStartEnvironmentVariable`). */
export interface SpecEnvironmentVariable {
  name: string
  type: string
  default: unknown
  scope: string
  required_for_model_class?: boolean
}

/** Properties of one instance type or family in `hosting_instance_type_variants.variants`. */
export interface VariantProperties {
  regional_properties?: Record<string, string>
  properties?: {
    image_uri?: string
    prepacked_artifact_key?: string
    artifact_key?: string
    environment_variables?: Record<string, string>
  }
}

/** The fields of a spec file the gateway reads (types.py `JumpStartModelSpecs`); others are kept unread. */
export interface ModelSpec {
  model_id: string
  version: string
  hosting_ecr_uri?: string
  hosting_ecr_specs?: Record<string, unknown>
  hosting_artifact_key?: string
  hosting_prepacked_artifact_key?: string
  hosting_use_script_uri?: boolean
  inference_environment_variables?: SpecEnvironmentVariable[]
  hosting_instance_type_variants?: {
    regional_aliases?: Record<string, Record<string, string>>
    variants?: Record<string, VariantProperties>
  }
  hosting_model_package_arns?: Record<string, string>
  inference_configs?: unknown
  deprecated?: boolean
  deprecated_message?: string
  inference_vulnerable?: boolean
  inference_vulnerabilities?: string[]
  gated_bucket?: boolean
  hosting_eula_key?: string
}

/** Where the model artefacts are, as CreateModel takes them. */
export type ModelData =
  | { kind: 'url', url: string }
  | { kind: 'prefix', uri: string }

/** What a spec says to deploy in one region on one instance type. */
export interface DeployPlan {
  modelId: string
  version: string
  image: string
  modelData: ModelData
  environment: Record<string, string>
}

/** A spec that cannot be deployed as asked; `field` is the request field the caller can change. */
export class SpecRefusal extends Error {
  override readonly name = 'SpecRefusal'
  constructor (readonly field: 'version' | 'instanceType' | 'modelId', message: string) {
    super(message)
  }
}

/** `ml.g5.2xlarge` → `g5` (common_utils.py `get_instance_type_family`: `^ml[._]([a-z\d-]+)\.?\w*$`). */
export function instanceFamily (instanceType: string): string {
  return /^ml[._]([a-z\d-]+)\.?\w*$/.exec(instanceType)?.[1] ?? ''
}

/** Python's `str()` of a JSON default (booleans are `True`/`False`, null is `None`). */
function pythonStr (value: unknown): string {
  if (typeof value === 'string') return value
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (value === null || value === undefined) return 'None'
  return typeof value === 'number' ? String(value) : JSON.stringify(value)
}

/** A variant property of the exact instance type, else of its family (types.py `_get_instance_specific_property`). */
function variantProperty (spec: ModelSpec, instanceType: string, name: 'prepacked_artifact_key' | 'artifact_key'): string | undefined {
  const variants = spec.hosting_instance_type_variants?.variants
  if (variants === undefined) return undefined
  const exact = variants[instanceType]?.properties?.[name]
  if (exact !== undefined && exact !== '') return exact
  const family = instanceFamily(instanceType)
  return family === '' ? undefined : variants[family]?.properties?.[name]
}

/** The inference image for `region` and `instanceType`, or undefined when the spec has none. */
export function imageUri (spec: ModelSpec, region: string, instanceType: string): string | undefined {
  const table = spec.hosting_instance_type_variants
  if (table?.variants !== undefined) {
    const family = instanceFamily(instanceType)
    const aliases = table.regional_aliases
    const lookup = (key: string): string | undefined => aliases !== undefined
      ? table.variants?.[key]?.regional_properties?.image_uri
      : table.variants?.[key]?.properties?.image_uri
    const found = lookup(instanceType) ?? (family === '' ? undefined : lookup(family))
    if (found !== undefined && found !== '') {
      if (aliases === undefined) return found
      // an alias without its leading `$` is bad metadata: the SDK treats the field as absent
      if (!found.startsWith('$')) return undefined
      return aliases[region]?.[found.slice(1)]
    }
  }
  return spec.hosting_ecr_uri
}

/** The environment CreateModel gets: the spec's inference defaults, then the instance variant's. */
export function environmentOf (spec: ModelSpec, instanceType: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const v of spec.inference_environment_variables ?? []) env[v.name] = pythonStr(v.default)
  const variants = spec.hosting_instance_type_variants?.variants
  const family = instanceFamily(instanceType)
  Object.assign(env, family === '' ? {} : variants?.[family]?.properties?.environment_variables, variants?.[instanceType]?.properties?.environment_variables)
  return env
}

/** The model data for inference, in `bucket` (the region's content bucket) unless the key is a whole s3:// URI. */
export function modelDataOf (spec: ModelSpec, instanceType: string, bucket: string): ModelData {
  const prepacked = variantProperty(spec, instanceType, 'prepacked_artifact_key') ?? spec.hosting_prepacked_artifact_key
  let key: string | undefined
  if (prepacked !== undefined) {
    key = prepacked
  } else if (spec.hosting_use_script_uri === false) {
    key = variantProperty(spec, instanceType, 'artifact_key') ?? spec.hosting_artifact_key
  } else {
    // the SDK would repack the artefacts with a separately downloaded inference script
    // (hosting_script_key, SAGEMAKER_SUBMIT_DIRECTORY): a step the gateway does not take
    throw new SpecRefusal('version', `${spec.model_id} version ${spec.version} has no prepacked inference artefacts (it needs the SDK to add its inference script); choose a version that has them`)
  }
  if (key === undefined || key === '') throw new SpecRefusal('version', `${spec.model_id} version ${spec.version} names no inference artefacts`)
  const uri = /^s3:\/\//.test(key) ? key : `s3://${bucket}/${key}`
  return uri.endsWith('/') ? { kind: 'prefix', uri } : { kind: 'url', url: uri }
}

/** What to deploy for `spec` in `region` on `instanceType`; throws SpecRefusal naming what the caller can change. */
export function deployPlan (spec: ModelSpec, region: string, instanceType: string, bucket: string): DeployPlan {
  const id = `${spec.model_id} version ${spec.version}`
  if (spec.deprecated === true) throw new SpecRefusal('version', `${id} is deprecated${spec.deprecated_message !== undefined ? `: ${spec.deprecated_message}` : ''}; choose another version`)
  if (spec.inference_vulnerable === true) throw new SpecRefusal('version', `${id} has inference dependencies with known vulnerabilities (${(spec.inference_vulnerabilities ?? []).join(', ')}); choose another version`)
  if (spec.gated_bucket === true || spec.hosting_eula_key !== undefined) throw new SpecRefusal('modelId', `${id} is gated behind an end-user licence agreement, which the gateway cannot accept for you`)
  if (spec.hosting_model_package_arns?.[region] !== undefined) throw new SpecRefusal('modelId', `${id} is deployed from a model package in ${region}, which the gateway does not do`)
  // the SDK deploys the top-ranked inference config's fields over the base ones (types.py JumpStartModelSpecs)
  if (spec.inference_configs !== undefined && spec.inference_configs !== null) throw new SpecRefusal('version', `${id} carries inference configs, which the gateway does not resolve yet; choose a version without them`)
  const image = imageUri(spec, region, instanceType)
  if (image === undefined) {
    const reason = spec.hosting_ecr_specs !== undefined && spec.hosting_instance_type_variants === undefined
      ? ' (the spec names only a framework, hosting_ecr_specs, which needs the SDK\'s image tables)'
      : ''
    throw new SpecRefusal('instanceType', `no inference image for ${id} on ${instanceType} in ${region}${reason}; try another instance type or region`)
  }
  return { modelId: spec.model_id, version: spec.version, image, modelData: modelDataOf(spec, instanceType, bucket), environment: environmentOf(spec, instanceType) }
}
