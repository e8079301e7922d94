// Models, endpoint configs and endpoints on the local control plane, judged by the real
// @aws-sdk/client-sagemaker (its deserialisers and its waiters) and the runtime client:
// the calls the SageMaker Python SDK's model.deploy() / delete_endpoint() / delete_model() make.
// Behaviour and messages follow the SageMaker API reference: CreateModel, CreateEndpointConfig,
// CreateEndpoint, DescribeEndpoint (EndpointStatus), UpdateEndpoint, DeleteEndpoint
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html and siblings).
import t from 'tap'
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTransformJobCommand, DeleteEndpointCommand,
  DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, ListEndpointsCommand,
  ListModelsCommand, ListTagsCommand, UpdateEndpointCommand, UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted, waitUntilEndpointInService
} from '@aws-sdk/client-sagemaker'
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LOCAL_CREDENTIALS } from '../../src/sagemaker/clients.js'
import { openLocalStack, tempDir, transformJobInput } from '../helpers/local-sagemaker.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const CONTAINER = { Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04', ModelDataUrl: 's3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.0.2/infer-prepack-huggingface-text2text-flan-t5-xl.tar.gz', Environment: { SAGEMAKER_PROGRAM: 'inference.py', MODEL_CACHE_ROOT: '/opt/ml/model' } }

async function rejection (p: Promise<unknown>): Promise<{ name: string, message: string }> {
  return await p.then(() => ({ name: 'resolved', message: '' }), (err: Error) => ({ name: err.name, message: err.message }))
}

t.test('deploy, invoke, update, scale, delete: as model.deploy() and delete_endpoint() do it', async t => {
  const dir = await tempDir(t, 't2t-ep-')
  const { stack, sm, close } = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 300 })
  const runtime = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: stack.awsTarget.sagemakerEndpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 })
  t.teardown(() => { runtime.destroy() })
  const invoke = async (name: string): Promise<string> => {
    const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: name, ContentType: 'application/json', Body: JSON.stringify({ text_inputs: ['The bridge reopened today. Traffic was heavy.'], max_length: 5 }) }))
    return new TextDecoder().decode(out.Body)
  }

  const model = await sm.send(new CreateModelCommand({ ModelName: 'flan-t5-xl-m', PrimaryContainer: CONTAINER, ExecutionRoleArn: ROLE, Tags: [{ Key: 'team', Value: 'nlp' }] }))
  t.equal(model.ModelArn, 'arn:aws:sagemaker:us-east-1:000000000000:model/flan-t5-xl-m')
  const described = await sm.send(new DescribeModelCommand({ ModelName: 'flan-t5-xl-m' }))
  t.same(described.PrimaryContainer?.Environment, CONTAINER.Environment)
  t.equal(described.ExecutionRoleArn, ROLE)
  t.ok(described.CreationTime instanceof Date)
  t.same((await sm.send(new ListTagsCommand({ ResourceArn: model.ModelArn }))).Tags, [{ Key: 'team', Value: 'nlp' }])
  const again = await rejection(sm.send(new CreateModelCommand({ ModelName: 'flan-t5-xl-m', PrimaryContainer: CONTAINER, ExecutionRoleArn: ROLE })))
  t.same(again, { name: 'ValidationException', message: 'Cannot create already existing model "arn:aws:sagemaker:us-east-1:000000000000:model/flan-t5-xl-m".' })
  t.same((await sm.send(new ListModelsCommand({ SortBy: 'Name', SortOrder: 'Ascending' }))).Models?.map(m => m.ModelName), ['flan-t5-local', 'flan-t5-xl-m'], 'the built-in model is there too')

  const noModel = await rejection(sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'nope', InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] })))
  t.same(noModel, { name: 'ValidationException', message: 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/nope".' })
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'flan-cfg', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'flan-t5-xl-m', InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] }))
  const configAgain = await rejection(sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'flan-cfg', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'flan-t5-xl-m', InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] })))
  t.match(configAgain.message, /^Cannot create already existing endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config\/flan-cfg"\.$/)
  const noConfig = await rejection(sm.send(new CreateEndpointCommand({ EndpointName: 'flan-ep', EndpointConfigName: 'missing-cfg' })))
  t.match(noConfig.message, /^Could not find endpoint configuration "arn:.*:endpoint-config\/missing-cfg"\.$/)

  await sm.send(new CreateEndpointCommand({ EndpointName: 'flan-ep', EndpointConfigName: 'flan-cfg' }))
  t.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))).EndpointStatus, 'Creating')
  const early = await rejection(invoke('flan-ep'))
  t.same(early, { name: 'ValidationError', message: 'Endpoint flan-ep of account 000000000000 not found.' }, 'not invocable while Creating')
  const epAgain = await rejection(sm.send(new CreateEndpointCommand({ EndpointName: 'flan-ep', EndpointConfigName: 'flan-cfg' })))
  t.match(epAgain.message, /^Cannot create already existing endpoint "arn:.*:endpoint\/flan-ep"\.$/)

  const waited = await waitUntilEndpointInService({ client: sm, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.2 }, { EndpointName: 'flan-ep' })
  t.equal(waited.state, 'SUCCESS', 'the SDK\'s endpoint_in_service waiter succeeds')
  const live = await sm.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))
  t.equal(live.EndpointStatus, 'InService')
  t.equal(live.ProductionVariants?.[0]?.CurrentInstanceCount, 1)
  t.equal(live.EndpointConfigName, 'flan-cfg')
  t.match(await invoke('flan-ep'), /^\[\["The bridge reopened today\. Traffic"\]\]$/, 'InService: InvokeEndpoint reaches the model')
  // ListEndpoints lists every endpoint of the account, the stack's built-in one too (created at the epoch, so last by CreationTime)
  t.same((await sm.send(new ListEndpointsCommand({ StatusEquals: 'InService' }))).Endpoints?.map(e => e.EndpointName), ['flan-ep', 'flan-t5-local'])

  // a restart keeps it
  await close()
  const reopened = await openLocalStack(t, dir, { LOCAL_ENDPOINT_TRANSITION_MS: 300 })
  t.equal((await reopened.sm.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))).EndpointStatus, 'InService', 'state survives a restart')
  const sm2 = reopened.sm

  await sm2.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'flan-ep', DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredInstanceCount: 3 }] }))
  t.equal((await sm2.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))).EndpointStatus, 'Updating')
  const busy = await rejection(sm2.send(new UpdateEndpointCommand({ EndpointName: 'flan-ep', EndpointConfigName: 'flan-cfg' })))
  t.match(busy.message, /^Cannot update in-progress endpoint "arn:.*:endpoint\/flan-ep"\.$/)
  await waitUntilEndpointInService({ client: sm2, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.2 }, { EndpointName: 'flan-ep' })
  t.equal((await sm2.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))).ProductionVariants?.[0]?.CurrentInstanceCount, 3, 'scaled to 3')

  await sm2.send(new DeleteEndpointCommand({ EndpointName: 'flan-ep' }))
  t.equal((await sm2.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' }))).EndpointStatus, 'Deleting')
  const gone = await waitUntilEndpointDeleted({ client: sm2, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.2 }, { EndpointName: 'flan-ep' })
  t.equal(gone.state, 'SUCCESS', 'the SDK\'s endpoint_deleted waiter succeeds')
  const missing = await rejection(sm2.send(new DescribeEndpointCommand({ EndpointName: 'flan-ep' })))
  t.same(missing, { name: 'ValidationException', message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/flan-ep".' })
  t.match((await rejection(sm2.send(new DeleteEndpointCommand({ EndpointName: 'flan-ep' })))).message, /^Could not find endpoint/)
  await sm2.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'flan-cfg' }))
  await sm2.send(new DeleteModelCommand({ ModelName: 'flan-t5-xl-m' }))
  t.same(await rejection(sm2.send(new DescribeModelCommand({ ModelName: 'flan-t5-xl-m' }))), { name: 'ValidationException', message: 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/flan-t5-xl-m".' })
})

t.test('an endpoint whose model is deleted before it comes up fails, with a reason', async t => {
  const { sm } = await openLocalStack(t, await tempDir(t, 't2t-ep-'), { LOCAL_ENDPOINT_TRANSITION_MS: 200 })
  await sm.send(new CreateModelCommand({ ModelName: 'brief', PrimaryContainer: CONTAINER, ExecutionRoleArn: ROLE }))
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'brief-cfg', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'brief', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }] }))
  await sm.send(new CreateEndpointCommand({ EndpointName: 'brief-ep', EndpointConfigName: 'brief-cfg' }))
  await sm.send(new DeleteModelCommand({ ModelName: 'brief' }))
  const result = await waitUntilEndpointInService({ client: sm, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.2 }, { EndpointName: 'brief-ep' }).then(() => 'in service', (err: Error) => err.message)
  t.match(result, /FAILURE/, 'the waiter reports the failure')
  const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'brief-ep' }))
  t.equal(d.EndpointStatus, 'Failed')
  t.match(d.FailureReason, /model .*brief.* does not exist/)
})

t.test('validation in AWS\'s words; jobs take any model that exists', async t => {
  const { stack, sm, s3 } = await openLocalStack(t, await tempDir(t, 't2t-ep-'))
  const bad = await rejection(sm.send(new CreateModelCommand({ ModelName: 'bad_name', PrimaryContainer: CONTAINER, ExecutionRoleArn: 'role' })))
  t.equal(bad.name, 'ValidationException')
  t.match(bad.message, /^3 validation errors detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: .*; Value 'role' at 'executionRoleArn' failed to satisfy constraint: Member must have length greater than or equal to 20/)
  const badType = await rejection(sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'flan-t5-local', InstanceType: 'g5' as 'ml.g5.xlarge', InitialInstanceCount: 0 }] })))
  t.match(badType.message, /Value 'g5' at 'productionVariants\.1\.member\.instanceType'.*Value '0' at 'productionVariants\.1\.member\.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/)

  await sm.send(new CreateModelCommand({ ModelName: 'my-flan', PrimaryContainer: CONTAINER, ExecutionRoleArn: ROLE }))
  await s3.send(new PutObjectCommand({ Bucket: stack.awsTarget.bucket, Key: 'in/a.jsonl', Body: '{"id":1,"text_inputs":"One sentence. Two."}\n' }))
  const job = await sm.send(new CreateTransformJobCommand(transformJobInput('with-my-model', 'in/', 'out/', { ModelName: 'my-flan' })))
  t.match(job.TransformJobArn, /transform-job\/with-my-model$/, 'a job over a created model')
  const noModel = await rejection(sm.send(new CreateTransformJobCommand(transformJobInput('no-model', 'in/', 'out2/', { ModelName: 'nobody' }))))
  t.same(noModel, { name: 'ValidationException', message: 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/nobody".' })
})

t.test('the built-in endpoint is an InService endpoint like any other, in every data directory', async t => {
  const dir = await tempDir(t, 't2t-ep-built-in-')
  const first = await openLocalStack(t, dir)
  const described = await first.sm.send(new DescribeEndpointCommand({ EndpointName: 'flan-t5-local' }))
  t.match(described, { EndpointName: 'flan-t5-local', EndpointConfigName: 'flan-t5-local', EndpointStatus: 'InService', ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 1 }] })
  t.equal(described.CreationTime?.getTime(), 0, 'created at the epoch, as the gateway has always shown it')
  const config = await first.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'flan-t5-local' }))
  t.match(config.ProductionVariants?.[0], { ModelName: 'flan-t5-local', InstanceType: 'local', InitialInstanceCount: 1 }, 'it serves the built-in model on the SageMaker SDK\'s local instance type')
  const tags = (await first.sm.send(new ListTagsCommand({ ResourceArn: described.EndpointArn }))).Tags
  t.same(tags, [{ Key: 't2t:billed-instance-seconds', Value: '0' }, { Key: 't2t:billed-count', Value: '1' }], 'a capacity ledger held at zero, and no managed-by tag')
  await first.close()

  // a data directory written before the endpoint was describable gets it on the next start
  const file = join(dir, 'control-plane', 'resources.json')
  const doc = JSON.parse(await readFile(file, 'utf8')) as { endpoints: Record<string, unknown>, endpointConfigs: Record<string, unknown>, tags: Record<string, unknown> }
  doc.endpoints = {}
  doc.endpointConfigs = {}
  doc.tags = {}
  await writeFile(file, JSON.stringify(doc))
  const again = await openLocalStack(t, dir)
  t.equal((await again.sm.send(new DescribeEndpointCommand({ EndpointName: 'flan-t5-local' }))).EndpointStatus, 'InService')
})
