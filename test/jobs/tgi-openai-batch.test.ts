// An OpenAI batch (official `openai` npm client: files.create, batches.create; Batch API
// https://platform.openai.com/docs/api-reference/batch) whose `model` is an endpoint serving a
// TGI model (JumpStart FLAN-T5 2.x) runs as a transform job on that model, each request its own
// TGI request body, joined back by id (DataProcessing,
// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html), and its
// output file answers each custom_id with its own completion.
import t from 'tap'
import { CreateModelCommand, DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { listeningApp } from '../helpers/local-app.js'
import { batchLine, fileLines, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'

const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const WORDS = ['quartz', 'lagoon', 'meadow', 'tundra', 'canyon']
const article = (word: string): string => `The ${word} survey began early. Each ${word} sample was logged. The ${word} crew slept well.`

t.test('an OpenAI batch on a TGI endpoint: one TGI request per line, the output file answers each custom_id with its own text', async t => {
  const { url, app, stack } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 200, ENDPOINT_CACHE_MS: 0 })
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await sm.send(new CreateModelCommand({ ModelName: 'flan-t5-large-2x', PrimaryContainer: { Image: TGI_IMAGE, Environment: { MAX_INPUT_LENGTH: '1024' } }, ExecutionRoleArn: ROLE }))
  const deployed = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'flan-tgi', model: { name: 'flan-t5-large-2x' }, instanceType: 'ml.g5.xlarge' } })
  t.equal(deployed.statusCode, 202, deployed.body)
  for (let i = 0; i < 200; i++) {
    if ((await app.inject({ method: 'GET', url: '/v1/endpoints/flan-tgi' })).json().status === 'InService') break
    await new Promise(resolve => setTimeout(resolve, 50))
  }

  const client = openAiClient(url, 'any')
  // custom_ids in no order
  const ids = ['req-9', 'req-2', 'req-17', 'req-1', 'req-5']
  const file = await uploadBatchFile(client, ids.map((id, i) => batchLine(id, { model: 'flan-tgi', prompt: article(WORDS[i]), max_tokens: 12 })))
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed', JSON.stringify(batch))
  t.same(batch.request_counts, { total: 5, completed: 5, failed: 0 })

  const jobs = (await app.inject({ method: 'GET', url: '/v1/transform-jobs' })).json().jobs as Array<{ name: string, model: string }>
  t.same(jobs.map(j => j.model), ['flan-t5-large-2x'], 'the job ran on the endpoint\'s TGI model')
  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: jobs[0].name }))
  t.equal(described.BatchStrategy, 'SingleRecord')
  t.equal(described.MaxConcurrentTransforms, 16, 'the batch keeps TGI busy: MAX_CONCURRENT_REQUESTS within SageMaker\'s 100 MB / 6 MB')
  t.equal(described.DataProcessing?.JoinSource, 'Input')
  t.equal(described.Environment?.HYPER_PARAMS, undefined)
  t.equal(stack.jobs.stats().modelCalls, 5, 'one TGI request per batch line')

  const lines = await fileLines(client, batch.output_file_id as string)
  const byId = new Map(lines.map(l => [l.custom_id as string, l]))
  t.same([...byId.keys()].sort(), [...ids].sort())
  ids.forEach((id, i) => {
    const line = byId.get(id)
    t.equal(line?.response.status_code, 200, id)
    t.equal(line?.response.body.model, 'flan-tgi')
    const text = String(line?.response.body.choices[0].text)
    t.ok(text.includes(WORDS[i]), `${id} answered from its own prompt: ${text}`)
    t.notOk(WORDS.some((w, j) => j !== i && text.includes(w)), `${id} holds no other line's text`)
    t.ok(text.split(/\s+/).filter(w => w !== '').length <= 12, `${id} within max_tokens (max_new_tokens)`)
  })

  // a line TGI cannot honour (n 2 without sampling: TGI has no beam search) in the second group:
  // the batch is refused whole at create, naming the line and OpenAI's field, and no job starts
  const before = (await app.inject({ method: 'GET', url: '/v1/transform-jobs' })).json().jobs.length as number
  const mixed = await uploadBatchFile(client, [batchLine('ok-1', { model: 'flan-tgi', prompt: article('quartz'), max_tokens: 8 }), batchLine('greedy-2', { model: 'flan-tgi', prompt: article('lagoon'), max_tokens: 8, n: 2 })], 'mixed.jsonl')
  const refused = await client.batches.create({ input_file_id: mixed.id, endpoint: '/v1/completions', completion_window: '24h' }).then(() => undefined, (e: unknown) => e as { status?: number, message?: string })
  t.equal(refused?.status, 400)
  t.match(refused?.message, /line 2 \(custom_id "greedy-2"\): body\.n /)
  t.equal((await app.inject({ method: 'GET', url: '/v1/transform-jobs' })).json().jobs.length, before, 'no transform job was submitted')
})
