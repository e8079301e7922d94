// ListObjectsV2 on the local S3 as the S3 API reference describes it
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html): "Returns some or all
// (up to 1,000) of the objects in a bucket"; "objects are returned sorted in an ascending order of
// the respective key names" (UTF-8 binary order); IsTruncated with a NextContinuationToken that
// continues the listing; each common prefix "counts as only one return against the MaxKeys value".
// Judged by clients we did not write (the AWS SDK's paginator, boto3's list_objects_v2 paginator)
// and against moto, an independent S3.
import { execFile } from 'node:child_process'
import t, { type Test } from 'tap'
import {
  CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, paginateListObjectsV2, type ListObjectsV2CommandInput
} from '@aws-sdk/client-s3'
import { localS3 } from '../helpers/local-s3.js'
import { LOCAL_REGION } from '../../src/local/wire.js'
import { motoMissing, startMoto } from '../helpers/moto.js'

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }

// the SDK's defaults, as a user's client has them (no checksum settings: ListObjectsV2 has none)
function client (t: Test, endpoint: string): S3Client {
  const c = new S3Client({ region: LOCAL_REGION, endpoint, credentials: CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' })
  t.teardown(() => { c.destroy() })
  return c
}

async function putAll (c: S3Client, bucket: string, keys: readonly string[], concurrency = 32): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < keys.length) {
      const key = keys[next++] as string
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))
    }
  }))
}

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

t.test('10,050 keys: the SDK paginator sees every key once, in order, 1,000 a page; StartAfter and MaxKeys page the same', async (t) => {
  const s3 = await localS3(t)
  const c = client(t, s3.url)
  // shuffled names; one in 50 nested a level deeper, so that '-' (0x2d) and '/' (0x2f) interleave
  const keys = Array.from({ length: 10_050 }, (_, i) => `bulk/${(i * 7919 % 10_050).toString().padStart(5, '0')}${i % 50 === 0 ? '/a' : '-a'}`)
  await putAll(c, s3.bucket, keys)
  const expected = [...keys].sort(utf8Order)

  const pages: Array<{ count: number, truncated: boolean }> = []
  const seen: string[] = []
  for await (const page of paginateListObjectsV2({ client: c }, { Bucket: s3.bucket, Prefix: 'bulk/' })) {
    pages.push({ count: page.KeyCount ?? -1, truncated: page.IsTruncated === true })
    for (const o of page.Contents ?? []) seen.push(o.Key ?? '')
  }
  t.equal(seen.length, 10_050, 'every key listed')
  t.same(seen, expected, 'each key once, in UTF-8 binary order')
  t.same(pages.map((p) => p.count), [...Array(10).fill(1000), 50], 'ten full pages of 1,000 and one of 50 (KeyCount)')
  t.same(pages.map((p) => p.truncated), [...Array(10).fill(true), false], 'IsTruncated on every page but the last')

  const startAfter = expected[4321] as string
  const paged: string[] = []
  for await (const page of paginateListObjectsV2({ client: c, pageSize: 777 }, { Bucket: s3.bucket, Prefix: 'bulk/', StartAfter: startAfter })) {
    t.ok((page.KeyCount ?? 0) <= 777, 'MaxKeys 777 respected')
    for (const o of page.Contents ?? []) paged.push(o.Key ?? '')
  }
  t.same(paged, expected.slice(4322), 'StartAfter: every later key once, across pages of 777')

  // boto3 sends EncodingType=url by default and decodes the keys itself
  const py = [
    'import boto3, json, os, sys',
    's3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1")',
    'keys, pages = [], 0',
    'for page in s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ["BUCKET"], Prefix="bulk/"):',
    '    pages += 1',
    '    keys += [o["Key"] for o in page.get("Contents", [])]',
    'json.dump({"pages": pages, "keys": keys}, sys.stdout)'
  ].join('\n')
  const boto = await new Promise<{ pages: number, keys: string[] } | string>((resolve) => {
    execFile('python3', ['-c', py], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', S3_URL: s3.url, BUCKET: s3.bucket, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 90_000
    }, (err, stdout, stderr) => { resolve(err === null ? JSON.parse(stdout) as { pages: number, keys: string[] } : `${err.message}\n${stderr.slice(-2000)}`) })
  })
  if (typeof boto === 'string') {
    t.fail(`boto3 paginator failed: ${boto}`)
  } else {
    t.equal(boto.pages, 11, 'boto3: 11 pages')
    t.same(boto.keys, expected, 'boto3 list_objects_v2 paginator: every key once, in order')
  }
})

// Keys where file-system order, UTF-16 order and S3's UTF-8 binary order disagree, and where a
// page boundary falls inside a common prefix.
const TRICKY = [
  'p/a-b', 'p/a/c', 'p/a/d/e', 'p/a.x', 'p/a0', 'p/b', 'p/b/1', 'p/b/2', 'p/b/3', 'p/c d+e&f<g>',
  'p/\u00e4', 'p/\uE000', 'p/\u{1F600}', 'p/z/', 'q', 'p-1/x'
]
const QUERIES: Array<Omit<ListObjectsV2CommandInput, 'Bucket'>> = [
  { Prefix: 'p/' },
  { Prefix: 'p/', MaxKeys: 2 },
  { Prefix: 'p/', Delimiter: '/', MaxKeys: 1 },
  { Prefix: 'p/', Delimiter: '/', MaxKeys: 3 },
  { Prefix: 'p/a', Delimiter: '/', MaxKeys: 1 },
  { Prefix: 'p/', StartAfter: 'p/a', MaxKeys: 4 },
  { Delimiter: '/', MaxKeys: 2 },
  { Prefix: 'p/', EncodingType: 'url', MaxKeys: 5 },
  { Prefix: 'nothing/' }
]

interface Page { keys: string[], prefixes: string[], keyCount?: number, truncated?: boolean, startAfter?: string, maxKeys?: number }

async function pagesOf (c: S3Client, bucket: string, query: Omit<ListObjectsV2CommandInput, 'Bucket'>): Promise<Page[]> {
  const pages: Page[] = []
  let token: string | undefined
  do {
    const out = await c.send(new ListObjectsV2Command({ Bucket: bucket, ...query, ContinuationToken: token }))
    pages.push({ keys: (out.Contents ?? []).map((o) => o.Key ?? ''), prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''), keyCount: out.KeyCount, truncated: out.IsTruncated, startAfter: out.StartAfter, maxKeys: out.MaxKeys })
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined
  } while (token !== undefined)
  return pages
}

t.test('order, delimiters and page boundaries inside common prefixes: as moto (an independent S3) answers', { skip: motoMissing }, async (t) => {
  const moto = await startMoto()
  t.teardown(moto.stop)
  const s3 = await localS3(t)
  const local = client(t, s3.url)
  const other = client(t, moto.url)
  await other.send(new CreateBucketCommand({ Bucket: s3.bucket }))
  await putAll(local, s3.bucket, TRICKY, 4)
  await putAll(other, s3.bucket, TRICKY, 4)
  for (const query of QUERIES) {
    const [ours, theirs] = [await pagesOf(local, s3.bucket, query), await pagesOf(other, s3.bucket, query)]
    t.same(ours, theirs, `pages of ${JSON.stringify(query)}`)
  }
  // not only equal to moto: right by the reference
  const all = (await pagesOf(local, s3.bucket, { Prefix: 'p/' })).flatMap((p) => p.keys)
  t.same(all, TRICKY.filter((k) => k.startsWith('p/')).sort(utf8Order), 'UTF-8 binary order (p/a-b before p/a/c; U+E000 before U+1F600)')
  const rolled = await pagesOf(local, s3.bucket, { Prefix: 'p/', Delimiter: '/', MaxKeys: 1 })
  t.same(rolled.flatMap((p) => p.prefixes), ['p/a/', 'p/b/', 'p/z/'], 'each common prefix once, though a page ends on it')
})

t.test('the local S3 alone: bad arguments as S3 names them', async (t) => {
  const s3 = await localS3(t)
  const c = client(t, s3.url)
  await putAll(c, s3.bucket, TRICKY, 4)
  await t.rejects(c.send(new ListObjectsV2Command({ Bucket: s3.bucket, ContinuationToken: 'not-a-token' })), { name: 'InvalidArgument', message: 'The continuation token provided is incorrect' })
  await t.rejects(c.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })), { name: 'NoSuchBucket' })
  const none = await c.send(new ListObjectsV2Command({ Bucket: s3.bucket, MaxKeys: 0 }))
  t.equal(none.KeyCount, 0, 'MaxKeys 0: no keys')
  // the JS SDK hands encoded keys to the caller as they came (boto3 decodes them itself)
  const encoded = await pagesOf(c, s3.bucket, { Prefix: 'p/c', EncodingType: 'url' })
  t.same(encoded.flatMap((p) => p.keys), ['p/c%20d%2Be%26f%3Cg%3E'], 'EncodingType url: keys URL-encoded, \'/\' kept')
})
