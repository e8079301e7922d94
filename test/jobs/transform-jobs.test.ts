import t from 'tap'
import { hyperParams, jobNameFor } from '../../src/jobs/requests.js'
import { canonicalJson, decodeManifest, encodeManifest, requestHash, type Manifest } from '../../src/jobs/manifest.js'
import { S3Layout } from '../../src/jobs/layout.js'
import { parseS3Uri } from '../../src/sagemaker/s3-uri.js'
import { parsePythonLiteral } from '../../src/sagemaker/python-literal.js'

const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/

t.test('job names: given, derived from the Idempotency-Key, or generated', async t => {
  t.equal(jobNameFor({ name: 'my-job', idempotencyKey: 'k' }), 'my-job', 'name wins over the key')
  const a = jobNameFor({ idempotencyKey: 'order-42' })
  t.equal(a, jobNameFor({ idempotencyKey: 'order-42' }), 'the same key gives the same name on any replica')
  t.not(a, jobNameFor({ idempotencyKey: 'order-43' }))
  t.match(a, /^t2t-[0-9a-f]{32}$/)
  t.match(a, SAGEMAKER_NAME)
  t.not(jobNameFor({ idempotencyKey: 'a' }), jobNameFor({ idempotencyKey: 'A' }), 'keys are case-sensitive')
  const generated = jobNameFor({ now: new Date('2025-03-04T05:06:07.890Z'), random: () => 'abcd1234' })
  t.equal(generated, 't2t-20250304050607-abcd1234')
  t.match(generated, SAGEMAKER_NAME)
  t.not(jobNameFor({}), jobNameFor({}), 'generated names differ')
})

t.test('HYPER_PARAMS is a Python literal with temperature and top_p as floats', async t => {
  const text = hyperParams({ max_length: 50, temperature: 1, top_p: 1, do_sample: true, early_stopping: false, batch_size: 8, seed: 3 })
  t.equal(text, "{'max_length': 50, 'temperature': 1.0, 'top_p': 1.0, 'do_sample': True, 'early_stopping': False, 'batch_size': 8, 'seed': 3}")
  t.same(parsePythonLiteral(text), { max_length: 50, temperature: 1, top_p: 1, do_sample: true, early_stopping: false, batch_size: 8, seed: 3 })
  t.equal(hyperParams({ temperature: 0.7 }), "{'temperature': 0.7}")
})

const MANIFEST: Manifest = {
  version: 1,
  name: 'cnn-eval-1',
  model: 'flan-t5-local',
  createdAt: '2025-01-01T00:00:00.000Z',
  idempotencyKey: 'order-42',
  requestHash: 'ab'.repeat(32),
  prompt: 'Summarize: ',
  parameters: { max_length: 50, batch_size: 4, temperature: 0.5 },
  input: { s3Uri: 's3://b-1/p/jobs/cnn-eval-1/0123456789ab/input/records.jsonl', source: 'records', recordCount: 3 },
  references: { s3Uri: 's3://b-1/p/jobs/cnn-eval-1/0123456789ab/references.jsonl', source: 'records' },
  output: { s3Uri: 's3://b-1/p/jobs/cnn-eval-1/0123456789ab/output' }
}

t.test('the manifest round-trips and bad ones are refused', async t => {
  t.same(decodeManifest(encodeManifest(MANIFEST)), MANIFEST)
  const minimal: Manifest = { ...MANIFEST, parameters: {} }
  delete minimal.prompt
  delete minimal.idempotencyKey
  delete minimal.references
  t.same(decodeManifest(encodeManifest(minimal)), minimal)
  t.throws(() => decodeManifest('{'), /manifest is not JSON/)
  t.throws(() => decodeManifest(JSON.stringify({ ...MANIFEST, version: 2 })), /manifest does not match version 1/)
  t.throws(() => decodeManifest(JSON.stringify({ ...MANIFEST, parameters: { max_length: 'x' } })), /max_length/)
  const { model: _model, ...noModel } = MANIFEST
  t.throws(() => decodeManifest(JSON.stringify(noModel)), /manifest does not match/)
})

t.test('request fingerprints ignore key order but not values', async t => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}')
  t.equal(requestHash({ a: 1, b: 2 }), requestHash({ b: 2, a: 1 }))
  t.not(requestHash({ a: 1 }), requestHash({ a: 2 }))
  t.not(requestHash({ input: { records: [{ id: 1 }, { id: 2 }] } }), requestHash({ input: { records: [{ id: 2 }, { id: 1 }] } }), 'record order matters')
})

t.test('the S3 layout finds a job\'s submission from its output path, and nothing else', async t => {
  const layout = new S3Layout('b-1', 'p')
  const sub = layout.newSubmission('cnn-eval-1')
  t.match(sub.base, /^p\/jobs\/cnn-eval-1\/[0-9a-f]{12}$/)
  t.not(layout.newSubmission('cnn-eval-1').base, sub.base, 'each submission gets its own prefix')
  t.equal(sub.manifest, `${sub.base}/manifest.json`)
  t.equal(sub.input, `${sub.base}/input/records.jsonl`)
  t.same(layout.submissionOf('cnn-eval-1', { bucket: 'b-1', key: sub.output }), sub)
  t.same(layout.submissionOf('cnn-eval-1', { bucket: 'b-1', key: sub.output + '/' }), sub, 'a trailing slash')
  t.equal(layout.submissionOf('other-job', { bucket: 'b-1', key: sub.output }), undefined, 'another job\'s path')
  t.equal(layout.submissionOf('cnn-eval-1', { bucket: 'b-2', key: sub.output }), undefined, 'another bucket')
  t.equal(layout.submissionOf('cnn-eval-1', { bucket: 'b-1', key: 'elsewhere/output' }), undefined)
  t.equal(layout.submissionOf('cnn-eval-1', { bucket: 'b-1', key: 'p/jobs/cnn-eval-1/a/b/output' }), undefined, 'nested deeper')

  const dataset = layout.newDataset('acme')
  t.match(dataset.key, /^p\/datasets\/acme\/[0-9a-f-]{36}\.jsonl$/)
  t.equal(layout.datasetInfoKey({ bucket: 'b-1', key: dataset.key }), dataset.infoKey)
  t.match(dataset.infoKey, /^p\/dataset-info\/acme\//)
  t.equal(layout.datasetInfoKey({ bucket: 'b-2', key: dataset.key }), undefined)
  t.equal(layout.datasetInfoKey(parseS3Uri('s3://b-1/other/datasets/6f1c1f5e-3c55-4f0b-9d55-0d7bba1c2b8e.jsonl')), undefined)
  const sha = 'a'.repeat(64)
  t.equal(layout.datasetInfoKey(parseS3Uri(`s3://b-1/p/datasets/${sha}.jsonl`)), `p/dataset-info/${sha}.json`, 'a dataset from before tenants')
  const root = new S3Layout('b-1', '')
  t.equal(root.datasetInfoKey({ bucket: 'b-1', key: root.newDataset('acme').key })?.startsWith('dataset-info/acme/'), true)
  t.equal(layout.rootUri, 's3://b-1/p/')
  t.equal(root.rootUri, 's3://b-1/')
})

t.test('S3Layout.ownerOf: which tenant may read a location used as a key prefix', async t => {
  const layout = new S3Layout('b-1', 'p')
  const owner = (uri: string): unknown => layout.ownerOf(parseS3Uri(uri))
  const sha = 'b'.repeat(64)
  t.same(owner('s3://b-1/p/datasets/acme/x.jsonl'), { kind: 'tenant', tenant: 'acme' })
  t.same(owner('s3://b-1/p/datasets/acme/'), { kind: 'tenant', tenant: 'acme' }, 'all of one tenant\'s datasets')
  t.same(owner(`s3://b-1/p/datasets/${sha}.jsonl`), { kind: 'tenant', tenant: 'default' }, 'from before tenants')
  t.same(owner('s3://b-1/p/datasets/acme'), { kind: 'gateway' }, 'a prefix that also matches datasets/acme2/')
  t.same(owner('s3://b-1/p/datasets/'), { kind: 'gateway' }, 'every tenant\'s datasets')
  t.same(owner('s3://b-1/p/datasets/b'), { kind: 'gateway' }, 'a partial legacy name')
  t.same(owner('s3://b-1/p/jobs/j/abc/output/'), { kind: 'gateway' }, 'job outputs')
  t.same(owner('s3://b-1/p/'), { kind: 'gateway' })
  t.same(owner('s3://b-1/p'), { kind: 'gateway' }, 'a prefix of the root matches all of it')
  t.same(owner('s3://b-1/'), { kind: 'gateway' })
  t.same(owner('s3://b-1/other/data.jsonl'), { kind: 'outside' })
  t.same(owner('s3://b-1/pp/data.jsonl'), { kind: 'outside' }, 'a sibling of the prefix')
  t.same(owner('s3://b-2/p/datasets/acme/x.jsonl'), { kind: 'outside' }, 'another bucket')
})
