import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { main } from '../../src/cli/main.js'
import { closedStdout, jsonl, runCli as run, sink } from '../helpers/cli.js'
import { listeningApp } from '../helpers/local-app.js'

const ARTICLE = 'The river rose four metres overnight. The bridge stays closed until Friday. Officials expect more rain. Schools open late.'
/** What the local engine (extractive lead-3) returns for ARTICLE. */
const LEAD3 = 'The river rose four metres overnight. The bridge stays closed until Friday. Officials expect more rain.'

t.test('summarize: text from the argument, from stdin, and "-"', async (t) => {
  const { url } = await listeningApp(t)
  const fromArg = await run(['summarize', ARTICLE, '--url', url])
  t.equal(fromArg.code, 0, fromArg.stderr)
  t.equal(fromArg.stdout, LEAD3 + '\n')
  t.equal(fromArg.stderr, '')

  const fromStdin = await run(['summarize', '--url', url], { stdin: ARTICLE + '\n' })
  t.equal(fromStdin.code, 0, fromStdin.stderr)
  t.equal(fromStdin.stdout, fromArg.stdout)

  const dash = await run(['summarize', '-', '--max-length', '3'], { stdin: ARTICLE, env: { T2T_URL: url } })
  t.equal(dash.code, 0, dash.stderr)
  t.equal(dash.stdout, 'The river rose\n', '--max-length reaches the model; T2T_URL is used')

  const empty = await run(['summarize', '--url', url], { stdin: '\n\n' })
  t.match(empty, { code: 2, stderr: /^text2text-gateway: no text to summarize/ })
})

t.test('summarize --json, --prompt, --model and typed --param', async (t) => {
  const { url } = await listeningApp(t)
  const json = await run(['summarize', ARTICLE, '--url', url, '--json', '--param', 'num_return_sequences=2', '--param', 'num_beams=2', '--param', 'do_sample=false', '--param', 'max_length=4'])
  t.equal(json.code, 0, json.stderr)
  const body = JSON.parse(json.stdout) as { summary: string, generated_texts: string[], model: string }
  t.equal(body.generated_texts.length, 2, 'integers arrive as numbers (the gateway rejects strings)')
  t.equal(body.summary, body.generated_texts[0])
  t.equal(body.model, 'flan-t5-local')

  const sampled = await run(['summarize', ARTICLE, '--url', url, '--json', '--param', 'do_sample=true', '--param', 'seed=7', '--param', 'top_p=0.5', '--model', 'flan-t5-local'])
  t.equal(sampled.code, 0, sampled.stderr)

  // "..." forces a string, which the gateway's strict body schema refuses for num_beams
  const forced = await run(['summarize', ARTICLE, '--url', url, '--param', 'num_beams="2"'])
  t.equal(forced.code, 2)
  t.match(forced.stderr, /^text2text-gateway: 400 INVALID_PARAMETERS: .*num_beams/)

  // the prompt is prepended to the text (not being an instruction, the engine keeps it)
  const prompted = await run(['summarize', 'Second part.', '--url', url, '--prompt', 'First part. '])
  t.equal(prompted.code, 0, prompted.stderr)
  t.equal(prompted.stdout, 'First part. Second part.\n')
})

t.test('a 400 is one line with the gateway\'s code and message, exit 2', async (t) => {
  const { url } = await listeningApp(t)
  const res = await run(['summarize', 'hello there', '--url', url, '--param', 'num_beams=20'])
  t.equal(res.code, 2)
  t.equal(res.stderr, 'text2text-gateway: 400 INVALID_PARAMETERS: body.parameters.num_beams must be <= 16 (got 20)\n')
  t.equal(res.stdout, '')

  const unknown = await run(['summarize', 'hello there', '--url', url, '--param', 'beams=2'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /^text2text-gateway: 400 INVALID_PARAMETERS: [^\n]*beams[^\n]*\n$/)

  const model = await run(['summarize', 'hello there', '--url', url, '--model', 'no-such-model'])
  t.equal(model.code, 2)
  t.match(model.stderr, /^text2text-gateway: 400 [A-Z_]+: [^\n]*no-such-model[^\n]*\n$/)
})

t.test('API key from T2T_API_KEY; without it a 401 says what to set', async (t) => {
  const { url } = await listeningApp(t, { API_KEYS: 'k-one,k-two' })
  const missing = await run(['summarize', ARTICLE, '--url', url])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^text2text-gateway: 401 UNAUTHORIZED: [^\n]*; set T2T_API_KEY to an API key of this gateway\n$/)

  const wrong = await run(['summarize', ARTICLE, '--url', url], { env: { T2T_API_KEY: 'nope' } })
  t.equal(wrong.code, 2)
  t.notMatch(wrong.stderr, /set T2T_API_KEY/, 'a key was set: no hint to set one')

  const ok = await run(['summarize', ARTICLE, '--url', url], { env: { T2T_API_KEY: 'k-two' } })
  t.equal(ok.code, 0, ok.stderr)
  t.equal(ok.stdout, LEAD3 + '\n')
})

// ---- summarize --jsonl ------------------------------------------------------------------------

/** 40 distinct texts with ids in no particular order, mixing strings and integers. */
const JSONL_IDS: Array<string | number> = Array.from({ length: 40 }, (_, i) => i % 3 === 0 ? `doc-${39 - i}` : 1000 - i * 7)
const story = (id: string | number): string => `Story ${id} opens here. It goes on for a while. Then it ends. A fourth sentence is dropped.`
const lead3 = (id: string | number): string => `Story ${id} opens here. It goes on for a while. Then it ends.`
const parsed = (ndjson: string): Array<Record<string, unknown>> => ndjson.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
const STATS_LINE = /^(\d+) summaries in \d+\.\d s \(\d+\.\d\/s\), (\d+) failed\n$/

t.test('summarize --jsonl: 40 lines from a file and from stdin, in input order, batched by the gateway', async (t) => {
  // some emulated latency, so that concurrent requests meet in the batcher as they would in
  // production; 'adaptive' because this checks that the CLI's concurrency lets the gateway
  // coalesce, not a flush policy: 40 texts are all cold start for the default 'learned', which
  // spreads callers over free slots until it has seen what a bigger batch costs
  const { url, stack } = await listeningApp(t, { LOCAL_LATENCY_BASE_MS: 20, BATCH_FLUSH_POLICY: 'adaptive' })
  const input = jsonl(JSONL_IDS.map((id) => ({ id, text: story(id), highlights: 'ignored' })))
  const dir = t.testdir({ 'in.jsonl': input })
  const expected = JSONL_IDS.map((id) => ({ id, summary: lead3(id) }))

  stack.sagemaker.resetStats()
  const fromFile = await run(['summarize', '--jsonl', join(dir, 'in.jsonl'), '--url', url])
  t.equal(fromFile.code, 0, fromFile.stderr)
  t.same(parsed(fromFile.stdout), expected, 'one line per input, in input order, ids as given')
  t.match(fromFile.stderr, STATS_LINE)
  t.match(fromFile.stderr, /^40 summaries in .*, 0 failed\n$/)
  const stats = stack.sagemaker.stats()
  t.equal(stats.items, 40, 'every text reached the model once')
  // unbatched would be 40; ~20 on a quiet machine, 21 seen with two suites running at once
  t.ok(stats.invocations <= 28, `requests were coalesced: ${stats.invocations} invocations for 40 texts`)
  t.ok(Math.max(...stats.batchSizes) <= 16, `never more than --concurrency (16) texts in flight: batches ${stats.batchSizes.join(',')}`)

  stack.sagemaker.resetStats()
  const fromStdin = await run(['summarize', '--jsonl', '-', '--url', url, '--concurrency', '4'], { stdin: input })
  t.equal(fromStdin.code, 0, fromStdin.stderr)
  t.equal(fromStdin.stdout, fromFile.stdout, 'stdin gives the same output')
  t.match(fromStdin.stderr, /^40 summaries in .*, 0 failed\n$/)
  const stdinStats = stack.sagemaker.stats()
  t.ok(stdinStats.invocations < 40, `coalesced with --concurrency 4: ${stdinStats.invocations} invocations`)
  t.ok(Math.max(...stdinStats.batchSizes) <= 4, `at most 4 in flight: batches ${stdinStats.batchSizes.join(',')}`)

  // the same options as one text: --max-length, --prompt; CRLF line ends and blank lines are fine
  const crlf = '\r\n' + [{ id: 1, text: 'Second part. More.' }, { id: 2, text: story(2) }].map((r) => JSON.stringify(r)).join('\r\n\r\n') + '\r\n'
  const options = await run(['summarize', '--jsonl', '-', '--url', url, '--max-length', '3', '--prompt', 'First part. '], { stdin: crlf })
  t.equal(options.code, 0, options.stderr)
  t.same(parsed(options.stdout), [{ id: 1, summary: 'First part. Second' }, { id: 2, summary: 'First part. Story' }])
})

t.test('summarize --jsonl: a poisoned line is an error line, the others succeed, exit 1', async (t) => {
  const { url } = await listeningApp(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const rows = JSONL_IDS.map((id, i) => ({ id, text: i === 6 ? 'POISON in this one. Really.' : story(id) }))
  const res = await run(['summarize', '--jsonl', '-', '--url', url], { stdin: jsonl(rows) })
  t.equal(res.code, 1, 'an item failed')
  const out = parsed(res.stdout)
  t.same(out.map((l) => l.id), JSONL_IDS, 'every line, in input order')
  t.match(out[6], { id: JSONL_IDS[6], error: { code: 'MODEL_ERROR', message: String } })
  t.notOk('summary' in out[6])
  t.same(out.filter((_, i) => i !== 6), JSONL_IDS.filter((_, i) => i !== 6).map((id) => ({ id, summary: lead3(id) })))
  t.match(res.stderr, /^39 summaries in \d+\.\d s \(\d+\.\d\/s\), 1 failed\n$/)

  // a text the gateway refuses (empty) is an error line too
  const empty = await run(['summarize', '--jsonl', '-', '--url', url], { stdin: jsonl([{ id: 'a', text: '' }, { id: 'b', text: story('b') }]) })
  t.equal(empty.code, 1)
  t.match(parsed(empty.stdout), [{ id: 'a', error: { code: 'INVALID_REQUEST', message: /body\.text/ } }, { id: 'b', summary: lead3('b') }])
  t.match(empty.stderr, /^1 summaries in .*, 1 failed\n$/)
})

t.test('summarize --jsonl: a malformed line is a usage error naming it, after the lines before it', async (t) => {
  const { url } = await listeningApp(t)
  const good = JSONL_IDS.slice(0, 4).map((id) => ({ id, text: story(id) }))
  const dir = t.testdir({
    'article.jsonl': jsonl([...good, { id: 'cnn-1', article: 'CNN-style field.' }, { id: 'x', text: story('x') }]),
    'broken.jsonl': jsonl(good.slice(0, 2)) + '{"id": 3, "text": \n' + jsonl(good.slice(2)),
    'noid.jsonl': jsonl([{ text: 'no id here' }]),
    'empty.jsonl': '\n\n'
  })
  const article = await run(['summarize', '--jsonl', join(dir, 'article.jsonl'), '--url', url])
  t.equal(article.code, 2)
  t.match(article.stderr, /^text2text-gateway: [^\n]*article\.jsonl:5: expected \{"id": string\|number, "text": string\} \("article" is not read; name the field "text"\), got \{"id":"cnn-1","article":"CNN-style field\."\} \(see "text2text-gateway summarize --help"\)\n$/)
  t.same(parsed(article.stdout), good.map(({ id }) => ({ id, summary: lead3(id) })), 'the results of lines 1-4, in order')

  const broken = await run(['summarize', '--jsonl', join(dir, 'broken.jsonl'), '--url', url])
  t.equal(broken.code, 2)
  t.match(broken.stderr, /^text2text-gateway: [^\n]*broken\.jsonl:3: invalid JSON [^\n]*\n$/)
  t.equal(parsed(broken.stdout).length, 2)

  t.match(await run(['summarize', '--jsonl', '-', '--url', url], { stdin: '{"id":1,"text":"fine. Yes."}\n[1,2]\n' }),
    { code: 2, stderr: /^text2text-gateway: stdin:2: expected \{"id"/ })
  t.match(await run(['summarize', '--jsonl', join(dir, 'noid.jsonl'), '--url', url]), { code: 2, stderr: /noid\.jsonl:1: expected/, stdout: '' })
  t.match(await run(['summarize', '--jsonl', join(dir, 'empty.jsonl'), '--url', url]), { code: 2, stderr: /empty\.jsonl has no lines to summarize/ })
  t.match(await run(['summarize', '--jsonl', join(dir, 'nope.jsonl'), '--url', url]), { code: 2, stderr: /^text2text-gateway: cannot read --jsonl .*nope\.jsonl: no such file/ })
  t.match(await run(['summarize', '--jsonl', dir, '--url', url]), { code: 2, stderr: /is not a file/ })

  // option mistakes
  const usage: Array<[string[], RegExp]> = [
    [['summarize', 'some text', '--jsonl', '-'], /a text argument cannot go with --jsonl/],
    [['summarize', '--jsonl', '-', '--json'], /--json does not apply with --jsonl/],
    [['summarize', 'text', '--concurrency', '4'], /--concurrency applies only with --jsonl/],
    [['summarize', '--jsonl', '-', '--concurrency', '0'], /--concurrency must be an integer from 1 to 256, got "0"/]
  ]
  for (const [argv, message] of usage) {
    const res = await run([...argv, '--url', url])
    t.equal(res.code, 2, argv.join(' '))
    t.match(res.stderr, message)
    t.equal(res.stderr.split('\n').length, 2, 'one line')
  }
})

t.test('summarize --jsonl: an option the gateway refuses, or no gateway, stops the run at once', async (t) => {
  const { url, stack } = await listeningApp(t)
  const input = jsonl(JSONL_IDS.map((id) => ({ id, text: story(id) })))
  const param = await run(['summarize', '--jsonl', '-', '--url', url, '--param', 'num_beams=20'], { stdin: input })
  t.equal(param.code, 2, 'the same for every line: not 40 error lines')
  t.match(param.stderr, /^text2text-gateway: 400 INVALID_PARAMETERS: body\.parameters\.num_beams must be <= 16 \(got 20\) \(line 1, id "doc-39"\)\n$/)
  t.equal(param.stdout, '')
  t.equal(stack.sagemaker.stats().items, 0)

  const model = await run(['summarize', '--jsonl', '-', '--url', url, '--model', 'no-such-model'], { stdin: input })
  t.equal(model.code, 2)
  t.match(model.stderr, /^text2text-gateway: 400 [A-Z_]+: [^\n]*no-such-model[^\n]*\n$/)

  // nothing listens at the URL once the gateway is closed
  const closed = await listeningApp(t)
  await closed.app.close()
  const refused = await run(['summarize', '--jsonl', '-', '--url', closed.url], { stdin: input })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /^text2text-gateway: cannot connect to [^\n]* \(line 1, id "doc-39"\)\n$/)
  t.equal(refused.stdout, '')
})

/**
 * A stand-in gateway whose answers come back in reverse order (the later the line, the sooner
 * its answer), counting requests in flight: output order and the concurrency cap must not
 * depend on the local engine's timing.
 */
async function reversingGateway (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ url: string, maxInFlight: () => number, requests: () => number }> {
  let inFlight = 0
  let max = 0
  let requests = 0
  const busySeen = new Set<string>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => { raw += chunk.toString() })
    req.on('end', () => {
      void (async () => {
        inFlight++
        requests++
        max = Math.max(max, inFlight)
        const { text } = JSON.parse(raw) as { text: string }
        const n = Number(/^n(\d+)/.exec(text)?.[1] ?? 0)
        await sleep(Math.max(0, 60 - (n % 8) * 8))
        inFlight--
        res.setHeader('content-type', 'application/json')
        // "busy" lines are refused once with 503 and Retry-After, as an overloaded gateway does
        if (text.includes('busy') && !busySeen.has(text)) {
          busySeen.add(text)
          res.statusCode = 503
          res.setHeader('retry-after', '0')
          res.end(JSON.stringify({ statusCode: 503, code: 'QUEUE_FULL', error: 'Service Unavailable', message: 'busy' }))
          return
        }
        if (text.includes('refuse')) {
          res.statusCode = 413
          res.end(JSON.stringify({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', error: 'Payload Too Large', message: 'too big' }))
          return
        }
        res.end(JSON.stringify({ summary: `S${n}`, generated_texts: [`S${n}`], model: 'fake' }))
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { url: `http://127.0.0.1:${address.port}`, maxInFlight: () => max, requests: () => requests }
}

t.test('summarize --jsonl: output order does not follow completion order; the concurrency is a cap', async (t) => {
  const fake = await reversingGateway(t)
  const rows = Array.from({ length: 40 }, (_, n) => ({ id: n, text: n === 13 ? `n${n} refuse` : n === 20 ? `n${n} busy` : `n${n} text` }))
  const res = await run(['summarize', '--jsonl', '-', '--url', fake.url, '--concurrency', '8'], { stdin: jsonl(rows) })
  t.equal(res.code, 1, 'line 13 was refused')
  const out = parsed(res.stdout)
  t.same(out.map((l) => l.id), rows.map((r) => r.id), 'input order')
  t.same(out[13], { id: 13, error: { code: 'PAYLOAD_TOO_LARGE', message: 'too big' } })
  t.same(out[12], { id: 12, summary: 'S12' })
  t.same(out[20], { id: 20, summary: 'S20' }, 'a 503 is retried after its Retry-After')
  t.equal(fake.requests(), 41, 'one request per line, plus the retry')
  t.ok(fake.maxInFlight() <= 8, `at most 8 in flight (saw ${fake.maxInFlight()})`)
  t.ok(fake.maxInFlight() >= 4, `requests did overlap (saw ${fake.maxInFlight()})`)
  t.match(res.stderr, /^39 summaries in .*, 1 failed\n$/)
})

t.test('summarize --jsonl: a closed stdout (EPIPE) ends the run quietly', async (t) => {
  const fake = await reversingGateway(t)
  const rows = Array.from({ length: 40 }, (_, n) => ({ id: n, text: `n${n} text` }))
  let stderr = ''
  const closed = closedStdout()
  const code = await main(['summarize', '--jsonl', '-', '--url', fake.url, '--concurrency', '4'], closed.stream, sink((s) => { stderr += s }),
    { stdin: Readable.from([Buffer.from(jsonl(rows))]), env: {} })
  t.equal(code, 0, stderr)
  t.equal(stderr, '')
  t.equal(closed.writes(), 1, 'nothing more is written once the pipe is closed')
  t.ok(fake.requests() < 40, `no more lines are sent either (${fake.requests()} were)`)
  await sleep(20) // late 'error' events find the guard
})
