// A transform job that completes without writing output, as moto's transform jobs do (they go
// to Completed and write no `<input>.out`): the local stack's job completes, then its output is
// deleted before the gateway first looks. What the gateway reports must count what the output
// holds: progress, an OpenAI batch's request_counts
// (https://platform.openai.com/docs/api-reference/batch/object), and an evaluation, which has
// nothing to score (409 NO_PREDICTIONS, not ROUGE 0).
import t from 'tap'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker'
import { createControlClient, createS3Client } from '../../src/sagemaker/clients.js'
import type { LocalStack } from '../../src/local/stack.js'
import { listeningApp } from '../helpers/local-app.js'
import { listKeys } from '../helpers/jobs.js'
import { batchLine, openAiClient, uploadBatchFile, waitForBatch } from '../helpers/openai.js'

const KEY = 'no-output-key'
const auth = { authorization: `Bearer ${KEY}` }

/** Waits (SageMaker's DescribeTransformJob, not the gateway) until the job is Completed, then deletes every object of its output. */
async function completeWithoutOutput (stack: LocalStack, name: string): Promise<number> {
  const control = createControlClient(stack.awsTarget)
  const s3 = createS3Client(stack.awsTarget)
  try {
    let output = ''
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const d = await control.send(new DescribeTransformJobCommand({ TransformJobName: name }))
      if (d.TransformJobStatus === 'Completed') { output = d.TransformOutput?.S3OutputPath ?? ''; break }
      if (d.TransformJobStatus !== 'InProgress') throw new Error(`job ${name} is ${String(d.TransformJobStatus)}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const prefix = output.replace(/^s3:\/\/[^/]+\//, '')
    const keys = await listKeys(stack, prefix)
    for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: stack.awsTarget.bucket, Key: key }))
    return keys.length
  } finally {
    control.destroy()
    s3.destroy()
  }
}

t.test('a job that completes with no output: progress 0 of 3, results say NO_OUTPUT, evaluation is 409 NO_PREDICTIONS', async t => {
  const { app, stack } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const records = [1, 2, 3].map(id => ({ id, text: `Sentence ${id} of a short article. Another one follows.` }))
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: auth, payload: { name: 'silent', input: { records }, references: { records: records.map(r => ({ id: r.id, text: r.text })) } } })
  t.equal(created.statusCode, 202, created.body)
  t.ok(await completeWithoutOutput(stack, 'silent') > 0, 'the job wrote output, now deleted')

  const job = await app.inject({ url: '/v1/transform-jobs/silent', headers: auth })
  t.equal(job.json().status, 'Completed')
  t.same(job.json().progress, { processed: 0, total: 3 }, 'progress counts what the output holds')
  const listed = await app.inject({ url: '/v1/transform-jobs', headers: auth })
  t.same(listed.json().jobs.find((j: { name: string }) => j.name === 'silent')?.progress, { processed: 0, total: 3 }, 'and so does the list')

  const results = await app.inject({ url: '/v1/transform-jobs/silent/results', headers: auth })
  t.same(results.body.trim().split('\n').map(l => JSON.parse(l).error?.code), ['NO_OUTPUT', 'NO_OUTPUT', 'NO_OUTPUT'])

  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/silent/evaluation', headers: auth, payload: {} })
  t.equal(evaluation.statusCode, 409, evaluation.body)
  t.equal(evaluation.json().code, 'NO_PREDICTIONS')
  t.match(evaluation.json().message, /no prediction for any of its 3 records/)
})

t.test('an OpenAI batch whose job completes with no output: never "completed: 2", then failed 2 of 2', async t => {
  const { url, stack } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const client = openAiClient(url, KEY)
  const file = await uploadBatchFile(client, ['r-1', 'r-2'].map(id => batchLine(id, { model: 'flan-t5-local', prompt: `Article ${id}. It has two sentences.`, max_tokens: 5 })))
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })
  await completeWithoutOutput(stack, `b-${created.id.slice('batch_'.length)}-0`)

  const first = await client.batches.retrieve(created.id)
  t.same(first.request_counts, { total: 2, completed: 0, failed: 2 }, `the first view once the job ended (${first.status})`)
  const { batch } = await waitForBatch(client, created.id)
  t.same(batch.request_counts, { total: 2, completed: 0, failed: 2 }, 'the final counts agree')
})
