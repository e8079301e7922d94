// The local control plane judged by the real @aws-sdk/client-sagemaker over HTTP: every reply
// and every error must come out of the SDK's own deserialisers as it would from AWS.
import t from 'tap'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import {
  CreateTransformJobCommand, DescribeTrainingJobCommand, DescribeTransformJobCommand, ListTransformJobsCommand,
  paginateListTransformJobs, ResourceInUse, ResourceNotFound, SageMakerServiceException, StopTransformJobCommand,
  type CreateTransformJobCommandInput, type DescribeTransformJobCommandOutput, type SageMakerClient
} from '@aws-sdk/client-sagemaker'
import { summarize } from '../../src/local/engine.js'
import { openLocalStack, tempDir, transformJobInput, type LocalClients, type Overrides, type Teardown } from '../helpers/local-sagemaker.js'
import { parsePythonLiteral } from '../../src/sagemaker/python-literal.js'

const BUCKET = 'text2text-local'
const MODEL = 'flan-t5-local'
const NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}'

/** The part of a tap test these helpers use. */
interface Tap extends Teardown {
  ok: (value: unknown, message: string) => unknown
  fail: (message: string) => unknown
}

async function setup (t: Teardown, overrides: Overrides = {}): Promise<LocalClients> {
  return await openLocalStack(t, await tempDir(t, 't2t-cp-'), overrides)
}

function article (i: number): string {
  return `Record ${i} opens with its lead sentence. A second sentence follows it. The third one closes the lead. A fourth is never in the summary.`
}

async function putLines (s3: S3Client, key: string, records: unknown[]): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: records.map((r) => JSON.stringify(r)).join('\n') + '\n' }))
}

async function waitFor (sm: SageMakerClient, name: string, done: (s: string | undefined) => boolean, timeoutMs = 8_000): Promise<DescribeTransformJobCommandOutput> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const d = await sm.send(new DescribeTransformJobCommand({ TransformJobName: name }))
    if (done(d.TransformJobStatus)) return d
    if (Date.now() > deadline) throw new Error(`job ${name} still ${d.TransformJobStatus ?? '?'} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 15))
  }
}

const ended = (s: string | undefined): boolean => s === 'Completed' || s === 'Failed' || s === 'Stopped'

async function readText (s3: S3Client, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  return await out.Body?.transformToString('utf8') ?? ''
}

/** The rejection of `promise` as the SDK raised it, failing the test if it resolves. */
async function rejection (t: Tap, promise: Promise<unknown>): Promise<SageMakerServiceException> {
  try {
    await promise
  } catch (err) {
    t.ok(err instanceof SageMakerServiceException, 'the SDK raised a SageMakerServiceException')
    return err as SageMakerServiceException
  }
  t.fail('expected a rejection')
  throw new Error('expected a rejection')
}

t.test('create, describe, poll to Completed, read the .out', async (t) => {
  const { sm, s3, stack } = await setup(t)
  const records = Array.from({ length: 7 }, (_, i) => ({ id: i === 3 ? 3 : `r${i}`, text_inputs: article(i) }))
  await putLines(s3, 'in/news.jsonl', records)

  const before = Date.now()
  const created = await sm.send(new CreateTransformJobCommand(transformJobInput('news-1', 'in/news.jsonl', 'out/news-1', {
    Environment: { HYPER_PARAMS: "{'batch_size': 3, 'max_length': 12}" },
    Tags: [{ Key: 'created-by', Value: 'test' }]
  })))
  t.equal(created.TransformJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:transform-job/news-1')
  t.equal(created.$metadata.httpStatusCode, 200)

  const first = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'news-1' }))
  t.equal(first.TransformJobName, 'news-1')
  t.equal(first.TransformJobArn, created.TransformJobArn)
  t.ok(['InProgress', 'Completed'].includes(first.TransformJobStatus ?? ''), 'InProgress (or already done)')
  t.equal(first.ModelName, MODEL)
  t.ok(first.CreationTime instanceof Date, 'CreationTime parses as a Date (epoch seconds on the wire)')
  t.ok(Math.abs((first.CreationTime?.getTime() ?? 0) - before) < 5_000, 'CreationTime is now, in ms precision')
  t.same(first.Environment, { HYPER_PARAMS: "{'batch_size': 3, 'max_length': 12}" })
  t.same(first.TransformInput, {
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/in/news.jsonl` } },
    ContentType: 'application/jsonlines',
    CompressionType: 'None',
    SplitType: 'Line'
  })
  t.same(first.TransformOutput, { S3OutputPath: `s3://${BUCKET}/out/news-1`, Accept: 'application/jsonlines', AssembleWith: 'Line' })
  t.same(first.TransformResources, { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1 })
  t.equal(first.MaxPayloadInMB, 6, 'defaults are reported as AWS applies them')
  t.equal(first.MaxConcurrentTransforms, 1)
  t.equal(first.BatchStrategy, 'MultiRecord')

  const done = await waitFor(sm, 'news-1', ended)
  t.equal(done.TransformJobStatus, 'Completed')
  t.equal(done.FailureReason, undefined)
  t.ok(done.TransformStartTime instanceof Date && done.TransformEndTime instanceof Date)
  t.ok((done.TransformStartTime?.getTime() ?? 0) >= (done.CreationTime?.getTime() ?? Infinity))
  t.ok((done.TransformEndTime?.getTime() ?? 0) >= (done.TransformStartTime?.getTime() ?? Infinity))

  const out = await readText(s3, 'out/news-1/news.jsonl.out')
  t.ok(out.endsWith('\n'), 'AssembleWith Line ends every record with a newline')
  const lines = out.split('\n').slice(0, -1)
  t.equal(lines.length, records.length, 'one line per record')
  t.equal(lines[0], `{'id': 'r0', 'generated_texts': [${JSON.stringify(summarize(article(0), { max_length: 12 })[0]).replace(/"/g, "'")}]}`,
    'a Python-literal dict, as the JumpStart container writes')
  const parsed = lines.map((l) => parsePythonLiteral(l) as { id: string | number, generated_texts: string[] })
  t.same(parsed.map((p) => p.id), records.map((r) => r.id), 'ids in input order, an int id stays an int')
  t.same(parsed.map((p) => p.generated_texts), records.map((r) => summarize(r.text_inputs, { max_length: 12 })), 'HYPER_PARAMS reached the model')
  t.same(stack.jobs.stats().batchSizes, [3, 3, 1], 'batch_size 3 records per model call')
  // Batch Transform writes "<input file>.out" per input file under S3OutputPath and nothing else
  // (SageMaker Developer Guide, "Use batch transform to run inference", https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html)
  const written = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'out/news-1/' }))
  t.same(written.Contents?.map((o) => o.Key), ['out/news-1/news.jsonl.out'], 'only the .out under S3OutputPath')
})

t.test('errors come out of the SDK with AWS names, status and messages', async (t) => {
  const { sm, s3 } = await setup(t)
  await putLines(s3, 'in/one.jsonl', [{ id: 1, text_inputs: article(1) }])
  await sm.send(new CreateTransformJobCommand(transformJobInput('dup', 'in/one.jsonl', 'out/dup')))

  const dup = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('dup', 'in/one.jsonl', 'out/dup2'))))
  t.ok(dup instanceof ResourceInUse, 'ResourceInUse is the modelled exception')
  t.equal(dup.name, 'ResourceInUse')
  t.equal(dup.$metadata.httpStatusCode, 400)
  t.equal(dup.$fault, 'client')
  t.equal(dup.message, 'Job name must be unique within an AWS account and region, and a job with this name already exists ' +
    '(arn:aws:sagemaker:us-east-1:000000000000:transform-job/dup)')
  const dupCase = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('DUP', 'in/one.jsonl', 'out/dup3'))))
  t.equal(dupCase.name, 'ResourceInUse', 'names are unique case-insensitively (ARNs are lower-cased)')

  const missing = await rejection(t, sm.send(new DescribeTransformJobCommand({ TransformJobName: 'nope' })))
  t.ok(missing instanceof ResourceNotFound)
  t.equal(missing.name, 'ResourceNotFound')
  t.equal(missing.message, 'Could not find requested job with name nope')
  const stopMissing = await rejection(t, sm.send(new StopTransformJobCommand({ TransformJobName: 'nope' })))
  t.equal(stopMissing.name, 'ResourceNotFound')
  t.equal(stopMissing.message, 'Could not find job to update with name nope')

  const badName = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('bad_name', 'in/one.jsonl', 'out/x'))))
  t.equal(badName.name, 'ValidationException')
  t.equal(badName.$metadata.httpStatusCode, 400)
  t.equal(badName.message, "1 validation error detected: Value 'bad_name' at 'transformJobName' failed to satisfy constraint: " +
    `Member must satisfy regular expression pattern: ${NAME_PATTERN}`)
  const describeBad = await rejection(t, sm.send(new DescribeTransformJobCommand({ TransformJobName: '-x' })))
  t.equal(describeBad.name, 'ValidationException', 'Describe validates the name too')

  const two = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('x'.repeat(64), 'in/one.jsonl', 'out/x', { MaxPayloadInMB: 101 }))))
  t.match(two.message, new RegExp("^3 validation errors detected: Value 'x{64}' at 'transformJobName' failed to satisfy constraint: Member must have length less than or equal to 63; " +
    "Value 'x{64}' at 'transformJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: .*; " +
    "Value '101' at 'maxPayloadInMB' failed to satisfy constraint: Member must have value less than or equal to 100$"), 'every violated constraint is listed, joined by "; "')

  const noModel = await rejection(t, sm.send(new CreateTransformJobCommand({ ...transformJobInput('m1', 'in/one.jsonl', 'out/x'), ModelName: 'flan-t5-xxl' })))
  t.equal(noModel.name, 'ValidationException')
  t.equal(noModel.message, 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/flan-t5-xxl".')

  const badUri = transformJobInput('u1', 'in/one.jsonl', 'out/x')
  badUri.TransformInput = { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 'bucket/key' } } }
  const uri = await rejection(t, sm.send(new CreateTransformJobCommand(badUri)))
  t.equal(uri.message, "1 validation error detected: Value 'bucket/key' at 'transformInput.dataSource.s3DataSource.s3Uri' " +
    'failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$')

  const noOutput = { ...transformJobInput('o1', 'in/one.jsonl', 'out/x') } as Partial<CreateTransformJobCommandInput>
  delete noOutput.TransformOutput
  const required = await rejection(t, sm.send(new CreateTransformJobCommand(noOutput as CreateTransformJobCommandInput)))
  t.equal(required.message, "1 validation error detected: Value null at 'transformOutput' failed to satisfy constraint: Member must not be null")

  const product = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('p1', 'in/one.jsonl', 'out/x', { MaxConcurrentTransforms: 20, MaxPayloadInMB: 6 }))))
  t.equal(product.name, 'ValidationException')
  t.match(product.message, /MaxConcurrentTransforms \(20\) multiplied by MaxPayloadInMB \(6\) must not exceed 100 MB/)

  const enumValue = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('e1', 'in/one.jsonl', 'out/x', {
    Environment: { 'bad-key': '1' }
  }))))
  t.match(enumValue.message, /Value 'bad-key' at 'environment' failed to satisfy constraint: Member must satisfy regular expression pattern/)

  // CreateTransformJob checks its input synchronously; the message as SageMaker words it
  // (aws/amazon-sagemaker-examples issue #2414: "An error occurred (ValidationException) when
  // calling the CreateTransformJob operation: No S3 objects found under S3 URL ...")
  const emptyPrefix = await rejection(t, sm.send(new CreateTransformJobCommand(transformJobInput('empty-1', 'in/none/', 'out/x'))))
  t.equal(emptyPrefix.name, 'ValidationException')
  t.equal(emptyPrefix.$metadata.httpStatusCode, 400)
  t.equal(emptyPrefix.message, `No S3 objects found under S3 URL "s3://${BUCKET}/in/none/" given in input data source. ` +
    'Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, ' +
    `and that the role "arn:aws:iam::000000000000:role/local-sagemaker" has "s3:ListBucket" permissions on bucket "${BUCKET}".`)
  const noBucket = await rejection(t, sm.send(new CreateTransformJobCommand({
    ...transformJobInput('nobucket-1', 'in/one.jsonl', 'out/x'),
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://no-such-bucket-here/in/' } }, ContentType: 'application/jsonlines', SplitType: 'Line' }
  })))
  t.equal(noBucket.name, 'ValidationException')
  t.match(noBucket.message, /^No S3 objects found under S3 URL "s3:\/\/no-such-bucket-here\/in\/" given in input data source\. .* on bucket "no-such-bucket-here"\.$/)

  const other = await rejection(t, sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'x' })))
  t.equal(other.name, 'UnknownOperationException', 'operations beyond transform jobs are unknown')

  const listed = await sm.send(new ListTransformJobsCommand({}))
  t.same(listed.TransformJobSummaries?.map((s) => s.TransformJobName), ['dup'], 'rejected requests created nothing')
})

t.test('ListTransformJobs: filters, sort orders and paging with an opaque NextToken', async (t) => {
  const { sm, s3 } = await setup(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  await putLines(s3, 'in/ok.jsonl', [{ id: 1, text_inputs: article(1) }])
  await putLines(s3, 'in/bad.jsonl', [{ id: 1, text_inputs: 'POISON. This record fails.' }])
  const names = ['list-c', 'list-a', 'list-e', 'list-b', 'list-d']
  for (const name of names) {
    await sm.send(new CreateTransformJobCommand(transformJobInput(name, 'in/ok.jsonl', `out/${name}`)))
    // distinct creation times, so CreationTime order is well defined
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await sm.send(new CreateTransformJobCommand(transformJobInput('other-f', 'in/bad.jsonl', 'out/other-f')))
  for (const name of [...names, 'other-f']) await waitFor(sm, name, ended)

  const pages: string[][] = []
  let token: string | undefined
  do {
    const page = await sm.send(new ListTransformJobsCommand({ StatusEquals: 'Completed', MaxResults: 2, NextToken: token }))
    pages.push(page.TransformJobSummaries?.map((s) => s.TransformJobName ?? '') ?? [])
    token = page.NextToken
    t.ok(token === undefined || !/list-/.test(token), 'the token is opaque')
  } while (token !== undefined)
  t.same(pages, [['list-d', 'list-b'], ['list-e', 'list-a'], ['list-c']], 'newest first by default, 2 per page, Failed filtered out')

  const byName = await sm.send(new ListTransformJobsCommand({ SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 100 }))
  t.same(byName.TransformJobSummaries?.map((s) => s.TransformJobName), ['list-a', 'list-b', 'list-c', 'list-d', 'list-e', 'other-f'])
  t.equal(byName.NextToken, undefined, 'no token on the last page')

  const failed = await sm.send(new ListTransformJobsCommand({ StatusEquals: 'Failed' }))
  t.equal(failed.TransformJobSummaries?.length, 1)
  const summary = failed.TransformJobSummaries?.[0]
  t.equal(summary?.TransformJobName, 'other-f')
  t.equal(summary?.TransformJobStatus, 'Failed')
  t.match(summary?.FailureReason, /^ClientError: /)
  t.ok(summary?.CreationTime instanceof Date && summary.TransformEndTime instanceof Date && summary.LastModifiedTime instanceof Date)

  const contains = await sm.send(new ListTransformJobsCommand({ NameContains: 'LIST-', SortBy: 'Name', SortOrder: 'Descending' }))
  t.same(contains.TransformJobSummaries?.map((s) => s.TransformJobName), ['list-e', 'list-d', 'list-c', 'list-b', 'list-a'], 'NameContains ignores case')

  const all = await sm.send(new ListTransformJobsCommand({ SortBy: 'CreationTime', SortOrder: 'Ascending', MaxResults: 100 }))
  const created = all.TransformJobSummaries?.map((s) => s.CreationTime?.getTime() ?? 0) ?? []
  const third = new Date(created[2])
  const after = await sm.send(new ListTransformJobsCommand({ CreationTimeAfter: third, SortBy: 'CreationTime', SortOrder: 'Ascending' }))
  t.same(after.TransformJobSummaries?.map((s) => s.TransformJobName), ['list-b', 'list-d', 'other-f'], 'CreationTimeAfter is exclusive')
  const before = await sm.send(new ListTransformJobsCommand({ CreationTimeBefore: third, SortBy: 'CreationTime', SortOrder: 'Ascending' }))
  t.same(before.TransformJobSummaries?.map((s) => s.TransformJobName), ['list-c', 'list-a'])

  const viaPaginator: string[] = []
  for await (const page of paginateListTransformJobs({ client: sm, pageSize: 4 }, { SortBy: 'Status', SortOrder: 'Ascending' })) {
    viaPaginator.push(...(page.TransformJobSummaries?.map((s) => `${s.TransformJobStatus ?? ''}:${s.TransformJobName ?? ''}`) ?? []))
  }
  t.same(viaPaginator, ['Completed:list-a', 'Completed:list-b', 'Completed:list-c', 'Completed:list-d', 'Completed:list-e', 'Failed:other-f'],
    'the SDK paginator walks every page')

  const tooMany = await rejection(t, sm.send(new ListTransformJobsCommand({ MaxResults: 101 })))
  t.equal(tooMany.message, "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100")
  const zero = await rejection(t, sm.send(new ListTransformJobsCommand({ MaxResults: 0 })))
  t.equal(zero.name, 'ValidationException')
  const badToken = await rejection(t, sm.send(new ListTransformJobsCommand({ NextToken: 'garbage' })))
  t.equal(badToken.name, 'ValidationException')
  const first = await sm.send(new ListTransformJobsCommand({ MaxResults: 1 }))
  const mismatch = await rejection(t, sm.send(new ListTransformJobsCommand({ MaxResults: 1, NextToken: first.NextToken, SortBy: 'Name' })))
  t.equal(mismatch.name, 'ValidationException', 'a token is only valid for the ordering that issued it')
  const badStatus = await rejection(t, sm.send(new ListTransformJobsCommand({ StatusEquals: 'Running' as 'Completed' })))
  t.match(badStatus.message, /Member must satisfy enum value set: \[InProgress, Completed, Failed, Stopping, Stopped\]/)
})

t.test('StopTransformJob: Stopping, then Stopped within a batch, no output', async (t) => {
  // 100 records at 40 ms per call: about 4 s if left alone
  const { sm, s3, stack } = await openLocalStack(t, await tempDir(t, 't2t-cp-'), { LOCAL_LATENCY_BASE_MS: 40 }, { controlPlane: { stoppingMs: 400 } })
  await putLines(s3, 'in/slow.jsonl', Array.from({ length: 100 }, (_, i) => ({ id: i, text_inputs: article(i) })))
  await sm.send(new CreateTransformJobCommand(transformJobInput('slow-1', 'in/slow.jsonl', 'out/slow-1')))
  const deadline = Date.now() + 5_000
  while (stack.jobs.stats().modelCalls < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))

  const asked = Date.now()
  await sm.send(new StopTransformJobCommand({ TransformJobName: 'slow-1' }))
  const right = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'slow-1' }))
  // StopTransformJob (API reference, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StopTransformJob.html):
  // "When Amazon SageMaker receives a StopTransformJob request, the status of the job changes to
  // Stopping. After Amazon SageMaker stops the job, the status is set to Stopped."
  t.equal(right.TransformJobStatus, 'Stopping', 'Stopping first')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const later = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'slow-1' }))
  t.equal(later.TransformJobStatus, 'Stopping', 'still Stopping 100 ms later (the emulated stopping time is 400 ms), as a poller would see it')
  const stopped = await waitFor(sm, 'slow-1', (s) => s === 'Stopped', 3_000)
  t.ok(Date.now() - asked < 2_000, 'Stopped after the stopping time')
  t.ok(stopped.TransformEndTime instanceof Date)
  t.equal(stopped.FailureReason, undefined)
  const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'out/slow-1/' }))
  t.same(objects.Contents ?? [], [], 'nothing under S3OutputPath for a stopped job')
  const calls = stack.jobs.stats().modelCalls
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(stack.jobs.stats().modelCalls, calls, 'no model calls after Stopped')

  await sm.send(new StopTransformJobCommand({ TransformJobName: 'slow-1' }))
  t.pass('stopping a Stopped job again is accepted')

  await putLines(s3, 'in/quick.jsonl', [{ id: 1, text_inputs: article(1) }])
  await sm.send(new CreateTransformJobCommand(transformJobInput('quick-1', 'in/quick.jsonl', 'out/quick-1')))
  await waitFor(sm, 'quick-1', ended)
  const late = await rejection(t, sm.send(new StopTransformJobCommand({ TransformJobName: 'quick-1' })))
  t.equal(late.name, 'ValidationException')
  t.equal(late.message, 'The request was rejected because the transform job is in status Completed.')
})

// JumpStart's text2text container reads JSON records (application/json, application/jsonlines);
// another TransformInput.ContentType is the container's error and fails the job, as on AWS
t.test('a ContentType the container cannot read fails the job with the container\'s message', async (t) => {
  const { sm, s3 } = await setup(t)
  await putLines(s3, 'in/csv.jsonl', [{ id: 1, text_inputs: article(1) }])
  await sm.send(new CreateTransformJobCommand({
    ...transformJobInput('csv-1', 'in/csv.jsonl', 'out/csv-1'),
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/in/csv.jsonl` } }, ContentType: 'text/csv', SplitType: 'Line' }
  }))
  const failed = await waitFor(sm, 'csv-1', ended, 5_000)
  t.equal(failed.TransformJobStatus, 'Failed')
  t.equal(failed.FailureReason, 'ClientError: See job logs for more information. The model container refused the input: Content type text/csv is not supported; ' +
    'use application/json or application/jsonlines (one JSON object per line, {"text_inputs": ...}).')
  for (const contentType of ['application/jsonlines', 'application/json']) {
    const name = `ok-${contentType.split('/')[1] ?? ''}`
    await sm.send(new CreateTransformJobCommand({
      ...transformJobInput(name, 'in/csv.jsonl', `out/${name}`),
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/in/csv.jsonl` } }, ContentType: contentType, SplitType: 'Line' }
    }))
    t.equal((await waitFor(sm, name, ended, 5_000)).TransformJobStatus, 'Completed', contentType)
  }
})
