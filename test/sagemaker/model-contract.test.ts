// modelContract: DescribeModel's PrimaryContainer (or Containers[0]) through detectContract, against
// the local control plane as an AWS SDK client sees it
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModel.html).
import t from 'tap'
import { CreateModelCommand } from '@aws-sdk/client-sagemaker'
import { modelContract } from '../../src/sagemaker/contracts/index.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

t.test('DescribeModel → contract; an unknown model is undefined', async (t) => {
  const { sm: control } = await openLocalStack(t, await tempDir(t))
  const role = 'arn:aws:iam::123456789012:role/SageMakerRole'
  await control.send(new CreateModelCommand({ ModelName: 'tgi-m', ExecutionRoleArn: role, PrimaryContainer: { Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04', ModelDataUrl: 's3://b/m.tar.gz', Environment: { MAX_CONCURRENT_REQUESTS: '16' } } }))
  await control.send(new CreateModelCommand({ ModelName: 'odd-m', ExecutionRoleArn: role, Containers: [{ Image: 'example.com/mine:1', ModelDataUrl: 's3://b/m.tar.gz' }] }))
  const tgi = await modelContract(control, 'tgi-m')
  t.equal(tgi?.known === true ? tgi.contract.name : undefined, 'tgi')
  t.equal(tgi?.known === true ? tgi.contract.maxConcurrentPerInstance : undefined, 16)
  const odd = await modelContract(control, 'odd-m')
  t.equal(odd?.known, false)
  t.match(odd?.known === false ? odd.reason : '', /example\.com\/mine:1/)
  t.equal(await modelContract(control, 'no-such-model'), undefined)
})

t.test('a chosen contract (the model\'s t2t:contract tag, or the caller\'s) wins over detection and keeps the container\'s own limits', async (t) => {
  const { sm: control } = await openLocalStack(t, await tempDir(t))
  const role = 'arn:aws:iam::123456789012:role/SageMakerRole'
  // what POST /v1/endpoints creates for {"model": {"image": <unknown>}, "contract": "tgi"}
  await control.send(new CreateModelCommand({ ModelName: 'mine-tgi', ExecutionRoleArn: role, PrimaryContainer: { Image: 'example.com/my-tgi:2', ModelDataUrl: 's3://b/m.tar.gz', Environment: { MAX_CONCURRENT_REQUESTS: '8', MAX_BEST_OF: '1' } }, Tags: [{ Key: 't2t:contract', Value: 'tgi' }] }))
  const tagged = await modelContract(control, 'mine-tgi')
  t.equal(tagged?.known === true ? tagged.contract.name : undefined, 'tgi', 'the tag chooses: a transform job on it speaks TGI')
  t.equal(tagged?.known === true ? tagged.contract.maxConcurrentPerInstance : undefined, 8, 'with the container\'s MAX_CONCURRENT_REQUESTS, not the launcher default')
  t.equal(tagged?.known === true ? tagged.tgi?.maxBestOf : undefined, 1)
  await control.send(new CreateModelCommand({ ModelName: 'plain', ExecutionRoleArn: role, PrimaryContainer: { Image: 'example.com/other:1', ModelDataUrl: 's3://b/m.tar.gz', Environment: { MAX_CONCURRENT_REQUESTS: '4' } } }))
  const named = await modelContract(control, 'plain', 'tgi')
  t.equal(named?.known === true ? named.contract.maxConcurrentPerInstance : undefined, 4, 'a contract the caller names (endpoint tag, ENDPOINT_CONTRACTS) reads the limits too')
  t.equal((await modelContract(control, 'plain'))?.known, false, 'without either: detection, which does not know the image')
})
