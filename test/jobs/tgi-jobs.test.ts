// Transform jobs on a TGI model (JumpStart FLAN-T5 2.x: huggingface-pytorch-tgi-inference),
// through the gateway against the local stack, the model created with the AWS SDK as a user
// deploying from JumpStart would. Each record is its own request body ({"inputs","parameters"},
// BatchStrategy SingleRecord, application/json, no HYPER_PARAMS) and the results are joined
// back by id through SageMaker's DataProcessing, as "Associate Prediction Results with Input
// Records" documents it
// (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html): the
// output lines are {"id", "SageMakerOutput": [{"generated_text"}]}. A record the container
// refuses fails the job ("Batch Transform Errors",
// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html#batch-transform-errors).
import t from 'tap'
import { CreateModelCommand, DescribeTransformJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'
import { listKeys, ndjson, readObject, waitForJob } from '../helpers/jobs.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
/** The image JumpStart FLAN-T5 2.x deploys (huggingface-text2text-flan-t5-large 2.3.x). */
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'
const WORDS = ['apple', 'birch', 'cobalt', 'delta', 'ember', 'fjord', 'garnet', 'harbor']

/** An article every sentence of which names its own word, so any extract of it names that word (and no other record's). */
const article = (word: string): string => `The ${word} report opens the day. Everyone discussed the ${word} plan at length. Later the ${word} team went home.`

type Json = Record<string, unknown>

async function createModel (sm: SageMakerClient, name: string, image: string, env: Record<string, string> = {}): Promise<void> {
  await sm.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: image, Environment: env }, ExecutionRoleArn: ROLE }))
}

t.test('a job on a TGI model: one request per record, joined back by id (out of order ids), results and ROUGE as for the list model', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'flan-t5-large-tgi', TGI_IMAGE, { MAX_INPUT_LENGTH: '1024', MAX_TOTAL_TOKENS: '2048' })

  const ids: Array<string | number> = ['zeta', 42, 'alpha', 7, 'm-1', 3]
  const records = ids.map((id, i) => ({ id, text: article(WORDS[i]) }))
  // one record with its own parameters: its line carries them over the job's
  records[4] = { ...records[4], parameters: { max_length: 3 } } as typeof records[number]
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-job', model: 'flan-t5-large-tgi', input: { records }, parameters: { max_length: 40 }, references: { records: records.map(r => ({ id: r.id, text: r.text })) } } })
  t.equal(created.statusCode, 202, created.body)

  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-job' }))
  t.equal(described.BatchStrategy, 'SingleRecord', 'TGI takes one input per request')
  t.equal(described.TransformInput?.ContentType, 'application/json', 'TGI\'s JSON extractor wants application/json')
  t.equal(described.TransformInput?.SplitType, 'Line')
  t.equal(described.Environment?.HYPER_PARAMS, undefined, 'no HYPER_PARAMS: TGI does not read it')
  t.same(described.DataProcessing, { InputFilter: "$['inputs','parameters']", JoinSource: 'Input', OutputFilter: "$['id','SageMakerOutput']" })
  // one record per request: one request at a time would leave TGI's continuous batching idle;
  // the default is its MAX_CONCURRENT_REQUESTS (128) within MaxPayloadInMB (6) x
  // MaxConcurrentTransforms <= 100 (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html)
  t.equal(described.MaxConcurrentTransforms, 16, 'as many requests in flight as SageMaker allows with 6 MB payloads')
  t.same(created.json().resources, { instanceType: 'ml.g5.2xlarge', instanceCount: 1, maxConcurrentTransforms: 16, maxPayloadMB: 6 }, 'the job view shows what it runs with')

  const input = await readObject(stack, described.TransformInput?.DataSource?.S3DataSource?.S3Uri ?? '')
  const lines = ndjson(input)
  t.same(lines[0], { id: 'zeta', inputs: article('apple'), parameters: { max_new_tokens: 40 } }, 'a line is the id and TGI\'s request body, max_length as max_new_tokens')
  t.same(lines[4], { id: 'm-1', inputs: article('ember'), parameters: { max_new_tokens: 3 } }, 'a record\'s own parameters win')

  const job = await waitForJob(app, 'tgi-job')
  t.equal(job.status, 'Completed', JSON.stringify(job))
  t.same(job.progress, { processed: 6, total: 6 })

  const outputKeys = await listKeys(stack, (described.TransformOutput?.S3OutputPath ?? '').replace(/^s3:\/\/[^/]+\//, ''))
  t.equal(outputKeys.length, 1, 'one .out for the one input object')
  const output = ndjson(await readObject(stack, `s3://${stack.awsTarget.bucket}/${outputKeys[0]}`))
  t.same(output.map(l => Object.keys(l)), ids.map(() => ['id', 'SageMakerOutput']), 'each output line is the OutputFilter\'s {"id","SageMakerOutput"}')
  t.same(output.map(l => l.id), ids, 'the ids come back from the input, not from TGI')
  t.ok(output.every(l => Array.isArray(l.SageMakerOutput) && (l.SageMakerOutput as Json[]).length === 1), 'SageMakerOutput is TGI\'s [{"generated_text"}]')

  const results = await app.inject({ url: '/v1/transform-jobs/tgi-job/results' })
  t.equal(results.statusCode, 200, results.body)
  const rows = ndjson(results.body) as Array<{ id: string | number, generated_texts: string[] }>
  t.same(rows.map(r => r.id), ids, 'results in input order, by id')
  rows.forEach((r, i) => {
    t.equal(r.generated_texts.length, 1)
    const text = r.generated_texts[0]
    t.ok(text.includes(WORDS[i]) || i === 4, `record ${String(r.id)} holds its own article's text: ${text}`)
    t.notOk(WORDS.some((w, j) => j !== i && text.includes(w)), `record ${String(r.id)} holds no other record's text`)
    const words = text.split(/\s+/).filter(w => w !== '').length
    t.ok(words <= (i === 4 ? 3 : 40) && words > 0, `record ${String(r.id)}: ${words} tokens within its max_new_tokens`)
  })

  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/tgi-job/evaluation', payload: {} })
  t.equal(evaluation.statusCode, 200, evaluation.body)
  t.equal((evaluation.json() as { count?: number, records?: number }).count ?? (evaluation.json() as Json).records, 6, evaluation.body)
})

t.test('submit-time refusals on a TGI model: a parameter TGI cannot do, an unknown contract, duplicated ids', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'flan-tgi', TGI_IMAGE)
  await createModel(sm, 'mystery', '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-server:1')
  const records = [{ id: 1, text: article('apple') }, { id: 2, text: article('birch') }]
  const post = async (payload: Json): Promise<{ statusCode: number, body: string, json: () => Json }> => await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload })

  const beams = await post({ model: 'flan-tgi', input: { records }, parameters: { num_beams: 4 } })
  t.equal(beams.statusCode, 400, beams.body)
  t.equal(beams.json().code, 'INVALID_PARAMETERS')
  t.match(beams.json().message, /body\.parameters\.num_beams 4 is not supported by this endpoint's tgi contract/)

  const own = await post({ model: 'flan-tgi', input: { records: [records[0], { ...records[1], parameters: { no_repeat_ngram_size: 3 } }] } })
  t.equal(own.statusCode, 400, own.body)
  t.match(own.json().message, /body\.input\.records\[1\]\.parameters\.no_repeat_ngram_size 3 is not supported/)

  const greedyMany = await post({ model: 'flan-tgi', input: { records }, parameters: { num_return_sequences: 2 } })
  t.equal(greedyMany.statusCode, 400, greedyMany.body)
  t.match(greedyMany.json().message, /body\.parameters\.num_return_sequences 2/)

  const unknown = await post({ model: 'mystery', input: { records } })
  t.equal(unknown.statusCode, 400, unknown.body)
  t.match(unknown.json().message, /body\.model "mystery": the gateway cannot tell which container contract the model speaks: the image .*my-own-server:1 is not one whose contract the gateway knows/)

  const missing = await post({ model: 'no-such-model', input: { records } })
  t.equal(missing.statusCode, 400, missing.body)
  t.match(missing.json().message, /body\.model "no-such-model": SageMaker has no such model/)

  const dup = await post({ model: 'flan-tgi', input: { records: [records[0], { ...records[1], id: 1 }] } })
  t.equal(dup.statusCode, 400, dup.body)
  t.match(dup.json().message, /body\.input\.records\[1\]\.id 1 is duplicated/)

  await createModel(sm, 'tgi-narrow', TGI_IMAGE, { MAX_CONCURRENT_REQUESTS: '2' })
  const wide = await post({ model: 'tgi-narrow', input: { records }, resources: { maxConcurrentTransforms: 3 } })
  t.equal(wide.statusCode, 400, wide.body)
  t.match(wide.json().message, /body\.resources\.maxConcurrentTransforms 3 is more than model "tgi-narrow"'s container serves at once \(2: its tgi MAX_CONCURRENT_REQUESTS\)/)

  const upload = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: [{ id: 'x', text: 'One.' }, { id: 'y', text: 'Two.', parameters: { num_beams: 3 } }].map(l => JSON.stringify(l)).join('\n') + '\n' })
  t.equal(upload.statusCode, 201, upload.body)
  const beamsInLine = await post({ model: 'flan-tgi', input: { s3Uri: upload.json().s3Uri } })
  t.equal(beamsInLine.statusCode, 400, beamsInLine.body)
  t.equal(beamsInLine.json().code, 'INVALID_PARAMETERS')
  t.match(beamsInLine.json().message, /body\.input\.s3Uri "s3:\/\/.*\.jsonl" line 2: parameters\.num_beams 3 is not supported by this endpoint's tgi contract/)

  t.same(await listKeys(stack, 'text2text-gateway/jobs/'), [], 'nothing was written (or left) for any refusal')

  // accepted: the default MaxConcurrentTransforms follows the container's own bound
  const narrowDefault = await post({ name: 'tgi-narrow-default', model: 'tgi-narrow', input: { records } })
  t.equal(narrowDefault.statusCode, 202, narrowDefault.body)
  const narrowJob = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-narrow-default' }))
  t.equal(narrowJob.MaxConcurrentTransforms, 2, 'the default is the container\'s own MAX_CONCURRENT_REQUESTS where that is lower')
  const smallPayload = await post({ name: 'tgi-small-payload', model: 'flan-tgi', input: { records }, resources: { maxPayloadMB: 1 } })
  t.equal(smallPayload.statusCode, 202, smallPayload.body)
  t.equal((await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-small-payload' }))).MaxConcurrentTransforms, 100, '1 MB payloads: 100 in flight, SageMaker\'s cap')
  // LMI with dynamic batching (DJL: OPTION_ROLLING_BATCH=disable) batches concurrent requests up
  // to SERVING_BATCH_SIZE: one record per request at a time would leave it batches of one
  await createModel(sm, 'lmi-dynamic', '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124', { OPTION_ROLLING_BATCH: 'disable', SERVING_BATCH_SIZE: '8' })
  const dynamic = await post({ name: 'lmi-dynamic-default', model: 'lmi-dynamic', input: { records } })
  t.equal(dynamic.statusCode, 202, dynamic.body)
  t.equal((await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'lmi-dynamic-default' }))).MaxConcurrentTransforms, 8, 'SERVING_BATCH_SIZE requests in flight')
})

t.test('a record TGI refuses (422, input over MAX_INPUT_LENGTH) fails the job naming it; the list model beside it is unchanged', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'tgi-short', TGI_IMAGE, { MAX_INPUT_LENGTH: '20', MAX_TOTAL_TOKENS: '200' })
  const long = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ') + '.'
  const records = [{ id: 'ok-1', text: 'A short one.' }, { id: 'too-long', text: long }, { id: 'ok-2', text: 'Another short one.' }]
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-refused', model: 'tgi-short', input: { records } } })
  t.equal(created.statusCode, 202, created.body)
  const job = await waitForJob(app, 'tgi-refused')
  t.equal(job.status, 'Failed')
  t.match(String(job.failureReason), /Record id "too-long" \(line 2 of s3:\/\/.*\): the model container answered 422: .*must have less than 20 tokens/)
  const results = ndjson((await app.inject({ url: '/v1/transform-jobs/tgi-refused/results' })).body) as Array<{ id: string, error?: { code: string } }>
  t.same(results.map(r => [r.id, r.error?.code]), [['ok-1', 'JOB_FAILED'], ['too-long', 'JOB_FAILED'], ['ok-2', 'JOB_FAILED']], 'no output for the input file, as SageMaker')

  const list = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'list-beside', input: { records }, parameters: { max_length: 20 } } })
  t.equal(list.statusCode, 202, list.body)
  const listed = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'list-beside' }))
  t.equal(listed.BatchStrategy, 'MultiRecord')
  t.equal(listed.MaxConcurrentTransforms, 1, 'the list container batches inside each request: one at a time, as before')
  t.equal(listed.TransformInput?.ContentType, 'application/jsonlines')
  t.equal(listed.Environment?.HYPER_PARAMS, "{'max_length': 20}")
  t.same(listed.DataProcessing, { InputFilter: '$', OutputFilter: '$', JoinSource: 'None' })
  t.equal((await waitForJob(app, 'list-beside')).status, 'Completed')
  const listRows = ndjson((await app.inject({ url: '/v1/transform-jobs/list-beside/results' })).body) as Array<{ id: string, generated_texts?: string[] }>
  t.same(listRows.map(r => r.id), ['ok-1', 'too-long', 'ok-2'])
  t.ok(listRows.every(r => (r.generated_texts?.length ?? 0) === 1))
})

t.test('a dataset (POST /v1/datasets) on a TGI model: rewritten into TGI lines, joined back by id', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'tgi-dataset', TGI_IMAGE)
  const lines = [{ id: 'd-3', text: article('apple') }, { id: 'd-1', text: article('birch'), parameters: { max_length: 4 } }, { id: 'd-2', text: article('cobalt') }]
  const upload = await app.inject({ method: 'POST', url: '/v1/datasets?prompt=Summarize%3A%20', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.map(l => JSON.stringify(l)).join('\n') + '\n' })
  t.equal(upload.statusCode, 201, upload.body)
  const s3Uri = upload.json().s3Uri as string
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-dataset', model: 'tgi-dataset', input: { s3Uri }, parameters: { max_length: 20 } } })
  t.equal(created.statusCode, 202, created.body)
  t.equal(created.json().input.s3Uri, s3Uri, 'the job names the dataset it was given')
  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-dataset' }))
  const rewritten = ndjson(await readObject(stack, described.TransformInput?.DataSource?.S3DataSource?.S3Uri ?? ''))
  t.same(rewritten, [
    { id: 'd-3', inputs: 'Summarize: ' + article('apple'), parameters: { max_new_tokens: 20 } },
    { id: 'd-1', inputs: 'Summarize: ' + article('birch'), parameters: { max_new_tokens: 4 } },
    { id: 'd-2', inputs: 'Summarize: ' + article('cobalt'), parameters: { max_new_tokens: 20 } }
  ], 'the stored JumpStart lines as TGI bodies, the job-wide parameters under each line\'s own')
  const job = await waitForJob(app, 'tgi-dataset')
  t.equal(job.status, 'Completed')
  t.same(job.progress, { processed: 3, total: 3 })
  const rows = ndjson((await app.inject({ url: '/v1/transform-jobs/tgi-dataset/results' })).body) as Array<{ id: string, generated_texts: string[] }>
  t.same(rows.map(r => r.id), ['d-3', 'd-1', 'd-2'])
  t.ok(rows[0].generated_texts[0].includes('apple') && rows[2].generated_texts[0].includes('cobalt'))
  t.ok(rows[1].generated_texts[0].split(/\s+/).length <= 4, 'the line\'s own max_length')
})

t.test('truncate: inputs over MAX_INPUT_LENGTH are cut to their last n tokens by TGI, inline and from a dataset; a 400 naming body.truncate elsewhere', async t => {
  // TGI's `truncate` parameter (router/src/validation.rs: inputs over it are cut from the left);
  // without it an input over MAX_INPUT_LENGTH fails the job (the test above)
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'tgi-short', TGI_IMAGE, { MAX_INPUT_LENGTH: '20', MAX_TOTAL_TOKENS: '200' })
  const long = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ') + '.'
  const records = [{ id: 'short', text: 'A short one.' }, { id: 'long', text: long }]
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-truncated', model: 'tgi-short', input: { records }, parameters: { max_length: 40 }, truncate: 10 } })
  t.equal(created.statusCode, 202, created.body)
  t.equal(created.json().truncate, 10, 'the job shows it')
  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-truncated' }))
  const lines = ndjson(await readObject(stack, described.TransformInput?.DataSource?.S3DataSource?.S3Uri ?? ''))
  t.same(lines.map(l => (l as { parameters: unknown }).parameters), [{ max_new_tokens: 40, truncate: 10 }, { max_new_tokens: 40, truncate: 10 }], 'every TGI body carries it')
  const job = await waitForJob(app, 'tgi-truncated')
  t.equal(job.status, 'Completed', JSON.stringify(job))
  const rows = ndjson((await app.inject({ url: '/v1/transform-jobs/tgi-truncated/results' })).body) as Array<{ id: string, generated_texts: string[] }>
  t.same(rows.map(r => r.id), ['short', 'long'])
  const kept = new Set(Array.from({ length: 10 }, (_, i) => `word${20 + i}`).concat(['word29.']))
  t.ok(rows[1].generated_texts[0].split(/\s+/).every(w => kept.has(w)), `the long input was cut to its last 10 words: ${rows[1].generated_texts[0]}`)

  const upload = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: records.map(l => JSON.stringify(l)).join('\n') + '\n' })
  t.equal(upload.statusCode, 201, upload.body)
  const fromDataset = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-truncated-ds', model: 'tgi-short', input: { s3Uri: upload.json().s3Uri }, truncate: 10 } })
  t.equal(fromDataset.statusCode, 202, fromDataset.body)
  t.equal((await waitForJob(app, 'tgi-truncated-ds')).status, 'Completed')

  // TGI refuses a truncate above MAX_INPUT_LENGTH on every request, short inputs too: refused at submit
  const tooWide = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-too-wide', model: 'tgi-short', input: { records }, truncate: 25 } })
  t.equal(tooWide.statusCode, 400, tooWide.body)
  t.match(tooWide.json().message, /^body\.truncate 25 is not supported by this endpoint's tgi contract \(the container's MAX_INPUT_LENGTH is 20/)

  const onList = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { input: { records }, truncate: 10 } })
  t.equal(onList.statusCode, 400, onList.body)
  t.equal(onList.json().code, 'INVALID_PARAMETERS')
  t.match(onList.json().message, /^body\.truncate 10 is not supported by this endpoint's jumpstart-list contract/)
})

t.test('num_return_sequences 2 with sampling: best_of 2 with details, both sequences in generated_texts', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'tgi-best-of', TGI_IMAGE)
  const records = [{ id: 'one', text: article('garnet') }, { id: 'two', text: article('harbor') }]
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-best-of', model: 'tgi-best-of', input: { records }, parameters: { num_return_sequences: 2, do_sample: true, max_length: 10 } } })
  t.equal(created.statusCode, 202, created.body)
  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-best-of' }))
  const lines = ndjson(await readObject(stack, described.TransformInput?.DataSource?.S3DataSource?.S3Uri ?? ''))
  t.same(lines[0].parameters, { max_new_tokens: 10, do_sample: true, best_of: 2, details: true })
  t.equal((await waitForJob(app, 'tgi-best-of')).status, 'Completed')
  const rows = ndjson((await app.inject({ url: '/v1/transform-jobs/tgi-best-of/results' })).body) as Array<{ id: string, generated_texts: string[] }>
  t.same(rows.map(r => [r.id, r.generated_texts.length]), [['one', 2], ['two', 2]])
  t.ok(rows[1].generated_texts.every(text => text.includes('harbor')), 'both of a record\'s sequences are its own')
})

t.test('1,000 records on a TGI model, end to end', async t => {
  const { app, stack } = await localApp(t)
  const sm = createControlClient(stack.awsTarget)
  t.teardown(() => { sm.destroy() })
  await createModel(sm, 'tgi-big', TGI_IMAGE)
  const n = 1000
  // ids in no order: descending numbers and strings interleaved
  const records = Array.from({ length: n }, (_, i) => ({ id: i % 2 === 0 ? n - i : `r-${i}`, text: `Story ${i} begins with item${i} here. It continues with item${i} there. It ends.` }))
  const created = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'tgi-1000', model: 'tgi-big', input: { records }, parameters: { max_length: 30 }, resources: { maxConcurrentTransforms: 4 } } })
  t.equal(created.statusCode, 202, created.body)
  const job = await waitForJob(app, 'tgi-1000', 240_000)
  t.equal(job.status, 'Completed', JSON.stringify(job))
  t.same(job.progress, { processed: n, total: n })
  const rows = ndjson((await app.inject({ url: '/v1/transform-jobs/tgi-1000/results' })).body) as Array<{ id: string | number, generated_texts?: string[] }>
  t.equal(rows.length, n)
  const wrong = rows.filter((r, i) => r.id !== records[i].id || !(r.generated_texts?.[0] ?? '').includes(`item${i} `))
  t.same(wrong.slice(0, 3), [], 'every record, in input order, holds its own text')
  t.equal(stack.jobs.stats().modelCalls, n, 'one request to the container per record')
  const described = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'tgi-1000' }))
  t.equal(described.BatchStrategy, 'SingleRecord')
  const outputKeys = await listKeys(stack, (described.TransformOutput?.S3OutputPath ?? '').replace(/^s3:\/\/[^/]+\//, ''))
  const output = ndjson(await readObject(stack, `s3://${stack.awsTarget.bucket}/${outputKeys[0]}`))
  t.equal(output.length, n)
  t.ok(output.every((l, i) => l.id === records[i].id && Array.isArray(l.SageMakerOutput)), 'every output line is {"id","SageMakerOutput"} in input order')
})
