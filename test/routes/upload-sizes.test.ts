// Uploads at real sizes through every upload route: 1 MB, 20 MB and 100 MB to POST /v1/files
// with the official `openai` npm client (files.create; https://platform.openai.com/docs/api-reference/files/create,
// a batch input file may be up to 200 MB) and to POST /v1/datasets (NDJSON, streamed). The data is
// generated here; the 250 CNN articles (../shared/data, about 1 MB) go through both routes as well
// when present. Each size once per route: the 100 MB ones dominate the run time.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { toFile } from 'openai'
import { listeningApp } from '../helpers/local-app.js'
import { openAiClient } from '../helpers/openai.js'

const KEY = 'sizes-key'
const MB = 1_000_000
const CNN = new URL('../../../shared/data/cnn_dailymail/test-cased-250.jsonl', import.meta.url)

const WORDS = ['river', 'harbour', 'council', 'storm', 'bridge', 'market', 'school', 'engine', 'season', 'report', 'village', 'tide']

/** Prose of about `chars` characters, different per `seed` (so no two lines are equal). */
function prose (seed: number, chars: number): string {
  let out = `Record ${seed}:`
  for (let i = 0; out.length < chars; i++) out += ' ' + (WORDS[(seed * 7 + i * 3 + (i >> 2)) % WORDS.length] as string)
  return out + '.'
}

/** JSONL of at least `bytes` bytes, one `line(i)` per line. */
function jsonlOf (bytes: number, line: (i: number) => string): Buffer {
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const text = line(i) + '\n'
    lines.push(text)
    size += Buffer.byteLength(text)
  }
  return Buffer.from(lines.join(''))
}

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex')
// about 4 KB a request: 100 MB stays under OpenAI's 50,000 requests per file
const batchLine = (i: number): string => JSON.stringify({ custom_id: `r-${i}`, method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: prose(i, 4000), max_tokens: 40 } })
const datasetLine = (i: number): string => JSON.stringify({ id: i, text: prose(i, 4000) })

t.test('POST /v1/files with the openai client and POST /v1/datasets take 1 MB, 20 MB and 100 MB', async t => {
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const client = openAiClient(url, KEY)
  client.timeout = 600_000
  for (const size of [1 * MB, 20 * MB, 100 * MB]) {
    const file = jsonlOf(size, batchLine)
    let started = Date.now()
    const stored = await client.files.create({ file: await toFile(file, `sizes-${size}.jsonl`), purpose: 'batch' })
    const fileMs = Date.now() - started
    t.equal(stored.bytes, file.length, `files: ${file.length} bytes stored`)
    const content = Buffer.from(await (await client.files.content(stored.id)).arrayBuffer())
    t.equal(sha256(content), sha256(file), `files: ${file.length} bytes read back as sent`)
    await client.files.delete(stored.id)

    const dataset = jsonlOf(size, datasetLine)
    started = Date.now()
    const res = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' }, body: dataset })
    const body = await res.json() as { records: number, bytes: number }
    t.equal(res.status, 201, `datasets: ${dataset.length} bytes`)
    t.equal(body.records, dataset.toString().split('\n').length - 1, 'datasets: every line is a record')
    t.comment(`${size / MB} MB: files ${fileMs} ms, datasets ${Date.now() - started} ms`)
  }
})

const cnnAbsent = existsSync(CNN) ? false : `${CNN.pathname} is absent: the CNN/DailyMail sample is read at run time, never committed`
t.test('the 250 CNN articles (about 1 MB) through both routes', { skip: cnnAbsent }, async t => {
  const articles = await readFile(CNN, 'utf8')
  const { url } = await listeningApp(t, { API_KEYS: `a:${KEY}` })
  const client = openAiClient(url, KEY)
  const rows = articles.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as { id: string, article: string })
  t.equal(rows.length, 250)
  const file = rows.map(r => JSON.stringify({ custom_id: r.id, method: 'POST', url: '/v1/completions', body: { model: 'flan-t5-local', prompt: `Summarize: ${r.article}` } })).join('\n') + '\n'
  t.ok(Buffer.byteLength(file) > 800_000, `${Buffer.byteLength(file)} bytes`)
  const stored = await client.files.create({ file: await toFile(Buffer.from(file), 'cnn-250.jsonl'), purpose: 'batch' })
  t.equal(stored.bytes, Buffer.byteLength(file))
  t.equal(await (await client.files.content(stored.id)).text(), file, 'read back as sent (non-ASCII included)')
  const dataset = rows.map(r => JSON.stringify({ id: r.id, text: r.article })).join('\n') + '\n'
  const res = await fetch(`${url}/v1/datasets?prompt=${encodeURIComponent('Summarize: ')}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' }, body: dataset })
  t.equal(res.status, 201)
  t.equal((await res.json() as { records: number }).records, 250)
})
