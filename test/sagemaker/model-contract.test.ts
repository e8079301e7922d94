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
