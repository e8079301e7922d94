import t from 'tap'
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { LocalS3 } from '../../src/local/s3.js'
import { localS3 } from '../helpers/local-s3.js'
import { LOCAL_REGION } from '../../src/local/wire.js'

function client (s3: LocalS3, credentials: { accessKeyId: string, secretAccessKey: string }): S3Client {
  return new S3Client({
    region: LOCAL_REGION,
    endpoint: s3.url,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  })
}

// The local stack promises "any credentials" (as the local SageMaker): whatever key pair a user's
// SDK finds in its environment or profile must work, not only s3rver's built-in S3RVER pair.
t.test('any credentials are accepted', async (t) => {
  const s3 = await localS3(t)
  for (const credentials of [
    { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    { accessKeyId: 'testing', secretAccessKey: 'testing' }
  ]) {
    const c = client(s3, credentials)
    t.teardown(() => { c.destroy() })
    await c.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `k-${credentials.accessKeyId}`, Body: 'hello' }))
    const got = await c.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `k-${credentials.accessKeyId}` }))
    t.equal(await got.Body?.transformToString(), 'hello', `${credentials.accessKeyId}: PutObject and GetObject`)
    const listed = await c.send(new ListObjectsV2Command({ Bucket: s3.bucket }))
    t.ok(listed.Contents?.some((o) => o.Key === `k-${credentials.accessKeyId}`), `${credentials.accessKeyId}: ListObjectsV2`)
  }
})

// S3 API reference, CreateBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html),
// error BucketAlreadyOwnedByYou: "Amazon S3 returns this error in all Amazon Web Services Regions
// except in the North Virginia Region. For legacy compatibility, if you re-create an existing
// bucket that you already own in the North Virginia Region, Amazon S3 returns 200 OK". The local
// stack is us-east-1 and every bucket in it is the caller's own.
t.test('CreateBucket of one\'s own existing bucket answers 200, as us-east-1 does', async (t) => {
  const s3 = await localS3(t)
  const c = client(s3, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' })
  t.teardown(() => { c.destroy() })
  t.equal(LOCAL_REGION, 'us-east-1')
  const again = await c.send(new CreateBucketCommand({ Bucket: s3.bucket }))
  t.equal(again.$metadata.httpStatusCode, 200, 'the local bucket again')
  t.equal(again.Location, `/${s3.bucket}`)
  const fresh = await c.send(new CreateBucketCommand({ Bucket: 'my-notebook-bucket' }))
  t.equal(fresh.$metadata.httpStatusCode, 200, 'a new bucket')
  const twice = await c.send(new CreateBucketCommand({ Bucket: 'my-notebook-bucket' }))
  t.equal(twice.$metadata.httpStatusCode, 200, 'the new bucket again')
  await c.send(new PutObjectCommand({ Bucket: 'my-notebook-bucket', Key: 'kept', Body: 'x' }))
  await c.send(new CreateBucketCommand({ Bucket: 'my-notebook-bucket' }))
  const listed = await c.send(new ListObjectsV2Command({ Bucket: 'my-notebook-bucket' }))
  t.same(listed.Contents?.map((o) => o.Key), ['kept'], 're-creating keeps the objects')
})
