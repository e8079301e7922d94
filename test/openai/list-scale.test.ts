// Lists at scale and per tenant. OpenAI's list semantics (https://platform.openai.com/docs/api-reference/files/list,
// .../batch/list): newest first, `limit`, `after` = the last id of the previous page, `has_more`.
// The S3 side is judged by the local S3's request log: ListObjectsV2 (prefix, start-after,
// continuation-token: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)
// and GetObject, so "one tenant's list does not read the other's objects" is counted, not assumed.
import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { buildApp } from '../../src/app.js'
import { S3Layout } from '../../src/jobs/layout.js'
import { newestFirstId, type StoredFile } from '../../src/openai/files.js'
import { createS3Client } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'

const KEY_A = 'sk-tenant-a-0123456789'
const KEY_B = 'sk-tenant-b-0123456789'
const PER_TENANT = { a: 6_000, b: 4_000 }

interface S3Call { method: string, key: string, query: URLSearchParams }

/** The local S3's requests, decoded (path-style `/<bucket>/<key>?<query>`). */
function recorder (): { calls: S3Call[], observe: (method: string, url: string) => void } {
  const calls: S3Call[] = []
  return {
    calls,
    observe: (method, url) => {
      const q = url.indexOf('?')
      const path = q < 0 ? url : url.slice(0, q)
      const key = decodeURIComponent(path.split('/').slice(2).join('/'))
      calls.push({ method, key, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) })
    }
  }
}

/**
 * Writes objects straight into the local S3's store, as its PutObject leaves them (s3rver keeps
 * key `a/b` as the file `<bucket dir>/a/b._S3rver_object` and derives ETag, size and date from
 * it): 20,000 signed HTTP PUTs would take minutes on a busy machine and test nothing listed.
 * One object is also PUT through the SDK and must read back alike.
 */
async function seed (bucketDir: string, objects: ReadonlyArray<{ key: string, body: string }>): Promise<void> {
  const dirs = new Set(objects.map((o) => dirname(join(bucketDir, o.key))))
  for (const dir of dirs) await mkdir(dir, { recursive: true })
  let next = 0
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < objects.length) {
      const o = objects[next++] as { key: string, body: string }
      await writeFile(join(bucketDir, `${o.key}._S3rver_object`), o.body)
    }
  }))
}

t.test('10,000 files of two tenants: each lists its own, every id once, newest first, across pages; one tenant\'s list reads none of the other\'s objects', { timeout: 300_000 }, async (t) => {
  const log = recorder()
  const { app, stack, config, dataDir } = await localApp(t, { API_KEYS: `a:${KEY_A},b:${KEY_B}` }, { onS3Request: log.observe })
  const layout = new S3Layout(stack.s3.bucket, config.S3_PREFIX)
  const s3 = createS3Client(stack.awsTarget)
  t.teardown(() => { s3.destroy() })

  // the objects an upload writes (content under files/<tenant>/, info by id), written straight
  // into S3: the listing is under test, not 10,000 uploads
  const ids: Record<'a' | 'b', string[]> = { a: [], b: [] }
  const objects: Array<{ key: string, body: string }> = []
  const now = Date.now()
  for (let i = 0; i < PER_TENANT.a + PER_TENANT.b; i++) {
    const owner = i % 5 < 3 ? 'a' : 'b'
    // interleaved in time, several per millisecond
    const id = newestFirstId('file-', now - Math.floor(i / 3))
    ids[owner].push(id)
    const key = layout.fileKey(owner, id)
    const info: StoredFile = { version: 1, id, owner, purpose: i % 7 === 0 ? 'batch_output' : 'batch', filename: `f${i}.jsonl`, bytes: 2, created_at: Math.floor(now / 1000), key }
    objects.push({ key, body: '{}' }, { key: layout.fileInfoKey(id), body: JSON.stringify(info) })
  }
  const [first, ...rest] = objects as [{ key: string, body: string }, ...Array<{ key: string, body: string }>]
  let t0 = Date.now()
  await s3.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: first.key, Body: first.body }))
  await seed(join(dataDir, 's3', stack.s3.bucket), rest)
  const [put, seeded] = await Promise.all([first, rest[0]].map(async (o) => await (await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: o?.key }))).Body?.transformToString()))
  t.same([put, seeded], [first.body, rest[0]?.body], 'a seeded object reads back as a PUT one does')
  t.comment(`seeded ${objects.length} objects in ${Date.now() - t0} ms`); t0 = Date.now()

  const list = async (key: string, query: string): Promise<{ data: Array<{ id: string, purpose: string }>, has_more: boolean, first_id: string | null, last_id: string | null }> => {
    const res = await app.inject({ method: 'GET', url: `/v1/files?${query}`, headers: { authorization: `Bearer ${key}` } })
    t.equal(res.statusCode, 200, `GET /v1/files?${query}`)
    return res.json()
  }

  for (const [tenant, key] of [['a', KEY_A], ['b', KEY_B]] as const) {
    const seen: string[] = []
    let after: string | undefined
    let pages = 0
    for (;;) {
      const page = await list(key, `limit=1000${after !== undefined ? `&after=${after}` : ''}`)
      pages++
      seen.push(...page.data.map((f) => f.id))
      t.equal(page.first_id, page.data[0]?.id ?? null)
      t.equal(page.last_id, page.data.at(-1)?.id ?? null)
      if (!page.has_more) break
      after = page.last_id ?? undefined
    }
    t.equal(seen.length, PER_TENANT[tenant], `${tenant}: every file listed`)
    t.equal(new Set(seen).size, seen.length, `${tenant}: each id once`)
    // ids sort newest first; ids made in one millisecond sort by their random part, as S3 lists them
    t.same(seen, [...ids[tenant]].sort(), `${tenant}: exactly its own files, newest first`)
    t.equal(pages, Math.ceil(PER_TENANT[tenant] / 1000), `${tenant}: pages of 1,000`)
  }

  t.comment(`lists ${Date.now() - t0} ms`); t0 = Date.now()
  // a purpose filter pages too, over the tenant's own files only
  const outputs = await list(KEY_B, 'purpose=batch_output&limit=50')
  t.ok(outputs.data.length === 50 && outputs.data.every((f) => f.purpose === 'batch_output'), 'purpose=batch_output: only those')

  t.comment(`purpose ${Date.now() - t0} ms`)
  // b's `?limit=1`: what S3 was asked
  log.calls.length = 0
  const one = await list(KEY_B, 'limit=1')
  t.equal(one.data.length, 1)
  t.equal(one.has_more, true)
  const lists = log.calls.filter((c) => c.method === 'GET' && c.query.get('list-type') === '2')
  const gets = log.calls.filter((c) => c.method === 'GET' && c.query.get('list-type') === null)
  t.ok(lists.length >= 1 && lists.every((c) => c.query.get('prefix') === layout.tenantFilesRoot('b')), `ListObjectsV2 of b's prefix only (${lists.map(c => c.query.get('prefix') ?? '').join(', ')})`)
  t.ok(lists.every((c) => Number(c.query.get('max-keys')) <= 2), 'a page of at most limit + 1 keys')
  const bInfos = new Set(ids.b.map((id) => layout.fileInfoKey(id)))
  t.ok(gets.length <= 2 && gets.every((c) => bInfos.has(c.key)), `GetObject of b's own file infos only, at most 2 (${gets.map(c => c.key).join(', ')})`)
  t.equal(log.calls.length, lists.length + gets.length, 'nothing else')
})

t.test('batches: a tenant pages through its own with `after`, reading only its index and its batches; batches stored before the index are listed after the one-time migration', async (t) => {
  const log = recorder()
  const { app, stack, config } = await localApp(t, { API_KEYS: `a:${KEY_A},b:${KEY_B}` }, { onS3Request: log.observe })
  const layout = new S3Layout(stack.s3.bucket, config.S3_PREFIX)
  const as = (key: string): { authorization: string } => ({ authorization: `Bearer ${key}` })
  const upload = async (key: string): Promise<string> => {
    const line = JSON.stringify({ custom_id: 'r-1', method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: 'One sentence. Another one.', max_tokens: 5 } })
    const boundary = 'b0undary'
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${line}\n\r\n--${boundary}--\r\n`
    const res = await app.inject({ method: 'POST', url: '/v1/files', headers: { ...as(key), 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body })
    t.equal(res.statusCode, 200, res.body)
    return res.json().id
  }
  const made: Record<'a' | 'b', string[]> = { a: [], b: [] }
  for (const [tenant, key] of [['a', KEY_A], ['b', KEY_B], ['a', KEY_A], ['b', KEY_B], ['b', KEY_B]] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/batches', headers: as(key), payload: { input_file_id: await upload(key), endpoint: '/v1/completions', completion_window: '24h' } })
    t.equal(res.statusCode, 200, res.body)
    made[tenant].push(res.json().id)
  }
  const pageThrough = async (key: string): Promise<string[]> => {
    const seen: string[] = []
    let after = ''
    for (;;) {
      const res = await app.inject({ url: `/v1/batches?limit=1${after}`, headers: as(key) })
      t.equal(res.statusCode, 200, res.body)
      const page = res.json()
      seen.push(...page.data.map((b: { id: string }) => b.id))
      if (!page.has_more) return seen
      after = `&after=${String(page.last_id)}`
    }
  }
  // every batch ended and assembled (no background work of a's while b's list is counted); the
  // first tenant list of a deployment also runs the one-time index migration (keys only, here)
  for (const key of [KEY_A, KEY_B]) {
    for (const until = Date.now() + 60_000; ;) {
      const statuses = (await app.inject({ url: '/v1/batches?limit=100', headers: as(key) })).json().data.map((b: { status: string }) => b.status)
      await app.bucketServices().batches.drain()
      if (statuses.every((s: string) => s === 'completed')) break
      if (Date.now() > until) throw new Error(`batches still ${String(statuses)}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  const ofB = (key: string): boolean => made.b.some((id) => key.startsWith(layout.batchRoot + id + '/') || key.includes(`/jobs/b-${id.slice('batch_'.length)}-`))
  log.calls.length = 0
  t.same(await pageThrough(KEY_B), [...made.b].reverse(), 'b: its 3 batches, newest first, one a page')
  const lists = log.calls.filter((c) => c.query.get('list-type') === '2')
  // a completed job's progress counts its output: b's own jobs' input and output are read too
  t.ok(lists.length > 0 && lists.every((c) => c.query.get('prefix') === layout.batchIndexRoot('b') || ofB(c.query.get('prefix') ?? '')), `ListObjectsV2 of b's index and b's jobs only (${lists.map(c => c.query.get('prefix') ?? '').join(', ')})`)
  const readOutside = log.calls.filter((c) => c.method === 'GET' && c.query.get('list-type') === null && !ofB(c.key) && c.key !== layout.batchIndexDone)
  t.same(readOutside.map((c) => c.key), [], 'no GetObject outside b\'s batches (and their jobs)')
  t.notOk(log.calls.some((c) => made.a.some((id) => c.key.includes(id.slice('batch_'.length)))), 'nothing of a\'s batches or their jobs was touched')

  // as stored before the index: no entries, no done marker; a fresh gateway over the same S3
  const s3 = createS3Client(stack.awsTarget)
  t.teardown(() => { s3.destroy() })
  for (const [tenant, ids] of Object.entries(made)) for (const id of ids) await s3.send(new DeleteObjectCommand({ Bucket: stack.s3.bucket, Key: layout.batchIndexRoot(tenant) + id }))
  await s3.send(new DeleteObjectCommand({ Bucket: stack.s3.bucket, Key: layout.batchIndexDone }))
  const upgraded = await buildApp(config, { aws: stack.awsTarget })
  t.teardown(async () => { await upgraded.close() })
  const listOf = async (key: string): Promise<string[]> => (await upgraded.inject({ url: '/v1/batches?limit=100', headers: as(key) })).json().data.map((b: { id: string }) => b.id)
  t.same(await listOf(KEY_A), [...made.a].reverse(), 'a: its batches from before the index')
  t.same(await listOf(KEY_B), [...made.b].reverse(), 'b: its batches from before the index')
})
