// The rest of a body answered early is read and dropped, never held: memory stays flat however
// large it is (no byte bound: 256 MiB here, four times the former 64 MiB drain bound), a caller
// still sending at the time bound is cut there, and a shutdown does not wait for one.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { listeningApp } from '../helpers/local-app.js'
import { noPython, urllibPost } from '../helpers/urllib.js'

const MiB = 1024 * 1024

/** Samples this process's memory (the gateway runs in it) until stopped; returns the peak growth over the start, in bytes. */
function memoryPeak (): () => { arrayBuffers: number, rss: number } {
  const start = process.memoryUsage()
  let arrayBuffers = 0
  let rss = 0
  const sample = (): void => {
    const now = process.memoryUsage()
    arrayBuffers = Math.max(arrayBuffers, now.arrayBuffers - start.arrayBuffers)
    rss = Math.max(rss, now.rss - start.rss)
  }
  const timer = setInterval(sample, 20)
  return () => { clearInterval(timer); sample(); return { arrayBuffers, rss } }
}

/** A raw client declaring a body to `path` (by default 20 MiB to /v1/generate, over its limit) and sending one byte every 100 ms; half-open, so the gateway's FIN does not end its side. */
function trickler (url: string, t: { teardown: (fn: () => void) => void }, path = '/v1/generate', declared = 20 * MiB): { socket: Socket, answer: () => string, answeredAt: () => number } {
  const socket = connect({ port: Number(new URL(url).port), host: '127.0.0.1', allowHalfOpen: true })
  let answer = ''
  let answeredAt = 0
  socket.on('data', (c: Buffer) => { answer += c.toString(); answeredAt ||= Date.now() })
  socket.on('error', () => {})
  socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`)
  const timer = setInterval(() => { if (!socket.destroyed) socket.write('x') }, 100)
  socket.once('close', () => { clearInterval(timer) })
  t.teardown(() => { clearInterval(timer); socket.destroy() })
  return { socket, answer: () => answer, answeredAt: () => answeredAt }
}

t.test('bodies of 256 MiB, four times the former drain bound, are read and dropped with flat memory', { skip: noPython }, async t => {
  const { url } = await listeningApp(t)
  const size = 256 * MiB
  for (const framing of ['length', 'chunked'] as const) {
    const peak = memoryPeak()
    t.equal(await urllibPost(`${url}/v1/generate`, framing, size), 'http 413 BODY_TOO_LARGE', `256 MiB, ${framing === 'length' ? 'content-length' : 'chunked'}: urllib read the 413`)
    const grew = peak()
    // the whole body kept would be 256 MiB more; a dropped one is one socket read at a time,
    // plus what the garbage collector has not yet taken back (V8 collects after about 64 MiB
    // of new external memory)
    t.ok(grew.arrayBuffers < size / 2, `buffers grew by ${(grew.arrayBuffers / MiB).toFixed(1)} MiB while 256 MiB were dropped (rss ${(grew.rss / MiB).toFixed(1)} MiB)`)
  }
})

t.test('a caller that keeps trickling after its refusal is cut at the bound', async t => {
  // the rest of a refused body gets no longer than BODY_TIMEOUT_MS (when under 10 s)
  const { url } = await listeningApp(t, { BODY_TIMEOUT_MS: 1000 })
  const client = trickler(url, t)
  await new Promise(resolve => client.socket.once('close', resolve))
  const lingered = Date.now() - client.answeredAt()
  t.match(client.answer(), /^HTTP\/1\.1 413 /, 'the refusal was sent')
  t.match(client.answer(), /"code":"BODY_TOO_LARGE"/)
  t.match(client.answer(), /\r\nconnection: close\r\n/i)
  // the bound is 1 s: not before it (a timer is never early), and well before the 10 s the
  // former drain let a trickler hold the socket (generous, for a busy machine)
  t.ok(client.answeredAt() > 0 && lingered >= 900, `the trickler could go on sending for ${lingered} ms after the answer`)
  t.ok(lingered < 7000, `then it was cut (${lingered} ms after the answer)`)
})

t.test('a body cut for being too slow (408) is not lingered on: its connection closes at once', async t => {
  // a linger would last BODY_TIMEOUT_MS (3 s) more
  const { url } = await listeningApp(t, { BODY_TIMEOUT_MS: 3000 })
  const client = trickler(url, t, '/v1/summarize', 1000)
  await new Promise(resolve => client.socket.once('close', resolve))
  const afterAnswer = Date.now() - client.answeredAt()
  t.match(client.answer(), /^HTTP\/1\.1 408 /)
  t.match(client.answer(), /"code":"REQUEST_TIMEOUT"/)
  t.ok(client.answeredAt() > 0 && afterAnswer < 2500, `closed ${afterAnswer} ms after the answer`)
})

t.test('closing the gateway does not wait for a refused caller that is still sending', async t => {
  const { url, app } = await listeningApp(t)
  const client = trickler(url, t)
  // once it has its answer (or after 500 ms, had the answer to wait for the body)
  await Promise.race([new Promise(resolve => client.socket.once('data', resolve)), new Promise(resolve => setTimeout(resolve, 500))])
  const started = Date.now()
  await app.close()
  // its linger would last 10 s (the former drain held the answer for as long)
  t.ok(Date.now() - started < 5000, `closed in ${Date.now() - started} ms`)
  t.match(client.answer(), /^HTTP\/1\.1 413 /, 'the caller had its answer')
})
