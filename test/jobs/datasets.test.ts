import { Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { S3Client } from '@aws-sdk/client-s3'
import t from 'tap'
import { Datasets, DatasetInvalidError } from '../../src/jobs/datasets.js'
import { S3Layout } from '../../src/jobs/layout.js'
import { DEFAULT_TENANT } from '../../src/tenants.js'

interface SentRequest { method: string, path: string, query: Record<string, unknown>, body?: unknown }

/**
 * An S3 client whose transport answers in-process and throws request bodies away (counting
 * them), so the test measures the upload path alone: no network, no disk, no S3 server.
 */
function fakeS3 (onPart: () => void = () => {}): { client: S3Client, calls: string[], bytes: () => number } {
  const calls: string[] = []
  let bytes = 0
  const xml = (body: string): Readable => Readable.from([Buffer.from(body)])
  const handler = {
    handle: async (request: SentRequest) => {
      const q = request.query
      let op: string
      if (request.method === 'POST' && 'uploads' in q) op = 'CreateMultipartUpload'
      else if (request.method === 'PUT' && 'uploadId' in q) op = 'UploadPart'
      else if (request.method === 'POST' && 'uploadId' in q) op = 'CompleteMultipartUpload'
      else if (request.method === 'DELETE' && 'uploadId' in q) op = 'AbortMultipartUpload'
      else if (request.method === 'PUT') op = 'PutObject'
      else op = `${request.method} ${request.path}`
      calls.push(op)
      if (op === 'UploadPart') onPart()
      const body = request.body
      if (body instanceof Uint8Array) bytes += body.byteLength
      else if (typeof body === 'string') bytes += Buffer.byteLength(body)
      else if (body instanceof Readable) for await (const chunk of body) bytes += (chunk as Buffer).length
      const headers: Record<string, string> = { etag: '"0123456789abcdef"' }
      switch (op) {
        case 'CreateMultipartUpload':
          return { response: { statusCode: 200, headers, body: xml('<InitiateMultipartUploadResult><Bucket>b-1</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>') } }
        case 'CompleteMultipartUpload':
          return { response: { statusCode: 200, headers, body: xml('<CompleteMultipartUploadResult><Bucket>b-1</Bucket><Key>k</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>') } }
        case 'AbortMultipartUpload':
          return { response: { statusCode: 204, headers: {}, body: xml('') } }
        default:
          return { response: { statusCode: 200, headers, body: xml('') } }
      }
    }
  }
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://fake-s3.invalid',
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: handler as unknown as NonNullable<ConstructorParameters<typeof S3Client>[0]>['requestHandler']
  })
  return { client, calls, bytes: () => bytes }
}

/** `records` NDJSON lines of about 1 KiB, generated as they are read. */
function lines (records: number, badAt?: number): Readable {
  const filler = 'lorem ipsum dolor sit amet '.repeat(38)
  let i = 0
  return new Readable({
    read () {
      for (let n = 0; n < 256 && i < records; n++, i++) this.push((i === badAt ? '{"id":' : JSON.stringify({ id: i, text: `Record ${i}. ${filler}` })) + '\n')
      if (i >= records) this.push(null)
    }
  })
}

t.test('memory stays flat whatever the size: retained memory does not grow with the bytes uploaded', async t => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // one sample per part, after a full GC: (MiB uploaded so far, MiB retained)
  const samples: Array<[number, number]> = []
  let before = process.memoryUsage()
  const s3 = fakeS3(() => {
    gc()
    const m = process.memoryUsage()
    samples.push([s3.bytes() / 1048576, (m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1048576])
  })
  t.teardown(() => { s3.client.destroy() })
  const datasets = new Datasets(s3.client, new S3Layout('b-1', 'p'))
  const records = 150_000 // ~160 MB, 20 parts
  gc()
  before = process.memoryUsage()
  const info = await datasets.upload(DEFAULT_TENANT, lines(records))
  t.equal(info.records, records)
  t.ok(info.bytes > 150 * 1024 * 1024, `${info.bytes} bytes`)
  t.equal(s3.calls.filter(c => c === 'UploadPart').length, Math.ceil(info.bytes / (8 * 1024 * 1024)))
  // the fake answers HEAD with 200, so the content-named object "exists" and the staged upload is dropped
  t.same(s3.calls.filter(c => c !== 'UploadPart').map(c => c.split(' ')[0]), ['CreateMultipartUpload', 'CompleteMultipartUpload', 'HEAD', 'DELETE', 'PutObject'], 'then the content name is checked, the staged copy dropped and the info object written')
  // least-squares slope of retained memory against bytes uploaded: an upload held in memory
  // retains at least one byte per byte (slope >= 1); streaming retains parts in flight (a
  // bounded, noisy 20..100 MiB) plus the id set (a few bytes per record)
  const n = samples.length
  const mx = samples.reduce((a, [x]) => a + x, 0) / n
  const my = samples.reduce((a, [, y]) => a + y, 0) / n
  const slope = samples.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / samples.reduce((a, [x]) => a + (x - mx) ** 2, 0)
  const peak = Math.max(...samples.map(([, y]) => y))
  t.ok(slope < 0.25, `retained memory grows ${slope.toFixed(3)} MiB per MiB uploaded (peak ${peak.toFixed(0)} MiB over ${n} parts)`)
  t.ok(peak < 150, `peak ${peak.toFixed(0)} MiB retained for ${(info.bytes / 1048576).toFixed(0)} MiB uploaded`)
})

t.test('a bad line after many parts aborts the multipart upload', async t => {
  const s3 = fakeS3()
  t.teardown(() => { s3.client.destroy() })
  const datasets = new Datasets(s3.client, new S3Layout('b-1', 'p'))
  const err = await datasets.upload(DEFAULT_TENANT, lines(30_000, 29_000)).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof DatasetInvalidError)
  t.same((err as DatasetInvalidError).detail.errors.map(e => e.line), [29_001])
  t.ok(s3.calls.includes('UploadPart'), 'parts had gone up')
  t.equal(s3.calls.at(-1), 'AbortMultipartUpload')
  t.notOk(s3.calls.includes('CompleteMultipartUpload'))
  t.notOk(s3.calls.includes('PutObject'), 'no info object')
})

t.test('a small invalid dataset never reaches S3', async t => {
  const s3 = fakeS3()
  t.teardown(() => { s3.client.destroy() })
  const datasets = new Datasets(s3.client, new S3Layout('b-1', 'p'))
  await t.rejects(datasets.upload(DEFAULT_TENANT, Readable.from(['{"id":1,"text":"ok"}\n{"id":1,"text":"dup"}\n'])), DatasetInvalidError)
  t.same(s3.calls, [])
})
