// The deploy option `contract`: an image whose contract the gateway cannot detect
// (src/sagemaker/contracts/detect.ts) is deployed only when the request names its contract,
// which is written on the endpoint as the tag t2t:contract (src/endpoints/tags.ts) for the
// real-time path to use instead of detection; without it the deploy is a 400 naming
// body.model.image, the reason and the option, and nothing is created in SageMaker. Judged by
// the local control plane through the AWS SDK for JavaScript (ListTags, DescribeModel:
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListTags.html).
import t from 'tap'
import { DescribeEndpointCommand, DescribeModelCommand, ListTagsCommand } from '@aws-sdk/client-sagemaker'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const CUSTOM = { image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/my-own-server:3', modelDataUrl: 's3://models/flan/model.tar.gz', role: ROLE }

t.test('an unknown image: 400 naming the field and the option without it; deployed and tagged with it', async t => {
  const { app, stack } = await localApp(t, { ENDPOINT_CACHE_MS: 0 })
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })

  const refused = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'custom-ep', model: CUSTOM, instanceType: 'ml.g5.xlarge' } })
  t.equal(refused.statusCode, 400, refused.body)
  t.match(refused.json(), { code: 'INVALID_REQUEST', message: /^body\.model\.image "111122223333\.dkr\.ecr\.us-east-1\.amazonaws\.com\/my-own-server:3": the image .* is not one whose contract the gateway knows .*body\.contract \(jumpstart-list, tgi, lmi-rolling, lmi-dynamic\)/ })
  const nothing = await control.send(new DescribeModelCommand({ ModelName: 'custom-ep' })).then(() => 'exists', (e: Error) => e.name)
  t.equal(nothing, 'ValidationException', 'no model was created')

  // the Hugging Face image without JumpStart's inference.py speaks the toolkit's own contract: refused too, with that reason
  const toolkit = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'toolkit-ep', model: { ...CUSTOM, image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04' }, instanceType: 'ml.g5.xlarge' } })
  t.equal(toolkit.statusCode, 400)
  t.match(toolkit.json().message, /^body\.model\.image .*SAGEMAKER_PROGRAM=inference\.py/)

  const chosen = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'custom-ep', model: CUSTOM, contract: 'tgi', instanceType: 'ml.g5.xlarge' } })
  t.equal(chosen.statusCode, 202, chosen.body)
  t.match(chosen.json(), { name: 'custom-ep', contract: { name: 'tgi', source: 'explicit' } })
  const arn = (await control.send(new DescribeEndpointCommand({ EndpointName: 'custom-ep' }))).EndpointArn
  const tags = Object.fromEntries(((await control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []).map(x => [x.Key, x.Value]))
  t.equal(tags['t2t:contract'], 'tgi', 'the explicit contract is on the endpoint')
  t.notOk('t2t:detected-contract' in tags, 'nothing was guessed')

  const badName = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'custom-2', model: CUSTOM, contract: 'openai', instanceType: 'ml.g5.xlarge' } })
  t.equal(badName.statusCode, 400)
  t.match(badName.json().message, /^body\.contract must be one of "jumpstart-list", "tgi", "lmi-rolling", "lmi-dynamic" \(got "openai"\)/)

  const existing = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'reuse-ep', model: { name: 'flan-t5-local' }, contract: 'jumpstart-list', instanceType: 'ml.g5.xlarge' } })
  t.equal(existing.statusCode, 202, existing.body)
  t.match(existing.json(), { contract: { name: 'jumpstart-list', source: 'explicit' } }, 'an existing model with its contract named')
  const known = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'known-ep', model: { ...CUSTOM, image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04' }, instanceType: 'ml.g5.xlarge' } })
  t.equal(known.statusCode, 202, known.body)
  t.match(known.json(), { contract: { name: 'tgi', source: 'detected' } }, 'a known image needs no option')
})
