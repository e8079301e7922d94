// boto3 reads local mode's JumpStart content bucket as the SageMaker Python SDK's cache does
// (test/conformance/jumpstart_cache.py: s3 get_object of models_manifest.json, the version
// chosen with packaging's SpecifierSet and Version as the SDK's _select_version, then the
// spec_key it names), and what it derives for each version is what the gateway deploys
// (DescribeModel of an endpoint deployed by id). S3 API reference, GetObject:
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html.
import { execFile, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { DescribeModelCommand } from '@aws-sdk/client-sagemaker'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'

const SCRIPT = fileURLToPath(new URL('./jumpstart_cache.py', import.meta.url))
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const MODEL_ID = 'huggingface-text2text-flan-t5-large'

const python = spawnSync('python3', ['-c', 'import boto3, packaging.specifiers'], { stdio: 'ignore' })
const skip = python.status === 0 ? false : 'python3 with boto3 and packaging is not available (apt-get install python3-boto3 python3-packaging; .ci/run does)'

interface Derived { asked: string, version: string, spec_key: string, image: string, model_data: string, environment: Record<string, string> }

t.test('boto3 reads the manifest and the spec it names; the gateway deploys what it says', { skip }, async t => {
  const { app, stack, dataDir } = await localApp(t, { ENDPOINT_CACHE_MS: 0 })
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dataDir,
    S3_ENDPOINT_URL: stack.s3.url,
    REGION: stack.awsTarget.region,
    MODEL_ID,
    INSTANCE_TYPE: 'ml.g5.2xlarge',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_CONFIG_FILE: `${dataDir}/aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dataDir}/aws-credentials`,
    AWS_EC2_METADATA_DISABLED: 'true'
  }
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
    execFile('python3', [SCRIPT], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
  t.equal(run.code, 0, `jumpstart_cache.py exited ${String(run.code)}:\n${run.stdout}\n${run.stderr.slice(-3000)}`)
  const derived = run.stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Derived)
  t.same(derived.map(d => [d.asked, d.version]), [['*', '2.3.7'], ['1.*', '1.2.3'], ['2.0.0', '2.0.0']], 'packaging picks the versions the gateway picks')
  t.match(derived[0], { spec_key: `community_models/${MODEL_ID}/specs_v2.3.7.json`, image: /huggingface-pytorch-tgi-inference:2\.1\.1-tgi1\.4\.0-gpu-py310-cu121-ubuntu20\.04$/, environment: { MAX_INPUT_LENGTH: '1024', MAX_TOTAL_TOKENS: '2048' } })

  for (const d of derived) {
    const name = `boto3-js-${d.version.replaceAll('.', '-')}`
    const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name, model: { jumpstart: { modelId: MODEL_ID, version: d.asked }, role: ROLE }, instanceType: 'ml.g5.2xlarge' } })
    t.equal(res.statusCode, 202, res.body)
    const model = await control.send(new DescribeModelCommand({ ModelName: name }))
    const container = model.PrimaryContainer
    t.equal(container?.Image, d.image, `${d.asked}: the image boto3's reading names`)
    t.equal(container?.ModelDataUrl ?? container?.ModelDataSource?.S3DataSource?.S3Uri, d.model_data, `${d.asked}: the model data`)
    t.same(container?.Environment, d.environment, `${d.asked}: the environment, every default as Python's str() prints it`)
  }
})
