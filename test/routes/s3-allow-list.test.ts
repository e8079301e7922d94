// ALLOWED_S3_PREFIXES end to end: a URI a caller sends is read as a key prefix (SageMaker's
// S3Prefix, the references and results readers), so it may only name keys inside an allowed
// folder, by whole path segments. Sibling folders sharing the first letters hold a secret.
import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createS3Client } from '../../src/sagemaker/clients.js'
import type { LocalStack } from '../../src/local/stack.js'
import { expectRejections, type Rejection } from '../helpers/http.js'
import { localApp } from '../helpers/local-app.js'
import { listKeys, ndjson, waitForJob } from '../helpers/jobs.js'

interface Teardown { teardown: (fn: () => void) => void }

const BUCKET = 'text2text-local'
const SECRET = 'Secret merger terms for Zanzibar Holdings.'

/** Objects in allowed `data/` and in the siblings `database/` and `Data/`, which hold a secret. */
async function seed (t: Teardown, stack: LocalStack): Promise<void> {
  const s3 = createS3Client(stack.awsTarget)
  t.teardown(() => { s3.destroy() })
  const put = async (Key: string, Body: string): Promise<void> => { await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body })) }
  await put('data/in/part-1.jsonl', '{"id":"public-1","text_inputs":"The river rose overnight. Then it fell."}\n')
  await put('data/refs/gold.jsonl', '{"id":"public-1","text":"The river rose."}\n')
  await put('database/secret.jsonl', `{"id":"secret-1","text_inputs":"${SECRET}"}\n`)
  await put('database/refs.jsonl', `{"id":"secret-1","text":"${SECRET}"}\n`)
  await put('Data/in.jsonl', `{"id":"secret-2","text_inputs":"${SECRET}"}\n`)
}

t.test('a URI naming an allowed folder without its slash is refused; with it, the job reads only that folder', async t => {
  const { app, stack } = await localApp(t, { ALLOWED_S3_PREFIXES: `s3://${BUCKET}/data` })
  await seed(t, stack)
  const records = [{ id: 'public-1', text: 'x' }]
  const cases: Rejection[] = [
    [{ input: { s3Uri: `s3://${BUCKET}/data` } }, 400, 'S3_URI_NOT_ALLOWED', /body\.input\.s3Uri "s3:\/\/text2text-local\/data" is read as a key prefix and would also match keys outside the allowed folder \(every key starting with "data"\); write the folder with its slash: "s3:\/\/text2text-local\/data\/"/],
    [{ input: { records }, references: { s3Uri: `s3://${BUCKET}/data` } }, 400, 'S3_URI_NOT_ALLOWED', /body\.references\.s3Uri "s3:\/\/text2text-local\/data" is read as a key prefix/],
    [{ input: { s3Uri: `s3://${BUCKET}/database/secret.jsonl` } }, 400, 'S3_URI_NOT_ALLOWED', /outside the allowed S3 prefixes: s3:\/\/text2text-local\/data\//],
    [{ input: { s3Uri: `s3://${BUCKET}/dat` } }, 400, 'S3_URI_NOT_ALLOWED', /outside the allowed S3 prefixes/],
    [{ input: { s3Uri: `s3://${BUCKET}/` } }, 400, 'S3_URI_NOT_ALLOWED', /outside the allowed S3 prefixes/],
    // S3 keys are case-sensitive: Data/ is another folder
    [{ input: { s3Uri: `s3://${BUCKET}/Data/in.jsonl` } }, 400, 'S3_URI_NOT_ALLOWED', /"s3:\/\/text2text-local\/Data\/in\.jsonl" is outside/],
    // bucket names are lowercase: no case-folding into the allowed bucket
    [{ input: { s3Uri: 's3://Text2text-local/data/in.jsonl' } }, 400, 'INVALID_S3_URI', /invalid bucket name "Text2text-local"/],
    [{ input: { s3Uri: `s3://${BUCKET}/data/../database/secret.jsonl` } }, 400, 'INVALID_S3_URI', /"\." or "\.\." path segment/],
    [{ input: { s3Uri: `s3://${BUCKET}/data/..\\database/secret.jsonl` } }, 400, 'INVALID_S3_URI', /"\." or "\.\." path segment/],
    [{ input: { s3Uri: `s3://${BUCKET}/data/%2e%2e/database/secret.jsonl` } }, 400, 'INVALID_S3_URI', /percent-encoded/],
    [{ input: { s3Uri: `s3://${BUCKET}/data/%2E./database` } }, 400, 'INVALID_S3_URI', /percent-encoded/],
    [{ input: { s3Uri: `s3://${BUCKET}/data%2Fbase/secret.jsonl` } }, 400, 'INVALID_S3_URI', /percent-encoded/],
    [{ input: { s3Uri: `s3://${BUCKET}/data/%2fetc` } }, 400, 'INVALID_S3_URI', /percent-encoded/]
  ]
  await expectRejections(t, app, '/v1/transform-jobs', cases)
  t.same(await listKeys(stack, 'text2text-gateway/jobs/'), [], 'no job was created')

  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'folder-job', input: { s3Uri: `s3://${BUCKET}/data/in/` }, references: { s3Uri: `s3://${BUCKET}/data/refs/` } } })
  t.equal(res.statusCode, 202, res.body)
  t.equal((await waitForJob(app, 'folder-job')).status, 'Completed')
  const results = await app.inject({ method: 'GET', url: '/v1/transform-jobs/folder-job/results' })
  t.same(ndjson(results.body).map(l => l.id), ['public-1'], 'only the allowed folder was read')
  t.notOk(results.body.includes('Zanzibar'), 'no sibling object reached the results')
  const evaluation = await app.inject({ method: 'POST', url: '/v1/transform-jobs/folder-job/evaluation', payload: {} })
  t.equal(evaluation.statusCode, 200, evaluation.body)
  t.same(evaluation.json().unmatched, [], 'references came from data/refs/ only')
  const refused = await app.inject({ method: 'POST', url: '/v1/transform-jobs/folder-job/evaluation', payload: { references: { s3Uri: `s3://${BUCKET}/data` } } })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'S3_URI_NOT_ALLOWED')
})

t.test("a job's stored references are checked again against today's allow-list", async t => {
  // submitted while the whole bucket was allowed, where s3://bucket/data was harmless
  const { app, stack, config } = await localApp(t, { ALLOWED_S3_PREFIXES: `s3://${BUCKET}/` })
  await seed(t, stack)
  const res = await app.inject({ method: 'POST', url: '/v1/transform-jobs', payload: { name: 'old-job', input: { s3Uri: `s3://${BUCKET}/data/in/part-1.jsonl` }, references: { s3Uri: `s3://${BUCKET}/data` } } })
  t.equal(res.statusCode, 202, res.body)
  await waitForJob(app, 'old-job')
  const narrowed = await buildApp({ ...config, ALLOWED_S3_PREFIXES: `s3://${BUCKET}/data/` }, { aws: stack.awsTarget })
  t.teardown(async () => { await narrowed.close() })
  const evaluation = await narrowed.inject({ method: 'POST', url: '/v1/transform-jobs/old-job/evaluation', payload: {} })
  t.equal(evaluation.statusCode, 400, evaluation.body)
  t.equal(evaluation.json().code, 'S3_URI_NOT_ALLOWED')
  t.match(evaluation.json().message, /the job's references\.s3Uri "s3:\/\/text2text-local\/data" is read as a key prefix/)
  t.notOk(evaluation.body.includes('Zanzibar'))
})
