// A client that writes its whole request body before it reads the answer (Python's urllib, as
// many SDKs do) reads the gateway's refusal (413 BODY_TOO_LARGE, 503 BODIES_BUSY or
// UPLOADS_BUSY), not a reset connection, whether the body is framed by content-length or
// chunked and however far over the limit it is: the gateway answers, then reads and drops the
// rest of the body before it closes (bounds and memory: lingering-close-bounds.test.ts).
import t from 'tap'
import { request } from 'node:http'
import { heldUpload } from '../helpers/http.js'
import { listeningApp } from '../helpers/local-app.js'
import { noPython as skip, urllibPost as urllib } from '../helpers/urllib.js'

const MiB = 1024 * 1024
/** /v1/generate's body limit (routes/generate.ts): a SageMaker payload and some room. */
const GENERATE_LIMIT = 6 * MiB + 64 * 1024

t.test('413 over the route\'s limit, declared by content-length: urllib reads it, small or large', { skip }, async t => {
  const { url } = await listeningApp(t)
  t.equal(await urllib(`${url}/v1/generate`, 'length', 20_000_000), 'http 413 BODY_TOO_LARGE', 'a 20 MB body to a 6 MiB route')
  t.equal(await urllib(`${url}/v1/generate`, 'length', GENERATE_LIMIT + 4096), 'http 413 BODY_TOO_LARGE', 'a body 4 KiB over the limit')
  t.match(await urllib(`${url}/v1/generate`, 'length', 1000), /^status 200 /, 'a body within the limit is served as before')
})

t.test('413 over the route\'s limit, chunked (found while it streams): urllib reads it', { skip }, async t => {
  const { url } = await listeningApp(t)
  t.equal(await urllib(`${url}/v1/generate`, 'chunked', GENERATE_LIMIT + 64 * 1024), 'http 413 BODY_TOO_LARGE', 'a chunked body 64 KiB over the limit')
  t.equal(await urllib(`${url}/v1/generate`, 'chunked', 20_000_000), 'http 413 BODY_TOO_LARGE', 'a chunked body of 20 MB')
  t.match(await urllib(`${url}/v1/generate`, 'chunked', 1000), /^status 200 /, 'a chunked body within the limit is served as before')
})

t.test('413 for a body larger than the whole BODY_BYTES_IN_FLIGHT_MAX: urllib reads it', { skip }, async t => {
  const { url } = await listeningApp(t, { BODY_BYTES_IN_FLIGHT_MAX: 2 * MiB })
  // within /v1/generate's own limit, above the budget
  t.equal(await urllib(`${url}/v1/generate`, 'length', 5 * MiB), 'http 413 BODY_TOO_LARGE')
})

t.test('503 BODIES_BUSY while the budget is held: urllib reads it, content-length or chunked', { skip }, async t => {
  const { url } = await listeningApp(t, { BODY_BYTES_IN_FLIGHT_MAX: 8 * MiB })
  const generate = `${url}/v1/generate`
  // 5 MiB reserved from its content-length, 1 KiB sent, the rest held back
  const holder = request(generate, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 5 * MiB }, agent: false })
  holder.on('error', () => {})
  holder.write('x'.repeat(1024))
  t.teardown(() => { holder.destroy() })
  t.equal(await urllib(generate, 'length', 5 * MiB), 'http 503 BODIES_BUSY', 'content-length: refused from its header')
  // 20 MB: far more than the 3 MiB left, so most of it is still to come when it is refused
  t.equal(await urllib(generate, 'chunked', 20_000_000), 'http 503 BODIES_BUSY', 'chunked: refused once its bytes outgrow the 3 MiB left')
})

t.test('503 UPLOADS_BUSY for a dataset upload while every slot is taken: urllib reads it', { skip }, async t => {
  const { url } = await listeningApp(t, { DATASET_UPLOADS_MAX: 1 })
  const holder = heldUpload(url, '{"id": 1, "text": "Holds the only slot."}')
  // the holder takes the slot once its handler runs: wait until a small upload is turned away
  for (let i = 0; i < 100; i++) {
    const probe = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"id": 1, "text": "Probe."}\n' })
    if (probe.status === 503) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(await urllib(`${url}/v1/datasets`, 'length', 20_000_000, 'application/x-ndjson'), 'http 503 UPLOADS_BUSY', 'content-length')
  t.equal(await urllib(`${url}/v1/datasets`, 'chunked', 20_000_000, 'application/x-ndjson'), 'http 503 UPLOADS_BUSY', 'chunked')
  t.equal((await holder.finish('{"id": 2, "text": "And ends."}')).status, 201, 'the held upload is stored as usual')
})
