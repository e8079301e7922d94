// OpenAI's `model` is an endpoint name here; a Batch Transform job needs the SageMaker model
// behind the endpoint (CreateTransformJob's ModelName:
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html), which
// need not share its name: on AWS they differ whenever an endpoint serves an existing model.
import t from 'tap'
import { listeningApp } from '../helpers/local-app.js'
import { batchLine, fileLines, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'

t.test('a batch on a deployed endpoint runs its jobs on the model behind that endpoint', async t => {
  const { url, app } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 200, ENDPOINT_CACHE_MS: 0 })
  const deployed = await app.inject({ method: 'POST', url: '/v1/endpoints', payload: { name: 'flan-demo', model: { name: 'flan-t5-local' }, instanceType: 'ml.g5.xlarge' } })
  t.equal(deployed.statusCode, 202, deployed.body)
  for (let i = 0; i < 200; i++) {
    if ((await app.inject({ method: 'GET', url: '/v1/endpoints/flan-demo' })).json().status === 'InService') break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const client = openAiClient(url, 'any')
  const file = await uploadBatchFile(client, [batchLine('a', { model: 'flan-demo', prompt: 'The bridge reopened today. Traffic was heavy.', max_tokens: 4 })])
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  const { batch } = await waitForBatch(client, created.id)
  t.equal(batch.status, 'completed')
  const [line] = await fileLines(client, batch.output_file_id as string)
  t.equal(line?.response.body.model, 'flan-demo', 'the response names the endpoint the caller asked for')
  const jobs = (await app.inject({ method: 'GET', url: '/v1/transform-jobs' })).json().jobs as Array<{ name: string, model: string }>
  t.same(jobs.map(j => j.model), ['flan-t5-local'], 'the job ran on the endpoint\'s model')
})

t.test('a batch naming no InService endpoint is refused at creation: 404 model_not_found', async t => {
  const { url } = await listeningApp(t)
  const client = openAiClient(url, 'any')
  const file = await uploadBatchFile(client, [batchLine('a', { model: 'no-such-endpoint', prompt: 'Text.' })])
  const res = await fetch(`${url}/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' }) })
  t.equal(res.status, 404)
  t.match(await res.json(), { error: { code: 'model_not_found', param: 'model' } })
})
