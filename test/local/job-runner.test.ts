// The Batch Transform job runner behind the local control plane, driven through the real
// SageMakerClient and S3Client: batching, ordering, failures, and crash-safe resume.
import { spawn } from 'node:child_process'
import { Readable } from 'node:stream'
import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import {
  CreateTransformJobCommand, DescribeTransformJobCommand,
  type DescribeTransformJobCommandOutput, type SageMakerClient
} from '@aws-sdk/client-sagemaker'
import { summarize } from '../../src/local/engine.js'
import type { JobCheckpoint, JobRecord } from '../../src/local/job-store.js'
import { openLocalStack, tempDir, transformJobInput } from '../helpers/local-sagemaker.js'
import { parsePythonLiteral } from '../../src/sagemaker/python-literal.js'

const BUCKET = 'text2text-local'
const REPO = fileURLToPath(new URL('../../', import.meta.url))

function article (i: number): string {
  return `Item ${i} leads the story. Its second sentence adds detail. A third sentence ends the lead. Nobody reads the fourth.`
}

function jsonl (records: unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n'
}

async function put (s3: S3Client, key: string, body: string | Buffer): Promise<void> {
  // an explicit length: the SDK warns about a body whose length it cannot tell (the empty string)
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }))
}

async function readText (s3: S3Client, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  return await out.Body?.transformToString('utf8') ?? ''
}

async function keys (s3: S3Client, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))
  return (out.Contents ?? []).map((o) => o.Key ?? '')
}

async function until<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function ended (sm: SageMakerClient, name: string, timeoutMs = 8_000): Promise<DescribeTransformJobCommandOutput> {
  return await until(`${name} to end`, async () => {
    const d = await sm.send(new DescribeTransformJobCommand({ TransformJobName: name }))
    return d.TransformJobStatus === 'InProgress' || d.TransformJobStatus === 'Stopping' ? undefined : d
  }, timeoutMs)
}

/** The .out's lines parsed from Python literals. */
function outLines (text: string): Array<{ id?: unknown, generated_texts: unknown }> {
  return text.split('\n').filter((l) => l !== '').map((l) => parsePythonLiteral(l) as { id?: unknown, generated_texts: unknown })
}

async function readJson<T> (path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

t.test('HYPER_PARAMS batch_size sets records per model call; different parameters never share one', async (t) => {
  const dir = await tempDir(t)
  const { sm, s3, stack } = await openLocalStack(t, dir)
  const records = Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, text_inputs: article(i) }))
  await put(s3, 'in/ten.jsonl', jsonl(records))

  await sm.send(new CreateTransformJobCommand(transformJobInput('one-per-call', 'in/ten.jsonl', 'out/one')))
  t.equal((await ended(sm, 'one-per-call')).TransformJobStatus, 'Completed')
  t.equal(stack.jobs.stats().modelCalls, 10, 'no HYPER_PARAMS: batch_size 1, one call per record')

  stack.jobs.resetStats()
  await sm.send(new CreateTransformJobCommand(transformJobInput('four-per-call', 'in/ten.jsonl', 'out/four', {
    Environment: { HYPER_PARAMS: "{'batch_size': 4, 'max_length': 6, 'do_sample': False}" }
  })))
  t.equal((await ended(sm, 'four-per-call')).TransformJobStatus, 'Completed')
  t.same(stack.jobs.stats().batchSizes, [4, 4, 2], 'batch_size 4: 3 calls')
  t.same(outLines(await readText(s3, 'out/four/ten.jsonl.out')).map((o) => o.generated_texts),
    records.map((r) => summarize(r.text_inputs, { max_length: 6 })), 'job-wide parameters applied to every record')

  stack.jobs.resetStats()
  const mixed = records.map((r, i) => (i === 5 || i === 6 ? { ...r, max_length: 3 } : i === 8 ? { ...r, num_return_sequences: 2, num_beams: 2 } : r))
  await put(s3, 'in/mixed.jsonl', jsonl(mixed))
  await sm.send(new CreateTransformJobCommand(transformJobInput('mixed', 'in/mixed.jsonl', 'out/mixed', {
    Environment: { HYPER_PARAMS: "{'batch_size': 4, 'max_length': 6}" }
  })))
  t.equal((await ended(sm, 'mixed')).TransformJobStatus, 'Completed')
  // JumpStart FLAN-T5 (amazon-sagemaker-examples, text2text-generation-flan-t5-Batch-Transform.ipynb,
  // "Specify Batch Transform Job HyperParameters"): "If any of these are passed, then the advanced
  // hyper-parameters from the individual examples in the JSONLINES payload will not be used."
  t.same(stack.jobs.stats().batchSizes, [4, 4, 2], 'HYPER_PARAMS set: the records\' own parameters do not split the batches')
  const out = outLines(await readText(s3, 'out/mixed/mixed.jsonl.out'))
  t.same(out.map((o) => o.id), mixed.map((r) => r.id), 'input order kept')
  t.same(out[5].generated_texts, summarize(article(5), { max_length: 6 }), 'HYPER_PARAMS set: a record\'s max_length is not used')
  t.same(out[8].generated_texts, summarize(article(8), { max_length: 6 }), 'HYPER_PARAMS set: nor its num_return_sequences')
  t.same(out[9].generated_texts, summarize(article(9), { max_length: 6 }))

  // "If you don't want to pass it, set it to None, and in that case advanced hyper-parameters
  // from the individual examples in the JSONLINES payload will be used and inference will be run
  // on each example at a time."
  stack.jobs.resetStats()
  await sm.send(new CreateTransformJobCommand(transformJobInput('per-record', 'in/mixed.jsonl', 'out/per-record')))
  t.equal((await ended(sm, 'per-record')).TransformJobStatus, 'Completed')
  t.equal(stack.jobs.stats().modelCalls, 10, 'no HYPER_PARAMS: one example at a time')
  const own = outLines(await readText(s3, 'out/per-record/mixed.jsonl.out'))
  t.same(own[5].generated_texts, summarize(article(5), { max_length: 3 }), 'no HYPER_PARAMS: the record\'s own max_length')
  t.same(own[8].generated_texts, summarize(article(8), { num_return_sequences: 2 }), 'no HYPER_PARAMS: the record\'s own num_return_sequences')
  t.same(own[9].generated_texts, summarize(article(9)))

  stack.jobs.resetStats()
  await sm.send(new CreateTransformJobCommand(transformJobInput('single', 'in/ten.jsonl', 'out/single', {
    BatchStrategy: 'SingleRecord', Environment: { HYPER_PARAMS: "{'batch_size': 4}" }
  })))
  t.equal((await ended(sm, 'single')).TransformJobStatus, 'Completed')
  t.equal(stack.jobs.stats().modelCalls, 10, 'SingleRecord: one record per call whatever batch_size says')

  stack.jobs.resetStats()
  // ~400 KB records: at most two fit in MaxPayloadInMB 1 whatever batch_size allows
  const big = Array.from({ length: 5 }, (_, i) => ({ id: i, text_inputs: `${article(i)} ${'filler words here. '.repeat(21_000)}` }))
  await put(s3, 'in/big.jsonl', jsonl(big))
  await sm.send(new CreateTransformJobCommand(transformJobInput('big', 'in/big.jsonl', 'out/big', {
    MaxPayloadInMB: 1, Environment: { HYPER_PARAMS: "{'batch_size': 10, 'max_length': 4}" }
  })))
  t.equal((await ended(sm, 'big')).TransformJobStatus, 'Completed')
  t.same(stack.jobs.stats().batchSizes, [2, 2, 1], 'MaxPayloadInMB bounds a call')
})

t.test('every object under a prefix, in key order, one .out each; concurrency keeps output order', async (t) => {
  const dir = await tempDir(t)
  const { sm, s3, stack } = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 30 })
  await put(s3, 'data/set/b.jsonl', jsonl(Array.from({ length: 12 }, (_, i) => ({ id: `b${i}`, text_inputs: article(i) }))))
  await put(s3, 'data/set/a.jsonl', '\n' + jsonl([{ id: 'a0', text_inputs: article(0) }]) + '\n  \n' + jsonl([{ id: 'a1', text_inputs: article(1) }]))
  await put(s3, 'data/set/sub/c.jsonl', jsonl([{ id: 'c0', text_inputs: article(2) }]).replace('\n', '\r\n'))
  await put(s3, 'data/set/empty.jsonl', '')
  await put(s3, 'data/set/blank.jsonl', '\n  \n')
  await put(s3, 'data/set/folder/', '')

  await sm.send(new CreateTransformJobCommand(transformJobInput('prefix-1', 'data/set/', 'out/p1', {
    MaxConcurrentTransforms: 4, Environment: { HYPER_PARAMS: "{'batch_size': 2}" }
  })))
  const done = await ended(sm, 'prefix-1')
  t.equal(done.TransformJobStatus, 'Completed', done.FailureReason ?? '')
  t.same((await keys(s3, 'out/p1/')).sort(), ['out/p1/a.jsonl.out', 'out/p1/b.jsonl.out', 'out/p1/blank.jsonl.out', 'out/p1/sub/c.jsonl.out'],
    'one .out per non-empty object, named by its path under the prefix; zero-byte and folder keys skipped; nothing else')
  t.equal(await readText(s3, 'out/p1/blank.jsonl.out'), '', 'an object of blank lines has an empty .out')
  t.same(outLines(await readText(s3, 'out/p1/a.jsonl.out')).map((o) => o.id), ['a0', 'a1'], 'blank lines skipped')
  t.same(outLines(await readText(s3, 'out/p1/b.jsonl.out')).map((o) => o.id), Array.from({ length: 12 }, (_, i) => `b${i}`),
    'in input order although 4 calls ran at once')
  t.same(outLines(await readText(s3, 'out/p1/sub/c.jsonl.out')).map((o) => o.id), ['c0'], 'CRLF line ends accepted')
  t.equal(stack.jobs.stats().maxInFlight, 4, 'MaxConcurrentTransforms calls in flight at once')

  // a manifest names objects relative to its prefix
  await put(s3, 'manifests/m.json', JSON.stringify([{ prefix: `s3://${BUCKET}/data/set/` }, 'sub/c.jsonl', 'a.jsonl']))
  await sm.send(new CreateTransformJobCommand({
    ...transformJobInput('manifest-1', 'manifests/m.json', 'out/m1'),
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: `s3://${BUCKET}/manifests/m.json` } }, SplitType: 'Line' }
  }))
  t.equal((await ended(sm, 'manifest-1')).TransformJobStatus, 'Completed')
  t.same((await keys(s3, 'out/m1/')).sort(), ['out/m1/a.jsonl.out', 'out/m1/sub/c.jsonl.out'], 'ManifestFile input')

  // SplitType None: the whole object is one record, even pretty-printed over many lines
  await put(s3, 'data/whole.json', JSON.stringify({ id: 'w', text_inputs: article(3) }, null, 2))
  await sm.send(new CreateTransformJobCommand({
    ...transformJobInput('whole-1', 'data/whole.json', 'out/w1'),
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/whole.json` } }, SplitType: 'None' }
  }))
  t.equal((await ended(sm, 'whole-1')).TransformJobStatus, 'Completed')
  t.equal(await readText(s3, 'out/w1/whole.json.out'), `{'id': 'w', 'generated_texts': ['${summarize(article(3))[0]}']}\n`)

  // a single object named exactly, gzip-compressed, records without ids
  await put(s3, 'data/one.jsonl.gz', gzipSync(jsonl([{ text_inputs: article(7) }, { text_inputs: article(8) }])))
  await sm.send(new CreateTransformJobCommand({
    ...transformJobInput('gzip-1', 'data/one.jsonl.gz', 'out/g1/'),
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/one.jsonl.gz` } }, SplitType: 'Line', CompressionType: 'Gzip' }
  }))
  t.equal((await ended(sm, 'gzip-1')).TransformJobStatus, 'Completed')
  t.equal(await readText(s3, 'out/g1/one.jsonl.gz.out'),
    `{'generated_texts': ['${summarize(article(7))[0]}']}\n{'generated_texts': ['${summarize(article(8))[0]}']}\n`, 'no id in, no id out')
})

t.test('a record the model fails on, or a malformed line, fails the job with a FailureReason', async (t) => {
  const dir = await tempDir(t)
  const { sm, s3, stack } = await openLocalStack(t, dir, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const records = Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, text_inputs: i === 5 ? 'This record carries POISON. It fails.' : article(i) }))
  await put(s3, 'in/poison.jsonl', jsonl(records))
  await sm.send(new CreateTransformJobCommand(transformJobInput('poisoned', 'in/poison.jsonl', 'out/poisoned', {
    Environment: { HYPER_PARAMS: "{'batch_size': 2}" }
  })))
  const failed = await ended(sm, 'poisoned')
  t.equal(failed.TransformJobStatus, 'Failed')
  t.equal(failed.FailureReason, "ClientError: See job logs for more information. Record id 'p5' (line 6 of s3://text2text-local/in/poison.jsonl): " +
    'the model failed on this input: it matches the fault pattern /POISON/ (LOCAL_FAULT_MODEL_ERROR_PATTERN).')
  t.ok(failed.TransformEndTime instanceof Date)
  t.same(await keys(s3, 'out/poisoned/'), [], 'nothing under S3OutputPath for a failed job')
  t.equal(stack.jobs.stats().modelCalls, 3, 'the job stopped at the failing call')

  await put(s3, 'in/broken.jsonl', jsonl([{ id: 1, text_inputs: article(1) }]) + '{"id": 2, "text_inputs": \n')
  await sm.send(new CreateTransformJobCommand(transformJobInput('broken', 'in/broken.jsonl', 'out/broken')))
  const broken = await ended(sm, 'broken')
  t.equal(broken.TransformJobStatus, 'Failed')
  t.match(broken.FailureReason, /^ClientError: See job logs for more information\. Line 2 of s3:\/\/text2text-local\/in\/broken\.jsonl is not valid JSON/)

  await put(s3, 'in/badparam.jsonl', jsonl([{ id: 'x1', text_inputs: article(1), max_length: 0 }]))
  await sm.send(new CreateTransformJobCommand(transformJobInput('badparam', 'in/badparam.jsonl', 'out/badparam')))
  t.equal((await ended(sm, 'badparam')).FailureReason,
    `ClientError: See job logs for more information. Record id 'x1' (line 1 of s3://${BUCKET}/in/badparam.jsonl): "max_length" must be an integer >= 1, got 0`,
    "the container's own validation message, naming the record")

  await sm.send(new CreateTransformJobCommand(transformJobInput('hyper', 'in/badparam.jsonl', 'out/hyper', { Environment: { HYPER_PARAMS: '{"batch_size": 0}' } })))
  t.match((await ended(sm, 'hyper')).FailureReason, /HYPER_PARAMS batch_size must be a positive integer, got 0/)

  // an empty input is refused by CreateTransformJob itself (control-plane.test.ts)
})

// Batch Transform writes only "<input file>.out" under S3OutputPath (SageMaker Developer Guide,
// "Use batch transform to run inference"): the runner's progress lives in its checkpoint instead
t.test('while a job runs nothing appears under S3OutputPath; its progress is in the checkpoint', async (t) => {
  const dir = await tempDir(t)
  // 20 calls of 100 ms: 2 s
  const { sm, s3 } = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 100 })
  await put(s3, 'in/progress.jsonl', jsonl(Array.from({ length: 20 }, (_, i) => ({ id: i, text_inputs: article(i) }))))
  await sm.send(new CreateTransformJobCommand(transformJobInput('progress-1', 'in/progress.jsonl', 'out/progress-1')))
  const seen: number[] = []
  const outputs = new Set<string>()
  const done = await until('the job to end', async () => {
    const cp = await readJson<JobCheckpoint>(join(dir, 'jobs', 'progress-1', 'checkpoint.json'))
    if (cp !== undefined && seen.at(-1) !== cp.processed) seen.push(cp.processed)
    const d = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'progress-1' }))
    if (d.TransformJobStatus === 'InProgress') for (const k of await keys(s3, 'out/progress-1/')) outputs.add(k)
    return d.TransformJobStatus === 'InProgress' ? undefined : d
  })
  t.equal(done.TransformJobStatus, 'Completed')
  t.ok(seen.some((n) => n > 0 && n < 20), `progress seen in the checkpoint while running: ${seen.join(', ')}`)
  t.same([...outputs].filter((k) => !k.endsWith('.out')), [], 'no object but .out under S3OutputPath while running')
  t.same(await keys(s3, 'out/progress-1/'), ['out/progress-1/progress.jsonl.out'], 'only the .out at the end')
})

t.test('crash mid-job, restart over the same data dir: the job completes with every id exactly once', async (t) => {
  const dir = await tempDir(t)
  const total = 240
  const records = Array.from({ length: total }, (_, i) => ({ id: i, text_inputs: article(i) }))
  // 48 calls of 5 records at 25 ms, two at a time: about 0.6 s of model time
  const first = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 25 })
  await put(first.s3, 'in/crash.jsonl', jsonl(records))
  await first.sm.send(new CreateTransformJobCommand(transformJobInput('crashy', 'in/crash.jsonl', 'out/crashy', {
    MaxConcurrentTransforms: 2, Environment: { HYPER_PARAMS: "{'batch_size': 5}" }
  })))
  await until('a third of the records', () => first.stack.jobs.stats().records >= total / 3 ? true : undefined)
  await first.stack.jobs.crash()
  await first.close()

  const jobDir = join(dir, 'jobs', 'crashy')
  const record = await readJson<JobRecord>(join(jobDir, 'job.json'))
  const checkpoint = await readJson<JobCheckpoint>(join(jobDir, 'checkpoint.json'))
  t.equal(record?.status, 'InProgress', 'the crash left the job InProgress')
  t.ok(checkpoint !== undefined && checkpoint.processed > 0 && checkpoint.processed < total, `checkpoint mid-job (${checkpoint?.processed ?? '?'} of ${total})`)
  // A torn write past the checkpoint, as a crash between spool write and checkpoint leaves.
  await appendFile(join(jobDir, 'spool', '0.out'), "{'id': 9999, 'generated_texts': ['torn")

  const second = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 25 })
  const done = await ended(second.sm, 'crashy')
  t.equal(done.TransformJobStatus, 'Completed', done.FailureReason ?? '')
  const ids = outLines(await readText(second.s3, 'out/crashy/crash.jsonl.out')).map((o) => o.id)
  t.same(ids, records.map((r) => r.id), 'every id exactly once, in input order')
  t.equal(second.stack.jobs.stats().records, total - (checkpoint?.processed ?? 0), 'the resumed run started right after the checkpoint')
  await second.stack.jobs.idle()
  t.equal(await readJson(join(jobDir, 'checkpoint.json')), undefined, 'work files removed once Completed')
})

t.test('a graceful close leaves jobs InProgress and the next start resumes them; Stopping becomes Stopped', async (t) => {
  const dir = await tempDir(t)
  const records = Array.from({ length: 60 }, (_, i) => ({ id: `g${i}`, text_inputs: article(i) }))
  const first = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 20 })
  await put(first.s3, 'in/graceful.jsonl', jsonl(records))
  await first.sm.send(new CreateTransformJobCommand(transformJobInput('graceful', 'in/graceful.jsonl', 'out/graceful', {
    Environment: { HYPER_PARAMS: "{'batch_size': 3}" }
  })))
  await first.sm.send(new CreateTransformJobCommand(transformJobInput('halted', 'in/graceful.jsonl', 'out/halted')))
  await until('some progress', () => first.stack.jobs.stats().records >= 12 ? true : undefined)
  await first.stack.jobs.crash()
  // after crash() nothing reaches the disk, as if the process were gone
  await first.stack.jobs.store.update('halted', { status: 'Stopping' })
  await first.close()
  const halted = await readJson<JobRecord>(join(dir, 'jobs', 'halted', 'job.json'))
  t.equal(halted?.status, 'InProgress', 'a crashed store writes nothing')

  const second = await openLocalStack(t, dir, { LOCAL_LATENCY_BASE_MS: 20 })
  await until('progress', () => second.stack.jobs.stats().records >= 12 ? true : undefined)
  await second.close()
  const mid = await readJson<JobRecord>(join(dir, 'jobs', 'graceful', 'job.json'))
  t.equal(mid?.status, 'InProgress', 'closing the stack does not end the job')

  const third = await openLocalStack(t, dir)
  const done = await ended(third.sm, 'graceful')
  t.equal(done.TransformJobStatus, 'Completed')
  t.same(outLines(await readText(third.s3, 'out/graceful/graceful.jsonl.out')).map((o) => o.id), records.map((r) => r.id))

  // a job left Stopping by a crash is Stopped on the next start
  const fourthDir = await tempDir(t)
  const a = await openLocalStack(t, fourthDir, { LOCAL_LATENCY_BASE_MS: 50 })
  await put(a.s3, 'in/x.jsonl', jsonl(records))
  await a.sm.send(new CreateTransformJobCommand(transformJobInput('left-stopping', 'in/x.jsonl', 'out/ls')))
  await until('a call', () => a.stack.jobs.stats().modelCalls >= 1 ? true : undefined)
  await a.stack.jobs.close()
  await a.stack.jobs.store.update('left-stopping', { status: 'Stopping' })
  await a.close()
  const b = await openLocalStack(t, fourthDir)
  t.equal((await ended(b.sm, 'left-stopping')).TransformJobStatus, 'Stopped')
})

t.test('SIGKILL of a real process mid-job, then a new stack over its data dir completes the job exactly once', async (t) => {
  const dir = await tempDir(t)
  const total = 300
  const child = `
    import { PutObjectCommand } from '@aws-sdk/client-s3'
    import { CreateTransformJobCommand } from '@aws-sdk/client-sagemaker'
    import { startLocalStack } from ${JSON.stringify(join(REPO, 'src/local/stack.ts'))}
    import { testConfig } from ${JSON.stringify(join(REPO, 'src/config.ts'))}
    import { createControlClient, createS3Client } from ${JSON.stringify(join(REPO, 'src/sagemaker/clients.ts'))}
    const stack = await startLocalStack(testConfig({ LOCAL_DATA_DIR: ${JSON.stringify(dir)}, LOCAL_LATENCY_BASE_MS: 20 }))
    const s3 = createS3Client(stack.awsTarget)
    const sm = createControlClient(stack.awsTarget)
    const lines = Array.from({ length: ${total} }, (_, i) => JSON.stringify({ id: 'k' + i, text_inputs: 'Lead ' + i + ' here. Then more. And more still. Not this.' }))
    await s3.send(new PutObjectCommand({ Bucket: 'text2text-local', Key: 'in/kill.jsonl', Body: lines.join('\\n') + '\\n' }))
    await sm.send(new CreateTransformJobCommand({
      TransformJobName: 'killed', ModelName: 'flan-t5-local', BatchStrategy: 'MultiRecord',
      Environment: { HYPER_PARAMS: "{'batch_size': 4}" },
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://text2text-local/in/kill.jsonl' } }, SplitType: 'Line' },
      TransformOutput: { S3OutputPath: 's3://text2text-local/out/killed', AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1 }
    }))
    process.stdout.write('created\\n')
    setInterval(() => {}, 1000)
  `
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (proc.exitCode === null) proc.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  await until('the child to create the job', () => {
    if (proc.exitCode !== null) throw new Error(`child exited ${proc.exitCode}: ${stderr}`)
    return stdout.includes('created') ? true : undefined
  }, 15_000)
  const checkpointPath = join(dir, 'jobs', 'killed', 'checkpoint.json')
  await until('a checkpoint past 60 records', async () => ((await readJson<JobCheckpoint>(checkpointPath))?.processed ?? 0) >= 60 ? true : undefined)
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.kill('SIGKILL')
  await exited
  const checkpoint = await readJson<JobCheckpoint>(checkpointPath)
  t.ok(checkpoint !== undefined && checkpoint.processed < total, `killed mid-job (checkpoint at ${checkpoint?.processed ?? '?'} of ${total})`)

  const next = await openLocalStack(t, dir)
  const done = await ended(next.sm, 'killed')
  t.equal(done.TransformJobStatus, 'Completed', done.FailureReason ?? '')
  const ids = outLines(await readText(next.s3, 'out/killed/kill.jsonl.out')).map((o) => o.id)
  t.same(ids, Array.from({ length: total }, (_, i) => `k${i}`), 'every id exactly once, in input order')
  t.ok(next.stack.jobs.stats().records <= total - (checkpoint?.processed ?? 0), 'resumed from the checkpoint, not from the start')
})

t.test('memory: a large job is streamed, not loaded', async (t) => {
  const dir = await tempDir(t)
  const { sm, s3, stack } = await openLocalStack(t, dir, {}, { controlPlane: { uploadPartBytes: 5 * 1024 * 1024 } })
  const total = 20_000
  // ~1 KB per record: a 20 MB input (a standalone 100,000-record, 100 MB run grew RSS by ~46 MB)
  const filler = ' Extra words keep the record long enough to matter for memory.'.repeat(14)
  function * lines (): Generator<string> {
    for (let i = 0; i < total; i++) yield JSON.stringify({ id: i, text_inputs: `Lead sentence ${i}.${filler}` }) + '\n'
  }
  // streamed up, so the test itself holds no copy of the input
  await new Upload({ client: s3, params: { Bucket: BUCKET, Key: 'in/large.jsonl', Body: Readable.from(lines()) } }).done()
  const baseline = process.memoryUsage()
  let peak = baseline.rss
  let peakHeap = baseline.heapUsed
  let peakExternal = baseline.external
  const sampler = setInterval(() => {
    const now = process.memoryUsage()
    peak = Math.max(peak, now.rss)
    peakHeap = Math.max(peakHeap, now.heapUsed)
    peakExternal = Math.max(peakExternal, now.external)
  }, 10)
  t.teardown(() => { clearInterval(sampler) })
  const started = Date.now()
  await sm.send(new CreateTransformJobCommand(transformJobInput('large', 'in/large.jsonl', 'out/large', {
    MaxConcurrentTransforms: 4, Environment: { HYPER_PARAMS: "{'batch_size': 32}" }
  })))
  const done = await ended(sm, 'large', 60_000)
  clearInterval(sampler)
  t.equal(done.TransformJobStatus, 'Completed', done.FailureReason ?? '')
  const mb = (bytes: number): string => (bytes / 1048576).toFixed(1)
  const growthMb = (peak - baseline.rss) / 1048576
  t.comment(`${total} records (~${Math.round(total * 1e3 / 1e6)} MB) in ${Date.now() - started} ms; RSS ${mb(baseline.rss)} -> peak ${mb(peak)} MB ` +
    `(+${growthMb.toFixed(1)}); heap used ${mb(baseline.heapUsed)} -> ${mb(peakHeap)} MB; external ${mb(baseline.external)} -> ${mb(peakExternal)} MB`)
  t.ok(growthMb < 100, `RSS grew ${growthMb.toFixed(1)} MB (< 100 MB)`)
  t.equal(stack.jobs.stats().records, total)
  const head = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'out/large/large.jsonl.out', Range: 'bytes=0-200' }))
  t.match(await head.Body?.transformToString(), /^\{'id': 0, 'generated_texts': \['Lead sentence 0\./)
})
