// What AWS mode meets that local mode hid: S3 failing during an upload (a missing bucket),
// a body left unread on the socket, S3 failing while an object streams, back-pressure waits on
// big uploads, and S3-compatible stores that need path-style URLs.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.js'
import { s3ForcePathStyle, testConfig } from '../../src/config.js'
import { isCatalogError } from '../../src/errors.js'
import { startLocalStack } from '../../src/local/stack.js'
import { drainedOrClosed } from '../../src/jobs/datasets.js'
import { failingAsS3 } from '../../src/sagemaker/s3-io.js'

t.test('an upload into a bucket S3 does not have: 502 UPSTREAM_ERROR, logged, connection closed', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-aws-'))
  const config = testConfig({ LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'info' })
  const stack = await startLocalStack(config)
  const logs: string[] = []
  const logStream = new Writable({ write (chunk, _enc, cb) { logs.push(String(chunk)); cb() } })
  // the gateway as in AWS mode with S3_BUCKET naming a bucket that is not there
  const app = await buildApp(config, { aws: { ...stack.awsTarget, bucket: 'no-such-bucket-here' }, logStream })
  t.teardown(async () => { await app.close(); await stack.close(); await rm(dataDir, { recursive: true, force: true }) })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const text = 'A line of an article. '.repeat(400)
  const res = await new Promise<{ status: number, connection: string | undefined, body: string }>((resolve, reject) => {
    const req = request(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } })
    req.on('response', r => {
      let body = ''
      r.on('data', (c: Buffer) => { body += c.toString() })
      r.on('end', () => { resolve({ status: r.statusCode ?? 0, connection: r.headers.connection, body }) })
    })
    req.on('error', (err) => { if (!('code' in err) || (err as { code?: string }).code !== 'EPIPE') reject(err) })
    // 27 MB: past the first 8 MiB part S3 is asked (and fails) while most of the body is still
    // unsent; the gateway answers without reading the rest
    let i = 0
    const more = (): void => {
      while (i < 3000) {
        if (!req.write(JSON.stringify({ id: i++, text }) + '\n')) { req.once('drain', more); return }
      }
      req.end()
    }
    req.on('error', () => {})
    more()
  })
  t.equal(res.status, 502, 'an S3 failure is not "the client went away" (was 499 CANCELLED)')
  t.equal(JSON.parse(res.body).code, 'UPSTREAM_ERROR')
  t.ok(logs.some(l => l.includes('"code":"UPSTREAM_ERROR"') && l.includes('NoSuchBucket')), 'the S3 error is logged with its name')
  t.ok(res.connection === 'close' || res.connection === undefined, `connection: ${String(res.connection)}`)
  // a small upload, read whole before S3 fails at its end: on Node 20 the request is `destroyed`
  // by then, which the route took for a caller gone away (499 CANCELLED for every such upload)
  const small = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"id":1,"text":"One short line."}\n' })
  t.equal(small.status, 502, 'a small upload into a missing bucket: 502 too')
  t.equal((await small.json() as { code: string }).code, 'UPSTREAM_ERROR')
  const closed = await Promise.race([app.close().then(() => 'closed'), new Promise(resolve => setTimeout(() => { resolve('hung') }, 10_000))])
  t.equal(closed, 'closed', 'no connection is left waiting on an unread body')
})

t.test('an S3 body that fails while it streams fails as the catalog\'s UPSTREAM_ERROR', async t => {
  let sent = false
  const source = new Readable({
    read () {
      if (!sent) { sent = true; this.push('{"id":1}\n'); return }
      this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    }
  })
  const body = failingAsS3(source, 'GetObject')
  const chunks: string[] = []
  const err = await new Promise<unknown>(resolve => {
    body.on('data', (c: Buffer) => chunks.push(c.toString()))
    body.on('error', resolve)
    body.on('end', () => { resolve(undefined) })
  })
  t.same(chunks, ['{"id":1}\n'], 'what arrived is passed on')
  t.ok(isCatalogError(err), 'a catalog error (502), not a bare Error that the handler makes a 500')
  t.match(err, { code: 'UPSTREAM_ERROR', message: 'S3 GetObject failed' })
  t.match((err as { cause?: unknown }).cause, { code: 'ECONNRESET' }, 'the cause is kept for the log')
})

t.test('back-pressure waits leave no listener behind', async t => {
  const stream = new EventEmitter()
  for (let i = 0; i < 50; i++) {
    const waiting = drainedOrClosed(stream)
    stream.emit('drain')
    await waiting
  }
  t.equal(stream.listenerCount('close'), 0, 'no close listener per wait (was one each: MaxListenersExceededWarning)')
  t.equal(stream.listenerCount('drain'), 0)
  const closing = drainedOrClosed(stream)
  stream.emit('close')
  await closing
  t.equal(stream.listenerCount('drain'), 0)
})

t.test('S3_FORCE_PATH_STYLE: on by default when AWS_ENDPOINT_URL(_S3) points the SDK elsewhere', async t => {
  // the SDK's endpoint variables: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
  t.equal(s3ForcePathStyle(testConfig(), {}), false, 'AWS S3: virtual-hosted style')
  t.equal(s3ForcePathStyle(testConfig(), { AWS_ENDPOINT_URL: 'http://localhost:4566' }), true, 'LocalStack')
  t.equal(s3ForcePathStyle(testConfig(), { AWS_ENDPOINT_URL_S3: 'http://minio:9000' }), true, 'MinIO for S3 only')
  t.equal(s3ForcePathStyle(testConfig({ S3_FORCE_PATH_STYLE: false }), { AWS_ENDPOINT_URL: 'https://vpce.example' }), false, 'an explicit setting wins')
  t.equal(s3ForcePathStyle(testConfig({ S3_FORCE_PATH_STYLE: true }), {}), true)
})
