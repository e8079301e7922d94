// Deploying by JumpStart model id through the gateway in local mode, judged by the AWS SDK for
// JavaScript: the model the local control plane holds (DescribeModel) has what the model's spec
// in local mode's `jumpstart-cache-prod-us-east-1` names for the version asked (`*` → 2.3.7 on
// TGI, `1.*` → 1.2.3 on the list container), and the endpoint answers in that contract
// (InvokeEndpoint). AWS API reference: CreateModel / DescribeModel, ContainerDefinition
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html:
// ModelDataUrl, or ModelDataSource.S3DataSource with S3DataType S3Prefix and CompressionType None
// for uncompressed artefacts), InvokeEndpoint
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
// What a version resolves to: aws/sagemaker-python-sdk jumpstart cache.py (_select_version) and
// artifacts/{image_uris,model_uris,environment_variables}.py.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { DescribeModelCommand, ListTagsCommand, DescribeEndpointCommand } from '@aws-sdk/client-sagemaker'
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { createControlClient, createS3Client, LOCAL_CREDENTIALS } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const LARGE = 'huggingface-text2text-flan-t5-large'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const LIST_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04'
const ARTICLE = 'The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. The line will connect the airport with the central station.'

async function waitFor (app: FastifyInstance, name: string, status: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const res = await app.inject({ method: 'GET', url: `/v1/endpoints/${name}` })
    const body = res.json<Record<string, unknown>>()
    if (body.status === status) return body
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${name} never reached ${status}`)
}

const deployBody = (name: string, jumpstart: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ name, model: { jumpstart, role: ROLE, ...extra }, instanceType: 'ml.g5.2xlarge' })

t.test('version "*" deploys 2.x on TGI and "1.*" the newest 1.x on the list container; each answers in its contract', async t => {
  const { app, stack } = await localApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 300, ENDPOINT_CACHE_MS: 0, SHED_EVENT_LOOP_DELAY_MS: 0 })
  const control = createControlClient(stack.awsTarget)
  const runtime = new SageMakerRuntimeClient({ region: stack.awsTarget.region, endpoint: stack.awsTarget.sagemakerEndpoint, credentials: LOCAL_CREDENTIALS })
  t.teardown(() => { control.destroy(); runtime.destroy() })

  const tgi = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('flan-js-tgi', { modelId: LARGE, version: '*' }) })
  t.equal(tgi.statusCode, 202, tgi.body)
  t.match(tgi.json(), { name: 'flan-js-tgi', model: 'flan-js-tgi', jumpstart: { modelId: LARGE, version: '2.3.7', requestedVersion: '*' }, contract: { name: 'tgi', source: 'detected' } })
  const tgiModel = await control.send(new DescribeModelCommand({ ModelName: 'flan-js-tgi' }))
  t.equal(tgiModel.PrimaryContainer?.Image, TGI_IMAGE, 'the TGI image of us-east-1 (the local region), from the g5 variant')
  t.same(tgiModel.PrimaryContainer?.ModelDataSource, { S3DataSource: { S3Uri: `s3://jumpstart-cache-prod-us-east-1/huggingface-text2text/${LARGE}/artifacts/inference-prepack/v2.0.0/`, S3DataType: 'S3Prefix', CompressionType: 'None' } }, 'the prepacked artefacts, an uncompressed S3 prefix')
  t.equal(tgiModel.PrimaryContainer?.ModelDataUrl, undefined)
  t.match(tgiModel.PrimaryContainer?.Environment, { MAX_INPUT_LENGTH: '1024', MAX_TOTAL_TOKENS: '2048', SM_NUM_GPUS: '1', HF_MODEL_ID: '/opt/ml/model', SAGEMAKER_PROGRAM: 'inference.py', ENDPOINT_SERVER_TIMEOUT: '3600', SAGEMAKER_MODEL_SERVER_WORKERS: '1' })
  t.equal(tgiModel.ExecutionRoleArn, ROLE)

  const list = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('flan-js-list', { modelId: LARGE, version: '1.*' }, { environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '2' } }) })
  t.equal(list.statusCode, 202, list.body)
  t.match(list.json(), { jumpstart: { modelId: LARGE, version: '1.2.3', requestedVersion: '1.*' }, contract: { name: 'jumpstart-list', source: 'detected' } })
  const listModel = await control.send(new DescribeModelCommand({ ModelName: 'flan-js-list' }))
  t.equal(listModel.PrimaryContainer?.Image, LIST_IMAGE)
  t.equal(listModel.PrimaryContainer?.ModelDataUrl, `s3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.2.3/infer-prepack-${LARGE}.tar.gz`)
  t.match(listModel.PrimaryContainer?.Environment, { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code', MODEL_CACHE_ROOT: '/opt/ml/model' })
  t.equal(listModel.PrimaryContainer?.Environment?.SAGEMAKER_MODEL_SERVER_WORKERS, '2', 'the caller\'s environment wins over the spec\'s default')
  t.equal(listModel.PrimaryContainer?.Environment?.MAX_INPUT_LENGTH, undefined, '1.x has no TGI settings')

  const endpointTags = async (name: string): Promise<Record<string, string>> => {
    const arn = (await control.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointArn
    const tags = (await control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []
    return Object.fromEntries(tags.map(x => [x.Key ?? '', x.Value ?? '']))
  }
  t.match(await endpointTags('flan-js-tgi'), { 't2t:jumpstart-model': LARGE, 't2t:jumpstart-version': '2.3.7', 't2t:jumpstart-requested-version': '*', 't2t:detected-contract': 'tgi' })
  t.notOk('t2t:contract' in await endpointTags('flan-js-tgi'), 'no explicit contract was chosen')

  await waitFor(app, 'flan-js-tgi', 'InService')
  await waitFor(app, 'flan-js-list', 'InService')
  const tgiOut = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'flan-js-tgi', ContentType: 'application/json', Body: JSON.stringify({ inputs: `Summarize: ${ARTICLE}`, parameters: { max_new_tokens: 30 } }) }))
  const tgiAnswer = JSON.parse(Buffer.from(tgiOut.Body ?? []).toString('utf8')) as unknown
  t.match(tgiAnswer, [{ generated_text: String }], 'TGI: one generation in a list')
  t.equal((tgiAnswer as unknown[]).length, 1)
  const listOut = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'flan-js-list', ContentType: 'application/json', Body: JSON.stringify({ text_inputs: [ARTICLE, 'One more. Two sentences.'], max_length: 30 }) }))
  const listAnswer = JSON.parse(Buffer.from(listOut.Body ?? []).toString('utf8')) as unknown
  t.ok(Array.isArray(listAnswer) && listAnswer.length === 2, `the list contract: one answer per input (${JSON.stringify(listAnswer)})`)

  const shown = (await app.inject({ method: 'GET', url: '/v1/endpoints' })).json<{ endpoints: Array<Record<string, unknown>> }>()
  t.match(shown.endpoints.find(e => e.name === 'flan-js-tgi'), { jumpstart: { version: '2.3.7' }, contract: { name: 'tgi' } }, 'the list says which JumpStart version each runs')

  const again = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('flan-js-tgi', { modelId: LARGE, version: '*' }) })
  t.equal(again.statusCode, 202)
  t.equal(again.headers['idempotent-replayed'], 'true', 'the same request again is a replay')
  const noVersion = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('flan-js-tgi', { modelId: LARGE }) })
  t.equal(noVersion.statusCode, 202, `no version is "*": the same request ${noVersion.body}`)
  t.equal(noVersion.headers['idempotent-replayed'], 'true')
  const other = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('flan-js-tgi', { modelId: LARGE, version: '1.*' }) })
  t.equal(other.statusCode, 409, 'another version under the same name is another request')

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/endpoints/flan-js-tgi' })
  t.equal(deleted.statusCode, 202, deleted.body)
  const gone = await control.send(new DescribeModelCommand({ ModelName: 'flan-js-tgi' })).then(() => 'exists', (e: Error) => e.name)
  t.equal(gone, 'ValidationException', 'the model the gateway created went with the endpoint')
})

t.test('what cannot be resolved is a 400 naming the field, with what exists', async t => {
  const { app } = await localApp(t, { ENDPOINT_CACHE_MS: 0 })
  const deploy = async (body: Record<string, unknown>): Promise<{ statusCode: number, body: { code: string, message: string } }> => {
    const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: body })
    return { statusCode: res.statusCode, body: res.json() }
  }
  const unknownId = await deploy(deployBody('js-bad-id', { modelId: 'huggingface-text2text-flan-t5-larg', version: '*' }))
  t.equal(unknownId.statusCode, 400)
  t.match(unknownId.body, { code: 'INVALID_REQUEST', message: /^body\.model\.jumpstart\.modelId "huggingface-text2text-flan-t5-larg": JumpStart in us-east-1 has no such model .*did you mean "huggingface-text2text-flan-t5-large"\?/ })

  const unknownVersion = await deploy(deployBody('js-bad-version', { modelId: LARGE, version: '3.*' }))
  t.equal(unknownVersion.statusCode, 400)
  t.match(unknownVersion.body, { code: 'INVALID_REQUEST', message: /^body\.model\.jumpstart\.version "3\.\*": huggingface-text2text-flan-t5-large has no such version in us-east-1; available: 2\.3\.7, 2\.0\.0, 1\.2\.3, 1\.0\.0/ })

  const exactMissing = await deploy(deployBody('js-bad-exact', { modelId: LARGE, version: '2.3.8' }))
  t.match(exactMissing, { statusCode: 400, body: { message: /^body\.model\.jumpstart\.version "2\.3\.8"/ } })

  const notAVersion = await deploy(deployBody('js-latest', { modelId: LARGE, version: 'latest' }))
  t.equal(notAVersion.statusCode, 400)
  t.equal(notAVersion.body.message, 'body.model.jumpstart.version must match ^(\\*|[0-9]+(\\.[0-9]+)*(\\.\\*)?)$ (got "latest")', 'the JumpStart branch\'s own error, not the other model shapes\'')

  const cpu = await deploy({ ...deployBody('js-cpu', { modelId: LARGE, version: '2.*' }), instanceType: 'ml.m5.xlarge' })
  t.equal(cpu.statusCode, 400)
  t.match(cpu.body.message, /^body\.instanceType "ml\.m5\.xlarge": no inference image for huggingface-text2text-flan-t5-large version 2\.3\.7 on ml\.m5\.xlarge in us-east-1/)
  const cpuList = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { ...deployBody('js-cpu-list', { modelId: LARGE, version: '1.0.0' }), instanceType: 'ml.m5.xlarge' } })
  t.equal(cpuList.statusCode, 202, `1.x has a CPU image: ${cpuList.body}`)
  t.match(cpuList.json(), { jumpstart: { version: '1.0.0' }, contract: { name: 'jumpstart-list' } })
})

t.test('the catalog bucket unreadable: 502 naming it, nothing created', async t => {
  const { app, stack } = await localApp(t, { ENDPOINT_CACHE_MS: 0 })
  const s3 = createS3Client(stack.awsTarget)
  t.teardown(() => { s3.destroy() })
  await s3.send(new DeleteObjectCommand({ Bucket: 'jumpstart-cache-prod-us-east-1', Key: 'models_manifest.json' }))
  const res = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: deployBody('js-no-catalog', { modelId: LARGE }) })
  t.equal(res.statusCode, 502, res.body)
  t.match(res.json(), { code: 'UPSTREAM_ERROR', message: /JumpStart catalog of us-east-1 has no s3:\/\/jumpstart-cache-prod-us-east-1\/models_manifest\.json/ })
  const listed = (await app.inject({ method: 'GET', url: '/v1/endpoints' })).json<{ endpoints: Array<{ name: string }> }>()
  t.notOk(listed.endpoints.some(e => e.name === 'js-no-catalog'), 'no endpoint was created')
})
