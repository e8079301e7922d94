import t from 'tap'
import { basename, formatS3Uri, joinKey, parseS3Uri, S3AllowList, S3UriError } from '../../src/sagemaker/s3-uri.js'

t.test('parses bucket and key; the key may be empty or a prefix', async t => {
  t.same(parseS3Uri('s3://my-bucket/a/b/c.jsonl'), { bucket: 'my-bucket', key: 'a/b/c.jsonl' })
  t.same(parseS3Uri('s3://my-bucket/prefix/'), { bucket: 'my-bucket', key: 'prefix/' })
  t.same(parseS3Uri('s3://my-bucket'), { bucket: 'my-bucket', key: '' })
  t.same(parseS3Uri('s3://my-bucket/'), { bucket: 'my-bucket', key: '' })
  t.same(parseS3Uri('s3://b.with.dots/k ey'), { bucket: 'b.with.dots', key: 'k ey' })
  t.equal(formatS3Uri(parseS3Uri('s3://my-bucket/a/b')), 's3://my-bucket/a/b')
})

t.test('malformed URIs are refused with a message naming the value', async t => {
  const cases: Array<[string, RegExp]> = [
    ['https://my-bucket/a', /"https:\/\/my-bucket\/a" is not an s3:\/\/ URI/],
    ['my-bucket/a', /is not an s3:\/\/ URI/],
    ['s3:/my-bucket/a', /is not an s3:\/\/ URI/],
    ['s3:///a', /invalid bucket name ""/],
    ['s3://My_Bucket/a', /invalid bucket name "My_Bucket"/],
    ['s3://ab/a', /invalid bucket name "ab"/],
    ['s3://a..b/a', /invalid bucket name "a..b"/],
    ['s3://my-bucket/allowed/../secret', /contains a "\." or "\.\." path segment/],
    ['s3://my-bucket/./x', /path segment/],
    ['s3://my-bucket/a\nb', /control characters/],
    [`s3://my-bucket/${'k'.repeat(1025)}`, /longer than 1024 bytes/],
    ['s3://my-bucket/a\\..\\b', /path segment/],
    ['s3://my-bucket/allowed/%2e%2e/secret', /percent-encoded/],
    ['s3://my-bucket/allowed/%2E/secret', /percent-encoded/],
    ['s3://my-bucket/allowed%2Fsecret', /percent-encoded/],
    ['s3://my-bucket/allowed%5csecret', /percent-encoded/]
  ]
  for (const [uri, message] of cases) {
    t.throws(() => parseS3Uri(uri), S3UriError, uri)
    t.throws(() => parseS3Uri(uri), { message }, uri)
  }
})

t.test('the allow-list treats each prefix as a folder', async t => {
  const list = new S3AllowList(['s3://data-bucket/team/data', 's3://other-bucket/'])
  t.ok(list.allows(parseS3Uri('s3://data-bucket/team/data/x.jsonl')))
  t.notOk(list.allows(parseS3Uri('s3://data-bucket/team/data')), 'the folder without its slash: as a key prefix it matches team/database too')
  t.equal(list.folderFor(parseS3Uri('s3://data-bucket/team/data')), 's3://data-bucket/team/data/')
  t.equal(list.folderFor(parseS3Uri('s3://data-bucket/team/dat')), undefined)
  t.notOk(list.allows(parseS3Uri('s3://data-bucket/team/Data/x.jsonl')), 'keys are case-sensitive')
  t.ok(list.allows(parseS3Uri('s3://data-bucket/team/data/')))
  t.notOk(list.allows(parseS3Uri('s3://data-bucket/team/database/x.jsonl')), 'a sibling sharing the first letters')
  t.notOk(list.allows(parseS3Uri('s3://data-bucket/team/')), 'the parent')
  t.notOk(list.allows(parseS3Uri('s3://data-bucket-2/team/data/x')), 'another bucket with the same prefix')
  t.ok(list.allows(parseS3Uri('s3://other-bucket/anything/at/all')), 'a whole bucket')
  t.equal(list.describe(), 's3://data-bucket/team/data/, s3://other-bucket/')
})

t.test('the default allow-list is s3://<bucket>/<S3_PREFIX>/', async t => {
  const list = S3AllowList.fromConfig(undefined, 'text2text-local', 'text2text-gateway')
  t.equal(list.describe(), 's3://text2text-local/text2text-gateway/')
  t.ok(list.allows(parseS3Uri('s3://text2text-local/text2text-gateway/datasets/x.jsonl')))
  t.notOk(list.allows(parseS3Uri('s3://text2text-local/elsewhere/x.jsonl')))
  const configured = S3AllowList.fromConfig(' s3://a-bucket/x/ , s3://b-bucket/y ', 'text2text-local', 'p')
  t.equal(configured.describe(), 's3://a-bucket/x/, s3://b-bucket/y/')
  t.throws(() => S3AllowList.fromConfig('s3://a-bucket/x,not-a-uri', 'b', 'p'), /"not-a-uri" is not an s3:\/\/ URI/)
  t.equal(S3AllowList.fromConfig(undefined, 'root-bucket', '').describe(), 's3://root-bucket/')
})

t.test('key helpers', async t => {
  t.equal(joinKey('a/', '/b/', 'c.jsonl'), 'a/b/c.jsonl')
  t.equal(joinKey('', 'datasets', 'x'), 'datasets/x')
  t.equal(basename('a/b/c.jsonl'), 'c.jsonl')
  t.equal(basename('c.jsonl'), 'c.jsonl')
})
