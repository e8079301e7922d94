import { PutObjectCommand } from '@aws-sdk/client-s3'
import { CreateTransformJobCommand, DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../../src/config.js'
import { createControlClient, createS3Client } from '../../src/sagemaker/clients.js'
import { expectRejections, type Rejection } from '../helpers/http.js'
import { localApp } from '../helpers/local-app.js'
import { listKeys, ndjson, readObject, waitForJob } from '../helpers/jobs.js'

const JOBS_PREFIX = 'text2text-gateway/jobs/'
const ARTICLE = (i: number): string => `Article ${i} leads with this sentence. It goes on with a second one. And a third.`

type Json = Record<string, unknown>

t.test('validation: every 4xx names the field and value, and nothing is created', async t => {
  const { app, stack } = await localApp(t, { ALLOWED_S3_PREFIXES: 's3://text2text-local/text2text-gateway/,s3://shared-data/corpus/' })
  const records = [{ id: 1, text: 'One.' }]
  const cases: Rejection[] = [
    [{ input: { records }, name: 'bad_name' }, 400, 'INVALID_REQUEST', /body\.name must match .* \(got "bad_name"\)/],
    [{ input: { records }, name: '-lead' }, 400, 'INVALID_REQUEST', /body\.name must match/],
    [{ input: { records }, name: 'x'.repeat(41) }, 400, 'INVALID_REQUEST', /body\.name must have at most 40 characters \(got 41\)/],
    [{ input: {} }, 400, 'INVALID_REQUEST', /body\.input must have exactly one of records or s3Uri \(got neither\)/],
    [{ input: { records, s3Uri: 's3://text2text-local/text2text-gateway/x' } }, 400, 'INVALID_REQUEST', /body\.input must have exactly one of records or s3Uri \(got both\)/],
    [{ input: { records: [] } }, 400, 'INVALID_REQUEST', /body\.input\.records must have at least 1 item\(s\) \(got 0\)/],
    [{ input: { records: [{ id: 'a', text: 'x' }, { id: 'b', text: 'y' }, { id: 'a', text: 'z' }] } }, 400, 'INVALID_REQUEST', /body\.input\.records\[2\]\.id "a" is duplicated \(first at body\.input\.records\[0\]\)/],
    [{ input: { records: [{ id: 7, text: 'x' }, { id: '7', text: 'y' }] } }, 400, 'INVALID_REQUEST', /body\.input\.records\[1\]\.id "7" is duplicated/],
    [{ input: { records: [{ id: 1, text: '' }] } }, 400, 'INVALID_REQUEST', /body\.input\.records\[0\]\.text must not be empty/],
    [{ input: { records: [{ id: 1.5, text: 'x' }] } }, 400, 'INVALID_REQUEST', /body\.input\.records\[0\]\.id must be string or integer \(got 1\.5\)/],
    [{ input: { records: [{ id: 1, text: 'x', parameters: { num_beams: 1, num_return_sequences: 3 } }] } }, 400, 'INVALID_PARAMETERS', /body\.input\.records\[0\]\.parameters\.num_beams \(1\) must be >= body\.input\.records\[0\]\.parameters\.num_return_sequences \(3\)/],
    [{ input: { records }, parameters: { batch_size: 0 } }, 400, 'INVALID_PARAMETERS', /body\.parameters\.batch_size must be >= 1 \(got 0\)/],
    [{ input: { records }, parameters: { beams: 2 } }, 400, 'INVALID_PARAMETERS', /unknown key "beams"; allowed keys: max_length/],
    [{ input: { records }, parameters: { top_p: 0 } }, 400, 'INVALID_PARAMETERS', /body\.parameters\.top_p must be > 0 \(got 0\)/],
    [{ input: { s3Uri: 'https://text2text-local/x.jsonl' } }, 400, 'INVALID_S3_URI', /body\.input\.s3Uri: "https:\/\/text2text-local\/x\.jsonl" is not an s3:\/\/ URI/],
    [{ input: { s3Uri: 's3://text2text-local/text2text-gateway/../secret.jsonl' } }, 400, 'INVALID_S3_URI', /path segment/],
    [{ input: { s3Uri: 's3://someone-else/data.jsonl' } }, 400, 'S3_URI_NOT_ALLOWED', /body\.input\.s3Uri "s3:\/\/someone-else\/data\.jsonl" is outside the allowed S3 prefixes: s3:\/\/text2text-local\/text2text-gateway\/, s3:\/\/shared-data\/corpus\//],
    [{ input: { s3Uri: 's3://text2text-local/text2text-gateway-evil/x' } }, 400, 'S3_URI_NOT_ALLOWED', /outside the allowed S3 prefixes/],
    [{ input: { records }, references: { s3Uri: 's3://someone-else/refs.jsonl' } }, 400, 'S3_URI_NOT_ALLOWED', /body\.references\.s3Uri "s3:\/\/someone-else\/refs\.jsonl" is outside/],
    [{ input: { s3Uri: 's3://text2text-local/text2text-gateway/datasets/nothing-here.jsonl' } }, 400, 'S3_OBJECT_NOT_FOUND', /body\.input\.s3Uri "s3:\/\/text2text-local\/text2text-gateway\/datasets\/nothing-here\.jsonl" matches no S3 object/],
    [{ input: { s3Uri: 's3://text2text-local/text2text-gateway/datasets/x.jsonl' }, prompt: 'Summarize: ' }, 400, 'INVALID_REQUEST', /body\.prompt applies to input\.records only/],
    [{ input: { records }, references: { records: [{ id: 1, text: 'r' }, { id: 1, text: 's' }] } }, 400, 'INVALID_REQUEST', /body\.references\.records\[1\]\.id 1 is duplicated/],
    [{ input: { records }, references: {} }, 400, 'INVALID_REQUEST', /body\.references must have exactly one of records or s3Uri/],
    [{ input: { records }, resources: { maxPayloadMB: 50, maxConcurrentTransforms: 4 } }, 400, 'INVALID_REQUEST', /body\.resources\.maxPayloadMB \(50\) x body\.resources\.maxConcurrentTransforms \(4\) must be <= 100/],
    [{ input: { records }, resources: { maxPayloadMB: 101 } }, 400, 'INVALID_REQUEST', /body\.resources\.maxPayloadMB must be <= 100 \(got 101\)/],
    [{ input: { records }, resources: { instanceType: 'g5.2xlarge' } }, 400, 'INVALID_REQUEST', /body\.resources\.instanceType must match/],
    [{ input: { records }, model: 'no-such-model' }, 400, 'INVALID_REQUEST', /body\.model "no-such-model": SageMaker has no such model/],
    [{ input: { records }, extra: 1 }, 400, 'INVALID_REQUEST', /body has unknown key "extra"/],
    [{ input: { records } }, 400, 'INVALID_REQUEST', /headers\.idempotency-key must match/, { 'idempotency-key': 'ключ' }],
    [{ input: { records } }, 400, 'INVALID_REQUEST', /headers\.idempotency-key must have at most 255 characters/, { 'idempotency-key': 'k'.repeat(256) }]
  ]
  await expectRejections(t, app, '/v1/transform-jobs', cases)
  t.same(await listKeys(stack, JOBS_PREFIX), [], 'no job objects were written')
  const list = await app.inject({ method: 'GET', url: '/v1/transform-jobs' })
  t.same(list.json(), { jobs: [] }, 'no job exists')
})

t.test('unknown jobs are 404 JOB_NOT_FOUND on every route', async t => {
  const { app } = await localApp(t)
  for (const [method, url] of [['GET', '/v1/transform-jobs/nope'], ['POST', '/v1/transform-jobs/nope/stop'], ['GET', '/v1/transform-jobs/nope/results'], ['POST', '/v1/transform-jobs/nope/evaluation'], ['GET', '/v1/transform-jobs/not_a_valid_name']] as const) {
    const res = await app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().code, 'JOB_NOT_FOUND')
    t.match(res.json().message, /no transform job named "(nope|not_a_valid_name)"/)
  }
  const bad = await app.inject({ method: 'GET', url: '/v1/transform-jobs?limit=500' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /querystring\.limit must be <= 100/)
  const status = await app.inject({ method: 'GET', url: '/v1/transform-jobs?status=Done' })
  t.equal(status.statusCode, 400)
  t.match(status.json().message, /querystring\.status must be one of "InProgress", "Completed"/)
  const token = await app.inject({ method: 'GET', url: '/v1/transform-jobs?nextToken=garbage' })
  t.equal(token.statusCode, 400)
  t.match(token.json().message, /querystring\.nextToken "garbage" is not a token from this listing/)
})

t.test('submit records, poll to Completed, results in input order with every id, evaluate, restart', async t => {
  const { app, stack, config } = await localApp(t)
  const ids: Array<string | number> = Array.from({ length: 30 }, (_, i) => i % 3 === 0 ? i : `rec-${i}`)
  const body = {
    name: 'cnn-eval-1',
    input: { records: ids.map((id, i) => ({ id, text: ARTICLE(i), ...(i === 4 ? { parameters: { max_length: 3 } } : {}) })) },
    prompt: '',
    parameters: { max_length: 12, temperature: 1, batch_size: 4 },
    references: { records: ids.map((id, i) => ({ id, text: `Article ${i} leads with this sentence.` })) }
  }
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: body })
  t.equal(res.statusCode, 202, res.body)
  t.equal(res.headers.location, '/v1/transform-jobs/cnn-eval-1')
  const job = res.json()
  t.match(job, {
    name: 'cnn-eval-1',
    model: 'flan-t5-local',
    input: { recordCount: 30 },
    parameters: { max_length: 12, temperature: 1, batch_size: 4 }
  })
  t.match(job.input.s3Uri, /^s3:\/\/text2text-local\/text2text-gateway\/jobs\/cnn-eval-1\/[0-9a-f]{12}\/input\/records\.jsonl$/)
  t.match(job.output.s3Uri, /^s3:\/\/text2text-local\/text2text-gateway\/jobs\/cnn-eval-1\/[0-9a-f]{12}\/output$/)
  t.ok(['InProgress', 'Completed'].includes(job.status))

  // what SageMaker was asked for
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  const described = await control.send(new DescribeTransformJobCommand({ TransformJobName: 'cnn-eval-1' }))
  t.equal(described.BatchStrategy, 'MultiRecord')
  // a record carries parameters: with HYPER_PARAMS set, JumpStart would not use them
  // (text2text-generation-flan-t5-Batch-Transform.ipynb: "If any of these are passed, then the
  // advanced hyper-parameters from the individual examples in the JSONLINES payload will not be
  // used"), so the job-wide ones go into every line and no HYPER_PARAMS is sent
  t.equal(described.Environment?.HYPER_PARAMS, undefined, 'no HYPER_PARAMS when a record carries parameters')
  t.equal(described.TransformInput?.SplitType, 'Line')
  t.equal(described.TransformInput?.ContentType, 'application/jsonlines')
  t.equal(described.TransformOutput?.AssembleWith, 'Line')
  t.equal(described.TransformOutput?.Accept, 'application/jsonlines')
  t.equal(described.TransformResources?.InstanceType, 'ml.g5.2xlarge')
  t.equal(described.MaxPayloadInMB, 6)
  const input = await readObject(stack, job.input.s3Uri)
  t.equal(input.split('\n')[4], `{"id":"rec-4","text_inputs":"${ARTICLE(4)}","max_length":3,"temperature":1,"batch_size":4}`, 'the record\'s own value wins over the job-wide one')
  t.equal(input.split('\n')[5], `{"id":"rec-5","text_inputs":"${ARTICLE(5)}","max_length":12,"temperature":1,"batch_size":4}`, 'job-wide parameters in every line')

  const done = await waitForJob(app, 'cnn-eval-1')
  t.equal(done.status, 'Completed')
  t.same(done.progress, { processed: 30, total: 30 })
  t.ok(typeof done.startedAt === 'string' && typeof done.endedAt === 'string')

  const results = await app.inject({ method: 'GET', url: '/v1/transform-jobs/cnn-eval-1/results' })
  t.equal(results.statusCode, 200)
  t.match(results.headers['content-type'], /^application\/x-ndjson/)
  const lines = ndjson(results.body)
  t.same(lines.map(l => l.id), ids, 'one line per record, input order, ids as given')
  for (const [i, line] of lines.entries()) {
    const texts = line.generated_texts as string[]
    t.equal(texts.length, 1)
    t.ok((texts[0] as string).split(/\s+/).length <= (i === 4 ? 3 : 12), `record ${i} honours max_length`)
  }
  t.equal((lines[0]?.generated_texts as string[])[0], 'Article 0 leads with this sentence. It goes on with a second', 'the lead sentences, cut at 12 words')

  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/cnn-eval-1/evaluation', payload: { rougeTypes: ['rouge1', 'rougeL'] } })
  t.equal(evaluation.statusCode, 200, evaluation.body)
  const scores = evaluation.json()
  t.equal(scores.count, 30)
  t.same(scores.missing, [])
  t.same(Object.keys(scores.scores), ['rouge1', 'rougeL'])
  t.ok(scores.scores.rouge1.recall > 0.7, 'the lead sentence is recalled')

  const other = await app.inject({ method: 'POST', url: '/v1/transform-jobs/cnn-eval-1/evaluation', payload: { references: { records: [{ id: 0, text: 'nothing alike' }] }, perRecord: true } })
  t.equal(other.statusCode, 200)
  t.equal(other.json().count, 1)
  t.equal(other.json().unmatched.length, 29)
  t.equal(other.json().records.length, 1)

  // a second gateway over the same stack (a restart, another replica) answers for the job
  const second = await buildApp(config, { aws: stack.awsTarget })
  t.teardown(async () => { await second.close() })
  const again = await second.inject({ method: 'GET', url: '/v1/transform-jobs/cnn-eval-1' })
  t.equal(again.statusCode, 200)
  t.same(again.json(), done)
  const againResults = await second.inject({ method: 'GET', url: '/v1/transform-jobs/cnn-eval-1/results' })
  t.equal(againResults.body, results.body)
})

t.test('idempotency: the same key or name returns the existing job, never a second one', async t => {
  const { app, stack } = await localApp(t)
  const body = { input: { records: [{ id: 'a', text: ARTICLE(1) }, { id: 'b', text: ARTICLE(2) }] } }
  const first = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { 'idempotency-key': 'order-42' }, payload: body })
  t.equal(first.statusCode, 202)
  t.equal(first.headers['idempotent-replayed'], undefined)
  const name = first.json().name as string
  t.match(name, /^t2t-[0-9a-f]{32}$/)
  const repeat = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { 'idempotency-key': 'order-42' }, payload: body })
  t.equal(repeat.statusCode, 202)
  t.equal(repeat.headers['idempotent-replayed'], 'true')
  t.equal(repeat.json().name, name)
  t.equal(repeat.json().input.s3Uri, first.json().input.s3Uri, 'the first submission\'s input, not a new copy')

  // racing twins: every one answers with the same job
  const twins = await Promise.all(Array.from({ length: 5 }, async () =>
    await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { 'idempotency-key': 'race-1' }, payload: body })))
  t.same(twins.map(r => r.statusCode), [202, 202, 202, 202, 202])
  t.equal(new Set(twins.map(r => r.json().name)).size, 1)
  const raceName = twins[0]?.json().name as string
  const submissions = new Set((await listKeys(stack, `${JOBS_PREFIX}${raceName}/`)).map(k => k.split('/')[3]))
  t.equal(submissions.size, 1, 'the losers\' inputs were removed')

  const changed = await app.inject({ method: 'POST', url: '/v1/transform-jobs', headers: { 'idempotency-key': 'order-42' }, payload: { input: { records: [{ id: 'z', text: 'Other.' }] } } })
  t.equal(changed.statusCode, 409)
  t.equal(changed.json().code, 'CONFLICT')
  t.match(changed.json().message, /already exists for a different request \(same Idempotency-Key\)/)

  const named = { ...body, name: 'nightly' }
  t.equal((await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: named })).statusCode, 202)
  const namedAgain = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: named })
  t.equal(namedAgain.statusCode, 202)
  t.equal(namedAgain.headers['idempotent-replayed'], 'true')

  const list = await app.inject({ method: 'GET', url: '/v1/transform-jobs' })
  const names = (list.json().jobs as Json[]).map(j => j.name).sort()
  t.same(names, [name, raceName, 'nightly'].sort(), 'one job per key or name')

  // paging: one job per page, every job once
  const paged: string[] = []
  let token: string | undefined
  do {
    const page = await app.inject({ method: 'GET', url: `/v1/transform-jobs?limit=1${token !== undefined ? `&nextToken=${encodeURIComponent(token)}` : ''}` })
    t.equal(page.statusCode, 200)
    for (const j of page.json().jobs as Json[]) paged.push(j.name as string)
    token = page.json().nextToken
  } while (token !== undefined)
  t.same(paged.sort(), names)
})

t.test('a dataset as input and references; status filter; jobs the gateway did not make are not its own', async t => {
  const { app, stack } = await localApp(t)
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/datasets?prompt=',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `d${i}`, text: ARTICLE(i) })).join('\n')
  })
  t.equal(upload.statusCode, 201)
  const s3Uri = upload.json().s3Uri as string
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'from-dataset', input: { s3Uri }, references: { s3Uri }, parameters: { max_length: 5 } } })
  t.equal(res.statusCode, 202, res.body)
  t.same(res.json().input, { s3Uri, recordCount: 12 })
  t.same(res.json().references, { s3Uri })
  await waitForJob(app, 'from-dataset')
  const lines = ndjson((await app.inject({ method: 'GET', url: '/v1/transform-jobs/from-dataset/results' })).body)
  t.same(lines.map(l => l.id), Array.from({ length: 12 }, (_, i) => `d${i}`))
  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/from-dataset/evaluation', payload: {} })
  t.equal(evaluation.statusCode, 200, evaluation.body)
  t.equal(evaluation.json().count, 12)
  t.equal(evaluation.json().scores.rouge1.precision, 1, 'the dataset\'s own text (text_inputs) as reference contains every output word')

  // a job someone else made in the same account, writing elsewhere
  const s3 = createS3Client(stack.awsTarget)
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { s3.destroy(); control.destroy() })
  await s3.send(new PutObjectCommand({ Bucket: 'text2text-local', Key: 'elsewhere/in.jsonl', Body: '{"id":1,"text_inputs":"Hello there."}\n' }))
  await control.send(new CreateTransformJobCommand({
    TransformJobName: 'not-ours',
    ModelName: 'flan-t5-local',
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://text2text-local/elsewhere/in.jsonl' } }, SplitType: 'Line', ContentType: 'application/jsonlines' },
    TransformOutput: { S3OutputPath: 's3://text2text-local/elsewhere/out' },
    TransformResources: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1 }
  }))
  t.equal((await app.inject({ method: 'GET', url: '/v1/transform-jobs/not-ours' })).statusCode, 404)
  const clash = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'not-ours', input: { s3Uri } } })
  t.equal(clash.statusCode, 409)
  t.match(clash.json().message, /a transform job named "not-ours" already exists and was not created by this gateway/)
  const all = await app.inject({ method: 'GET', url: '/v1/transform-jobs' })
  t.same((all.json().jobs as Json[]).map(j => j.name), ['from-dataset'], 'the list holds only the gateway\'s jobs')
  const completed = await app.inject({ method: 'GET', url: '/v1/transform-jobs?status=Completed' })
  t.same((completed.json().jobs as Json[]).map(j => j.name), ['from-dataset'])
  const failed = await app.inject({ method: 'GET', url: '/v1/transform-jobs?status=Failed' })
  t.same(failed.json().jobs, [])
})

t.test('a running job: results and evaluation are 409, stop gives 202, results then report the stopped records', async t => {
  const { app } = await localApp(t, { LOCAL_LATENCY_BASE_MS: 100 })
  const ids = Array.from({ length: 40 }, (_, i) => i)
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'slow', input: { records: ids.map(i => ({ id: i, text: ARTICLE(i) })) }, references: { records: [{ id: 0, text: 'x' }] } } })
  t.equal(res.statusCode, 202)
  t.equal(res.json().status, 'InProgress')
  let results = await app.inject({ method: 'GET', url: '/v1/transform-jobs/slow/results' })
  t.equal(results.statusCode, 409)
  t.equal(results.json().code, 'JOB_NOT_COMPLETE')
  t.match(results.json().message, /transform job "slow" is InProgress; results are available once it has ended/)
  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/slow/evaluation', payload: {} })
  t.equal(evaluation.statusCode, 409)
  await new Promise(resolve => setTimeout(resolve, 700))
  const running = await app.inject({ method: 'GET', url: '/v1/transform-jobs/slow' })
  // DescribeTransformJob reports no progress while a job runs, so neither does the gateway: the
  // same answer on AWS and locally (the local runner writes nothing beside the .out files)
  t.equal(running.json().status, 'InProgress')
  t.equal(running.json().progress, undefined, 'no progress while running')
  const stop = await app.inject({ method: 'POST', url: '/v1/transform-jobs/slow/stop' })
  t.equal(stop.statusCode, 202, stop.body)
  // StopTransformJob API reference: "the status of the job changes to Stopping. After Amazon
  // SageMaker stops the job, the status is set to Stopped."
  t.equal(stop.json().status, 'Stopping')
  const stopped = await waitForJob(app, 'slow')
  t.equal(stopped.status, 'Stopped')
  const again = await app.inject({ method: 'POST', url: '/v1/transform-jobs/slow/stop' })
  t.equal(again.statusCode, 202, 'stopping a stopped job is a no-op')
  results = await app.inject({ method: 'GET', url: '/v1/transform-jobs/slow/results' })
  t.equal(results.statusCode, 200)
  const lines = ndjson(results.body)
  t.same(lines.map(l => l.id), ids, 'still one line per input record')
  for (const line of lines) {
    if (!('generated_texts' in line)) t.same(line.error, { code: 'JOB_STOPPED', message: 'the job was stopped before writing output for this record' })
  }
})

t.test('a failed job: failureReason, and every record without output says why', async t => {
  const { app } = await localApp(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const records = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, text: i === 3 ? 'This one is POISON.' : ARTICLE(i) }))
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'doomed', input: { records } } })
  t.equal(res.statusCode, 202)
  const job = await waitForJob(app, 'doomed')
  t.equal(job.status, 'Failed')
  t.match(job.failureReason, /\S/)
  const lines = ndjson((await app.inject({ method: 'GET', url: '/v1/transform-jobs/doomed/results' })).body)
  t.same(lines.map(l => l.id), records.map(r => r.id))
  const failed = lines.filter(l => 'error' in l)
  t.ok(failed.length >= 1)
  for (const line of failed) t.match(line.error, { code: 'JOB_FAILED', message: /^the job failed before writing output for this record/ })
  const noRefs = await app.inject({ method: 'POST', url: '/v1/transform-jobs/doomed/evaluation', payload: {} })
  t.equal(noRefs.statusCode, 400)
  t.match(noRefs.json().message, /transform job "doomed" was submitted without references; send body\.references/)
  const stop = await app.inject({ method: 'POST', url: '/v1/transform-jobs/doomed/stop' })
  t.equal(stop.statusCode, 409)
  t.match(stop.json().message, /has already ended \(Failed\); there is nothing to stop/)
})

t.test('without a bucket (AWS mode, no S3_BUCKET) the batch routes are 503 JOBS_NOT_CONFIGURED', async t => {
  const app = await buildApp(testConfig({ SAGEMAKER_ENDPOINT_NAME: 'some-endpoint' }), { aws: { region: 'us-east-1' } })
  t.teardown(async () => { await app.close() })
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { input: { records: [{ id: 1, text: 'x' }] } } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'JOBS_NOT_CONFIGURED')
  t.match(res.json().message, /set S3_BUCKET/)
  const ds = await app.inject({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"id":1,"text":"x"}' })
  t.equal(ds.statusCode, 503)
})

t.test('the OpenAPI document describes the batch routes', async t => {
  const { app } = await localApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  for (const [path, method, id] of [
    ['/v1/datasets', 'post', 'createDataset'],
    ['/v1/transform-jobs', 'post', 'createTransformJob'],
    ['/v1/transform-jobs', 'get', 'listTransformJobs'],
    ['/v1/transform-jobs/{name}', 'get', 'getTransformJob'],
    ['/v1/transform-jobs/{name}/stop', 'post', 'stopTransformJob'],
    ['/v1/transform-jobs/{name}/results', 'get', 'getTransformJobResults'],
    ['/v1/transform-jobs/{name}/evaluation', 'post', 'evaluateTransformJob']
  ] as const) {
    const op = doc.paths[path]?.[method]
    t.equal(op?.operationId, id, `${method} ${path}`)
  }
  t.ok(doc.paths['/v1/datasets'].post.requestBody.content['application/x-ndjson'], 'the dataset body is NDJSON')
  t.ok(doc.paths['/v1/transform-jobs/{name}/results'].get.responses['200'].content['application/x-ndjson'], 'the results are NDJSON')
  t.ok(doc.components.schemas.TransformJob, 'one TransformJob component')
})

// JumpStart FLAN-T5 batch transform (amazon-sagemaker-examples,
// text2text-generation-flan-t5-Batch-Transform.ipynb, "Specify Batch Transform Job HyperParameters"):
// "If any of these are passed, then the advanced hyper-parameters from the individual examples in
// the JSONLINES payload will not be used." A dataset's lines are sent as stored, so job-wide
// parameters over a dataset whose lines carry their own would silently drop those.
t.test('job-wide parameters over a dataset whose lines carry parameters: 400 naming both; without them the lines\' own apply', async t => {
  const { app, stack } = await localApp(t)
  const upload = async (lines: Json[]): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/v1/datasets?prompt=', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.map(l => JSON.stringify(l)).join('\n') })
    t.equal(res.statusCode, 201, res.body)
    return res.json().s3Uri as string
  }
  const withParams = await upload(Array.from({ length: 4 }, (_, i) => ({ id: `p${i}`, text: ARTICLE(i), ...(i === 1 ? { parameters: { max_length: 2 } } : {}) })))
  const plain = await upload(Array.from({ length: 4 }, (_, i) => ({ id: `q${i}`, text: ARTICLE(i) })))

  const refused = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'mixed-params', input: { s3Uri: withParams }, parameters: { max_length: 8 } } })
  t.equal(refused.statusCode, 400, refused.body)
  t.equal(refused.json().code, 'INVALID_PARAMETERS')
  t.match(refused.json().message, /body\.parameters .*body\.input\.s3Uri .*1 of 4 records carry their own parameters/)
  t.equal((await app.inject({ method: 'GET', url: '/v1/transform-jobs/mixed-params' })).statusCode, 404, 'no job was created')

  const own = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'own-params', input: { s3Uri: withParams } } })
  t.equal(own.statusCode, 202, own.body)
  await waitForJob(app, 'own-params')
  const ownLines = ndjson((await app.inject({ method: 'GET', url: '/v1/transform-jobs/own-params/results' })).body)
  t.same((ownLines[1]?.generated_texts as string[])[0], 'Article 1', 'the line\'s own max_length applies')
  t.same((ownLines[0]?.generated_texts as string[])[0], ARTICLE(0), 'lines without parameters get the defaults')

  const jobWide = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'job-wide', input: { s3Uri: plain }, parameters: { max_length: 2, batch_size: 2 } } })
  t.equal(jobWide.statusCode, 202, jobWide.body)
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  const described = await control.send(new DescribeTransformJobCommand({ TransformJobName: 'job-wide' }))
  t.equal(described.Environment?.HYPER_PARAMS, "{'max_length': 2, 'batch_size': 2}", 'lines without parameters: job-wide parameters go as HYPER_PARAMS')
  await waitForJob(app, 'job-wide')
  const wideLines = ndjson((await app.inject({ method: 'GET', url: '/v1/transform-jobs/job-wide/results' })).body)
  t.same(wideLines.map(l => (l.generated_texts as string[])[0]), ['Article 0', 'Article 1', 'Article 2', 'Article 3'])
})
