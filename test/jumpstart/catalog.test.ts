// Resolving a JumpStart model id and version over a catalog written here, in the format the
// SageMaker Python SDK reads (aws/sagemaker-python-sdk, sagemaker-core/src/sagemaker/core/jumpstart/:
// types.py JumpStartModelHeader and JumpStartModelSpecs, JumpStartInstanceTypeVariants.get_image_uri
// / _get_regional_property / get_instance_specific_environment_variables; artifacts/model_uris.py
// _retrieve_model_uri; artifacts/environment_variables.py _retrieve_default_environment_variables),
// served by the local S3: region-specific images, the instance family fallback, model data,
// environment, refusals naming the field, and the in-memory cache.
import t from 'tap'
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { JumpStartCatalog } from '../../src/jumpstart/catalog.js'
import { createS3Client, LOCAL_CREDENTIALS } from '../../src/sagemaker/clients.js'
import { deployPlan, environmentOf, imageUri, instanceFamily, type ModelSpec } from '../../src/jumpstart/specs.js'
import { localS3 } from '../helpers/local-s3.js'

const BUCKET = 'jumpstart-cache-prod-eu-west-1'

const SPEC: ModelSpec & Record<string, unknown> = {
  model_id: 'acme-text2text-small',
  version: '2.1.0',
  hosting_prepacked_artifact_key: 'acme/small/artifacts/inference-prepack/v2/',
  hosting_artifact_key: 'acme/small/artifacts/inference/v2/',
  hosting_use_script_uri: false,
  inference_environment_variables: [
    { name: 'MAX_INPUT_LENGTH', type: 'text', default: '512', scope: 'container', required_for_model_class: true },
    { name: 'ENDPOINT_SERVER_TIMEOUT', type: 'int', default: 3600, scope: 'container', required_for_model_class: true },
    { name: 'TRUST_REMOTE_CODE', type: 'bool', default: false, scope: 'container', required_for_model_class: false },
    { name: 'SM_NUM_GPUS', type: 'text', default: '1', scope: 'container' }
  ],
  hosting_instance_type_variants: {
    regional_aliases: {
      'eu-west-1': { gpu_image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04', big_gpu_image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:big' },
      'us-west-2': { gpu_image: '444455556666.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04' }
    },
    variants: {
      g5: { regional_properties: { image_uri: '$gpu_image' }, properties: { environment_variables: { SM_NUM_GPUS: '1', FAMILY: 'g5' } } },
      'ml.g5.12xlarge': { regional_properties: { image_uri: '$big_gpu_image' }, properties: { environment_variables: { SM_NUM_GPUS: '4' }, prepacked_artifact_key: 'acme/small/artifacts/inference-prepack/v2-multi-gpu/' } },
      p3: { regional_properties: { image_uri: 'gpu_image' } }
    }
  }
}

t.test('the image is the instance type\'s or its family\'s alias, resolved for the region', async t => {
  t.equal(instanceFamily('ml.g5.2xlarge'), 'g5')
  t.equal(instanceFamily('ml.p4d.24xlarge'), 'p4d')
  t.equal(imageUri(SPEC, 'eu-west-1', 'ml.g5.2xlarge'), '111122223333.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04', 'the family g5')
  t.equal(imageUri(SPEC, 'us-west-2', 'ml.g5.2xlarge'), '444455556666.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04', 'another region, its own registry')
  t.equal(imageUri(SPEC, 'eu-west-1', 'ml.g5.12xlarge'), '111122223333.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:big', 'the exact type before its family')
  t.equal(imageUri(SPEC, 'us-west-2', 'ml.g5.12xlarge'), undefined, 'the alias is missing in that region')
  t.equal(imageUri(SPEC, 'ap-south-1', 'ml.g5.2xlarge'), undefined, 'a region the spec does not list')
  t.equal(imageUri(SPEC, 'eu-west-1', 'ml.m5.xlarge'), undefined, 'no variant for the family')
  t.equal(imageUri(SPEC, 'eu-west-1', 'ml.p3.2xlarge'), undefined, 'an alias without "$" is bad metadata: no image')
  t.equal(imageUri({ ...SPEC, hosting_instance_type_variants: undefined, hosting_ecr_uri: 'x.dkr.ecr.eu-west-1.amazonaws.com/img:1' }, 'eu-west-1', 'ml.g5.2xlarge'), 'x.dkr.ecr.eu-west-1.amazonaws.com/img:1', 'hosting_ecr_uri without variants')
  t.equal(imageUri({ ...SPEC, hosting_instance_type_variants: { variants: { g5: { properties: { image_uri: 'plain/image:1' } } } } }, 'eu-west-1', 'ml.g5.xlarge'), 'plain/image:1', 'without regional aliases, the variant\'s own image_uri')
})

t.test('the environment: every inference default as Python prints it, then the family\'s, then the type\'s', async t => {
  t.same(environmentOf(SPEC, 'ml.g5.2xlarge'), { MAX_INPUT_LENGTH: '512', ENDPOINT_SERVER_TIMEOUT: '3600', TRUST_REMOTE_CODE: 'False', SM_NUM_GPUS: '1', FAMILY: 'g5' })
  t.same(environmentOf(SPEC, 'ml.g5.12xlarge'), { MAX_INPUT_LENGTH: '512', ENDPOINT_SERVER_TIMEOUT: '3600', TRUST_REMOTE_CODE: 'False', SM_NUM_GPUS: '4', FAMILY: 'g5' })
})

t.test('the model data: the prepacked artefacts (the type\'s first), a prefix or a tar.gz, in the region\'s bucket', async t => {
  t.same(deployPlan(SPEC, 'eu-west-1', 'ml.g5.2xlarge', BUCKET).modelData, { kind: 'prefix', uri: `s3://${BUCKET}/acme/small/artifacts/inference-prepack/v2/` })
  t.same(deployPlan(SPEC, 'eu-west-1', 'ml.g5.12xlarge', BUCKET).modelData, { kind: 'prefix', uri: `s3://${BUCKET}/acme/small/artifacts/inference-prepack/v2-multi-gpu/` })
  const tarball = { ...SPEC, hosting_prepacked_artifact_key: 'acme/prepack/v1/infer-prepack-small.tar.gz' }
  t.same(deployPlan(tarball, 'eu-west-1', 'ml.g5.2xlarge', BUCKET).modelData, { kind: 'url', url: `s3://${BUCKET}/acme/prepack/v1/infer-prepack-small.tar.gz` })
  const unpacked = { ...SPEC, hosting_prepacked_artifact_key: undefined }
  t.same(deployPlan(unpacked, 'eu-west-1', 'ml.g5.2xlarge', BUCKET).modelData, { kind: 'prefix', uri: `s3://${BUCKET}/acme/small/artifacts/inference/v2/` }, 'hosting_use_script_uri false: the artefacts as they are')
  t.throws(() => deployPlan({ ...unpacked, hosting_use_script_uri: undefined }, 'eu-west-1', 'ml.g5.2xlarge', BUCKET), { name: 'SpecRefusal', field: 'version', message: /no prepacked inference artefacts/ })
})

t.test('specs the gateway cannot deploy are refused with the field to change', async t => {
  t.throws(() => deployPlan({ ...SPEC, deprecated: true, deprecated_message: 'use 3.x' }, 'eu-west-1', 'ml.g5.2xlarge', BUCKET), { field: 'version', message: /is deprecated: use 3\.x/ })
  t.throws(() => deployPlan({ ...SPEC, inference_vulnerable: true, inference_vulnerabilities: ['torch==1.0'] }, 'eu-west-1', 'ml.g5.2xlarge', BUCKET), { field: 'version', message: /known vulnerabilities \(torch==1\.0\)/ })
  t.throws(() => deployPlan({ ...SPEC, hosting_eula_key: 'eula.txt' }, 'eu-west-1', 'ml.g5.2xlarge', BUCKET), { field: 'modelId', message: /licence agreement/ })
  t.throws(() => deployPlan(SPEC, 'eu-west-1', 'ml.m5.large', BUCKET), { field: 'instanceType', message: /no inference image for acme-text2text-small version 2\.1\.0 on ml\.m5\.large in eu-west-1/ })
  t.throws(() => deployPlan({ ...SPEC, hosting_instance_type_variants: undefined, hosting_ecr_specs: { framework: 'huggingface' } }, 'eu-west-1', 'ml.g5.2xlarge', BUCKET), { field: 'instanceType', message: /hosting_ecr_specs/ })
})

t.test('S3 unreachable: 502 naming the catalog, the network error kept as the cause', async t => {
  const dead = createS3Client({ region: 'eu-west-1', s3Endpoint: 'http://127.0.0.1:9', credentials: LOCAL_CREDENTIALS })
  t.teardown(() => { dead.destroy() })
  const err = await new JumpStartCatalog({ s3: dead, region: 'eu-west-1' }).resolve('acme-text2text-small', '*', 'ml.g5.2xlarge').catch((e: unknown) => e)
  t.match(err, { code: 'UPSTREAM_ERROR', statusCode: 502, message: 'the JumpStart catalog of eu-west-1 cannot be read (s3://jumpstart-cache-prod-eu-west-1/models_manifest.json)' })
  t.match((err as Error).cause, { code: 'ECONNREFUSED' })
})

t.test('the catalog in S3: manifest, then the spec it names; cached; errors name the field', async t => {
  const local = await localS3(t)
  const s3 = createS3Client({ region: 'eu-west-1', s3Endpoint: local.url, credentials: LOCAL_CREDENTIALS })
  t.teardown(() => { s3.destroy() })
  const raw = new S3Client({ region: 'eu-west-1', endpoint: local.url, credentials: LOCAL_CREDENTIALS, forcePathStyle: true })
  t.teardown(() => { raw.destroy() })
  const put = async (key: string, body: unknown): Promise<void> => { await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(body) })) }
  const noCatalog = new JumpStartCatalog({ s3, region: 'eu-west-1' })
  await t.rejects(noCatalog.resolve('acme-text2text-small', '*', 'ml.g5.2xlarge'), { code: 'UPSTREAM_ERROR', message: /JumpStart catalog of eu-west-1 has no s3:\/\/jumpstart-cache-prod-eu-west-1\/models_manifest\.json/ }, 'no such bucket: 502')

  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }))
  const versions = ['1.0.0', '2.0.0', '2.1.0']
  await put('models_manifest.json', [
    ...versions.map(v => ({ model_id: 'acme-text2text-small', version: v, min_version: '2.189.0', spec_key: `community_models/acme-text2text-small/specs_v${v}.json` })),
    { model_id: 'acme-text2text-large', version: '1.0.0', min_version: '2.189.0', spec_key: 'community_models/acme-text2text-large/specs_v1.0.0.json' }
  ])
  for (const v of versions) await put(`community_models/acme-text2text-small/specs_v${v}.json`, { ...SPEC, version: v, hosting_prepacked_artifact_key: `acme/small/prepack/v${v}/` })

  let now = 1_000_000
  const catalog = new JumpStartCatalog({ s3, region: 'eu-west-1', cacheMs: 60_000, now: () => now })
  const plan = await catalog.resolve('acme-text2text-small', '*', 'ml.g5.2xlarge')
  t.match(plan, { modelId: 'acme-text2text-small', version: '2.1.0', image: /eu-west-1.*tgi/, modelData: { kind: 'prefix', uri: `s3://${BUCKET}/acme/small/prepack/v2.1.0/` }, environment: { MAX_INPUT_LENGTH: '512' } })
  t.equal((await catalog.resolve('acme-text2text-small', '1.*', 'ml.g5.2xlarge')).version, '1.0.0')
  t.equal((await catalog.resolve('acme-text2text-small', '2.0', 'ml.g5.2xlarge')).version, '2.0.0')

  await t.rejects(catalog.resolve('acme-text2text-smal', '*', 'ml.g5.2xlarge'), { code: 'INVALID_REQUEST', message: /^body\.model\.jumpstart\.modelId "acme-text2text-smal": .*did you mean "acme-text2text-small"\?/ })
  await t.rejects(catalog.resolve('acme-text2text-small', '3.*', 'ml.g5.2xlarge'), { code: 'INVALID_REQUEST', message: /^body\.model\.jumpstart\.version "3\.\*": acme-text2text-small has no such version in eu-west-1; available: 2\.1\.0, 2\.0\.0, 1\.0\.0/ })
  await t.rejects(catalog.resolve('acme-text2text-small', '*', 'ml.m5.large'), { code: 'INVALID_REQUEST', message: /^body\.instanceType "ml\.m5\.large": no inference image/ })

  // a new version published: the cached manifest hides it until a miss re-reads it (as the SDK retries once)
  await put('models_manifest.json', [...versions, '2.2.0'].map(v => ({ model_id: 'acme-text2text-small', version: v, min_version: '2.189.0', spec_key: `community_models/acme-text2text-small/specs_v${v}.json` })))
  await put('community_models/acme-text2text-small/specs_v2.2.0.json', { ...SPEC, version: '2.2.0' })
  now += 10_000
  t.equal((await catalog.resolve('acme-text2text-small', '*', 'ml.g5.2xlarge')).version, '2.1.0', '"*" within the cache time: the cached manifest')
  t.equal((await catalog.resolve('acme-text2text-small', '2.2.0', 'ml.g5.2xlarge')).version, '2.2.0', 'a version missing from the cached copy reads the manifest again')
  t.equal((await catalog.resolve('acme-text2text-small', '*', 'ml.g5.2xlarge')).version, '2.2.0')

  // cached specs survive the object's deletion until they expire
  await raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'community_models/acme-text2text-small/specs_v2.2.0.json' }))
  t.equal((await catalog.resolve('acme-text2text-small', '2.2.0', 'ml.g5.2xlarge')).version, '2.2.0', 'from memory')
  now += 60_000
  await t.rejects(catalog.resolve('acme-text2text-small', '2.2.0', 'ml.g5.2xlarge'), { code: 'UPSTREAM_ERROR', message: /has no s3:\/\/jumpstart-cache-prod-eu-west-1\/community_models\/acme-text2text-small\/specs_v2\.2\.0\.json/ }, 'expired: read again')

  await put('models_manifest.json', { not: 'a list' })
  now += 60_000
  await t.rejects(catalog.resolve('acme-text2text-small', '*', 'ml.g5.2xlarge'), { code: 'UPSTREAM_ERROR', message: /models_manifest\.json is not a JSON list/ })
})
