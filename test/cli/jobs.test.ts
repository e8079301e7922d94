import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Readable, Writable } from 'node:stream'
import t from 'tap'
import { main } from '../../src/cli/main.js'
import { closedStdout, jsonl, runCli as run, sink } from '../helpers/cli.js'
import { heldUpload } from '../helpers/http.js'
import { listeningApp } from '../helpers/local-app.js'

const lines = (ndjson: string): Array<Record<string, unknown>> => ndjson.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)

/** Ids in no particular order, mixing strings and integers: results must keep this order. */
const IDS: Array<string | number> = ['c', 7, 'a', 2, 'b-1', 10]
const text = (id: string | number): string => `Story ${id} opens here. It goes on for a while. Then it ends. A fourth sentence is dropped.`

t.test('jobs submit --wait with references: Completed, results in input order', async (t) => {
  const { url } = await listeningApp(t)
  const dir = t.testdir({
    'in.jsonl': jsonl(IDS.map((id) => ({ id, text: text(id) }))),
    'refs.jsonl': jsonl(IDS.map((id) => ({ id, text: `Story ${id} opens here.` })))
  })
  const submitted = await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--references', join(dir, 'refs.jsonl'), '--url', url,
    '--name', 'cli-ok-1', '--param', 'batch_size=4', '--param', 'max_length=5', '--wait', '--interval', '0.05'])
  t.equal(submitted.code, 0, submitted.stderr)
  t.equal(submitted.stdout, 'cli-ok-1\n', 'the name on stdout')
  // stderr is not a terminal: plain lines, the last one the final state
  const progress = submitted.stderr.trim().split('\n')
  // progress is best effort (a slow read of it is skipped), so the count may be absent
  t.match(progress[progress.length - 1], /^cli-ok-1: Completed( 6\/6)? in \d+s$/)
  // eslint-disable-next-line no-control-regex -- terminal control codes are what this checks
  t.notMatch(submitted.stderr, /\r|\x1b/, 'no terminal control codes in a log')

  const status = await run(['jobs', 'status', 'cli-ok-1', '--url', url, '--json'])
  t.equal(status.code, 0, status.stderr)
  const job = JSON.parse(status.stdout) as { status: string, parameters: unknown, references?: { s3Uri: string }, input: { recordCount?: number } }
  t.equal(job.status, 'Completed')
  t.same(job.parameters, { batch_size: 4, max_length: 5 }, '--param values typed')
  t.match(job.references?.s3Uri, /^s3:\/\//, 'references uploaded and attached')
  t.equal(job.input.recordCount, 6)

  const table = await run(['jobs', 'status', 'cli-ok-1', '--url', url])
  t.match(table.stdout, /^name +cli-ok-1\nstatus +Completed\n/)
  t.match(table.stdout, /\nreferences +s3:\/\//)
  t.match(table.stdout, /\nparameters +(batch_size=4 max_length=5|max_length=5 batch_size=4)\n/)

  const results = await run(['jobs', 'results', 'cli-ok-1', '--url', url])
  t.equal(results.code, 0, results.stderr)
  const got = lines(results.stdout)
  t.same(got.map((l) => l.id), IDS, 'one line per record, in input order')
  t.same(got[0], { id: 'c', generated_texts: ['Story c opens here. It'] }, 'max_length=5 words')

  const out = join(dir, 'results.jsonl')
  const toFile = await run(['jobs', 'results', 'cli-ok-1', '--url', url, '--out', out])
  t.equal(toFile.code, 0, toFile.stderr)
  t.equal(toFile.stdout, '')
  t.equal(toFile.stderr, `wrote 6 results to ${out}\n`)
  t.equal(await readFile(out, 'utf8'), results.stdout, 'the file holds the same stream')

  const waited = await run(['jobs', 'wait', 'cli-ok-1', '--url', url, '--json'])
  t.equal(waited.code, 0, 'wait on a Completed job returns at once')
  t.match(JSON.parse(waited.stdout), { name: 'cli-ok-1', status: 'Completed' })
})

t.test('jobs submit: a re-run with --name reuses the job; --json; the terminal progress line', async (t) => {
  const { url } = await listeningApp(t, { LOCAL_LATENCY_BASE_MS: 80 })
  const dir = t.testdir({ 'in.jsonl': jsonl(Array.from({ length: 8 }, (_, i) => ({ id: i, text: text(i) }))) })
  const args = ['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-tty-1', '--prompt', 'Summarize: ']
  const first = await run([...args, '--json'])
  t.equal(first.code, 0, first.stderr)
  t.match(JSON.parse(first.stdout), { name: 'cli-tty-1', status: 'InProgress', input: { recordCount: 8 } })

  // the same name: that job, nothing uploaded; waiting on a terminal rewrites one line
  const again = await run([...args, '--wait', '--interval', '0.05'], { tty: true })
  t.equal(again.code, 0, again.stderr)
  t.equal(again.stdout, 'cli-tty-1\n')
  t.match(again.stderr, /^job cli-tty-1 exists already \(InProgress\); nothing uploaded or submitted\n/)
  t.notMatch(again.stderr, /uploading/)
  // SageMaker reports no progress while a job runs, so the line shows status and elapsed time
  t.match(again.stderr, /\rcli-tty-1 {2}InProgress {2}\d+s/, 'status and elapsed time')
  // eslint-disable-next-line no-control-regex -- terminal control codes are what this checks
  t.match(again.stderr, /\x1b\[K/, 'the line is cleared as it is rewritten')
  // eslint-disable-next-line no-control-regex -- terminal control codes are what this checks
  t.match(again.stderr, /\r\x1b\[Kcli-tty-1: Completed( 8\/8)? in \d+s\n$/, 'the final state on its own line')

  // a fresh upload on a terminal shows its progress; --idempotency-key is sent with the submission
  const keyed = [...args.slice(0, 5), '--idempotency-key', 'key-1']
  const third = await run(keyed, { tty: true })
  t.equal(third.code, 0, third.stderr)
  t.match(third.stderr, /^uploading .*in\.jsonl \(\d+ B\)\.\.\. 8 records\n$/)
  const name = third.stdout.trim()
  t.match(name, /^[A-Za-z0-9-]+$/)
  // a re-run with the same key and files uploads the same content (same s3Uri): the same job
  const fourth = await run(keyed)
  t.equal(fourth.code, 0, fourth.stderr)
  t.equal(fourth.stdout.trim(), name, 'the same job, replayed')
  // the same key with other options is a different submission: a 409 that says so
  const fifth = await run([...keyed, '--param', 'max_length=7'])
  t.equal(fifth.code, 2)
  t.match(fifth.stderr, /^text2text-gateway: 409 CONFLICT: [^\n]*; this --idempotency-key was used for a submission with other files or options\n$/)
  const list = await run(['jobs', 'list', '--url', url, '--json'])
  t.same((JSON.parse(list.stdout) as { jobs: Array<{ name: string }> }).jobs.map((j) => j.name).sort(), [name, 'cli-tty-1'].sort(), 'never a second job')
})

t.test('jobs submit: a bad line is one line with the gateway\'s message, exit 2, no job', async (t) => {
  const { url } = await listeningApp(t)
  const dir = t.testdir({
    'bad.jsonl': jsonl([{ id: 1, text: 'fine' }, { id: 1, text: 'again' }]),
    'good.jsonl': jsonl([{ id: 1, text: 'fine' }])
  })
  const bad = await run(['jobs', 'submit', join(dir, 'bad.jsonl'), '--url', url])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^text2text-gateway: 400 DATASET_INVALID: [^\n]*line 2[^\n]*duplicated[^\n]* \(uploading [^\n]*bad\.jsonl\)\n$/)
  t.equal(bad.stdout, '')

  const badRefs = await run(['jobs', 'submit', join(dir, 'good.jsonl'), '--references', join(dir, 'nope.jsonl'), '--url', url])
  t.equal(badRefs.code, 2)
  t.match(badRefs.stderr, /^text2text-gateway: cannot read --references .*nope\.jsonl: no such file/)

  const badParam = await run(['jobs', 'submit', join(dir, 'good.jsonl'), '--url', url, '--param', 'batch_size=1000'])
  t.equal(badParam.code, 2)
  t.match(badParam.stderr, /^text2text-gateway: 400 [A-Z_]+: [^\n]*batch_size[^\n]*\n$/)

  // --truncate is sent as the job's truncate: the local model speaks the list contract, which refuses it by name
  const truncated = await run(['jobs', 'submit', join(dir, 'good.jsonl'), '--url', url, '--truncate', '5'])
  t.equal(truncated.code, 2)
  t.match(truncated.stderr, /^text2text-gateway: 400 INVALID_PARAMETERS: body\.truncate 5 is not supported by this endpoint's jumpstart-list contract/)
  const badTruncate = await run(['jobs', 'submit', join(dir, 'good.jsonl'), '--url', url, '--truncate', '0'])
  t.equal(badTruncate.code, 2)
  t.match(badTruncate.stderr, /--truncate/)

  const list = await run(['jobs', 'list', '--url', url, '--json'])
  t.same(JSON.parse(list.stdout), { jobs: [] }, 'nothing was submitted')
  const table = await run(['jobs', 'list', '--url', url])
  t.match(table, { code: 0, stdout: '', stderr: 'no jobs\n' })
})

t.test('status, list, results and stop on a slow job; wait on a stopped job exits 1', async (t) => {
  const { url } = await listeningApp(t, { LOCAL_LATENCY_BASE_MS: 100 })
  const dir = t.testdir({ 'in.jsonl': jsonl(Array.from({ length: 40 }, (_, i) => ({ id: i, text: text(i) }))) })
  const submitted = await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-slow-1'])
  t.equal(submitted.code, 0, submitted.stderr)
  t.equal(submitted.stdout, 'cli-slow-1\n')

  const status = await run(['jobs', 'status', 'cli-slow-1', '--url', url])
  t.match(status.stdout, /\nstatus +InProgress\n/)
  t.notMatch(status.stdout, /\nprogress /, 'no progress while it runs: SageMaker reports none')
  t.match(status.stdout, /\ninput +s3:\/\/\S+ \(40 records\)\n/)

  const table = await run(['jobs', 'list', '--url', url])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^NAME +STATUS +RECORDS +CREATED +ELAPSED\ncli-slow-1 {2}InProgress {2}(\d+\/)?40 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}\d+s\n$/)
  t.match(await run(['jobs', 'list', '--url', url, '--status', 'inprogress', '--limit', '5']), { code: 0, stdout: /cli-slow-1/ })
  t.match(await run(['jobs', 'list', '--url', url, '--status', 'Completed']), { code: 0, stdout: '', stderr: 'no Completed jobs\n' })

  const early = await run(['jobs', 'results', 'cli-slow-1', '--url', url])
  t.equal(early.code, 2)
  t.match(early.stderr, /^text2text-gateway: 409 JOB_NOT_COMPLETE: [^\n]+\n$/)

  const timedOut = await run(['jobs', 'wait', 'cli-slow-1', '--url', url, '--interval', '0.05', '--timeout', '0.1'])
  t.equal(timedOut.code, 1)
  t.match(timedOut.stderr, /\ntext2text-gateway: job cli-slow-1 is still InProgress after 0s \(--timeout\); it keeps running\n$/)

  const stopped = await run(['jobs', 'stop', 'cli-slow-1', '--url', url])
  t.equal(stopped.code, 0, stopped.stderr)
  t.match(stopped.stdout, /^cli-slow-1: (Stopping|Stopped)\n$/)

  const waited = await run(['jobs', 'wait', 'cli-slow-1', '--url', url, '--interval', '0.05'])
  t.equal(waited.code, 1, 'a job that did not complete is a failure')
  t.match(waited.stderr, /cli-slow-1: Stopped( \d+\/40)? in \d+s\ntext2text-gateway: job cli-slow-1 ended Stopped\n$/)

  const stopAgain = await run(['jobs', 'stop', 'cli-slow-1', '--url', url, '--json'])
  t.equal(stopAgain.code, 0, 'stopping a stopped job returns it as is')
  t.match(JSON.parse(stopAgain.stdout), { name: 'cli-slow-1', status: 'Stopped' })

  const out = join(dir, 'partial.jsonl')
  const results = await run(['jobs', 'results', 'cli-slow-1', '--url', url, '--out', out])
  t.equal(results.code, 0, results.stderr)
  const got = lines(await readFile(out, 'utf8'))
  t.equal(got.length, 40, 'one line per input record, with or without output')
  t.same(got.map((l) => l.id), Array.from({ length: 40 }, (_, i) => i))
  const withoutOutput = got.filter((l) => l.error !== undefined).length
  t.ok(withoutOutput > 0, 'the records after the stop have none')
  t.equal(results.stderr, `wrote 40 results (${withoutOutput} without output) to ${out}\n`)

  t.match(await run(['jobs', 'status', 'nope', '--url', url]), { code: 2, stderr: /^text2text-gateway: 404 JOB_NOT_FOUND: [^\n]*nope[^\n]*\n$/ })
  t.match(await run(['jobs', 'stop', 'nope', '--url', url]), { code: 2, stderr: /^text2text-gateway: 404 JOB_NOT_FOUND/ })
  t.match(await run(['jobs', 'wait', 'nope', '--url', url]), { code: 2, stderr: /^text2text-gateway: 404 JOB_NOT_FOUND/ })
})

t.test('jobs results --out: a missing folder is exit 2; no temp file stays behind', async (t) => {
  const { url } = await listeningApp(t)
  const dir = t.testdir({ 'in.jsonl': jsonl([{ id: 1, text: text(1) }]) })
  t.equal((await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-out-1', '--wait', '--interval', '0.05'])).code, 0)
  const res = await run(['jobs', 'results', 'cli-out-1', '--url', url, '--out', join(dir, 'missing', 'r.jsonl')])
  t.equal(res.code, 2)
  t.match(res.stderr, /^text2text-gateway: cannot write .*missing\/r\.jsonl: ENOENT/)

  // a good target is written whole, through a temp file that does not stay behind
  const ok = await run(['jobs', 'results', 'cli-out-1', '--url', url, '--out', join(dir, 'r.jsonl')])
  t.equal(ok.code, 0, ok.stderr)
  t.same((await readdir(dir)).sort(), ['in.jsonl', 'r.jsonl'])
})

t.test('a closed stdout (EPIPE) ends the results stream quietly', async (t) => {
  const { url } = await listeningApp(t)
  const dir = t.testdir({ 'in.jsonl': jsonl(Array.from({ length: 50 }, (_, i) => ({ id: i, text: text(i) }))) })
  t.equal((await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-pipe-1', '--wait', '--interval', '0.05'])).code, 0)
  let stderr = ''
  const closed = closedStdout()
  const code = await main(['jobs', 'results', 'cli-pipe-1', '--url', url], closed.stream, sink((s) => { stderr += s }), { env: {} })
  t.equal(code, 0, stderr)
  t.equal(stderr, '')
  t.equal(closed.writes(), 1, 'nothing more is written once the pipe is closed')
  await sleep(20) // late 'error' events find the guard
})

t.test('jobs submit --wait on a job that fails: the reason in one line, exit 1', async (t) => {
  const { url } = await listeningApp(t, { LOCAL_FAULT_MODEL_ERROR_PATTERN: 'POISON' })
  const dir = t.testdir({ 'in.jsonl': jsonl([{ id: 1, text: text(1) }, { id: 2, text: 'POISON in this one.' }, { id: 3, text: text(3) }]) })
  const res = await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-fail-1', '--wait', '--interval', '0.05'])
  t.equal(res.code, 1)
  t.equal(res.stdout, 'cli-fail-1\n')
  const last = res.stderr.trim().split('\n')
  t.match(last[last.length - 2], /^cli-fail-1: Failed( \d\/3)? in \d+s$/)
  t.match(last[last.length - 1], /^text2text-gateway: job cli-fail-1 ended Failed: .*Record id 2/)

  const waited = await run(['jobs', 'wait', 'cli-fail-1', '--url', url])
  t.equal(waited.code, 1)
  t.match(waited.stderr, /\ntext2text-gateway: job cli-fail-1 ended Failed: [^\n]+\n$/)
})

t.test('jobs evaluate: the submission\'s references, inline --references, the offline table, --json', async (t) => {
  const { url } = await listeningApp(t, { LOCAL_LATENCY_BASE_MS: 100 })
  const dir = t.testdir({
    'in.jsonl': jsonl(IDS.map((id) => ({ id, text: text(id) }))),
    'refs.jsonl': jsonl(IDS.map((id) => ({ id, text: `Story ${id} opens here.` }))),
    // other references: half the ids, longer texts, one id the job never saw
    'other.jsonl': jsonl([{ id: 'c', text: 'Story c opens here. It goes on.' }, { id: 7, text: 'Nothing alike.' }, { id: 'zz', text: 'Not in the job.' }]),
    'bad.jsonl': jsonl([{ id: 'c', text: 'fine' }]) + '{"id": 7, "summary": "wrong field"}\n',
    'dup.jsonl': jsonl([{ id: 'c', text: 'one' }, { id: 2, text: 'two' }, { id: 'c', text: 'again' }])
  })
  const submitted = await run(['jobs', 'submit', join(dir, 'in.jsonl'), '--references', join(dir, 'refs.jsonl'), '--url', url,
    '--name', 'cli-eval-1', '--param', 'max_length=5'])
  t.equal(submitted.code, 0, submitted.stderr)

  const early = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url])
  t.equal(early.code, 2)
  t.match(early.stderr, /^text2text-gateway: 409 JOB_NOT_COMPLETE: [^\n]*; run "jobs wait cli-eval-1" first\n$/)
  t.equal((await run(['jobs', 'wait', 'cli-eval-1', '--url', url, '--interval', '0.05'])).code, 0)

  const table = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url])
  t.equal(table.code, 0, table.stderr)
  t.equal(table.stderr, '')
  t.match(table.stdout, /^references 6 {2}missing 0 {2}unmatched 0 {2}stemmer off\ntype +precision {2}recall {2}fmeasure\nrouge1 +0\.\d{4} +1\.0000 +0\.\d{4}\nrouge2 +[\d.]+ +[\d.]+ +[\d.]+\nrougeL +[\d.]+ +[\d.]+ +[\d.]+\nrougeLsum +[\d.]+ +[\d.]+ +[\d.]+\n$/)

  // the same table as the offline command on the job's own results and the same references
  const results = await run(['jobs', 'results', 'cli-eval-1', '--url', url])
  const predictions = join(dir, 'predictions.jsonl')
  await writeFile(predictions, jsonl(lines(results.stdout).map((l) => ({ id: l.id, text: (l.generated_texts as string[])[0] }))))
  const offline = await run(['evaluate', '--predictions', predictions, '--references', join(dir, 'refs.jsonl')])
  t.equal(offline.code, 0, offline.stderr)
  t.equal(table.stdout, offline.stdout, 'what "evaluate" prints for the same files')

  const json = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--json', '--rouge-types', 'rouge1, rougeL', '--use-stemmer'])
  t.equal(json.code, 0, json.stderr)
  const body = JSON.parse(json.stdout) as { count: number, missing: unknown[], unmatched: unknown[], scores: Record<string, { fmeasure: number }> }
  t.same(Object.keys(body.scores), ['rouge1', 'rougeL'], '--rouge-types sent')
  t.match(body, { count: 6, missing: [], unmatched: [] })
  const offlineJson = await run(['evaluate', '--predictions', predictions, '--references', join(dir, 'refs.jsonl'), '--json', '--rouge-types', 'rouge1,rougeL', '--use-stemmer'])
  t.same(body, JSON.parse(offlineJson.stdout), 'the same scores as the offline command')
  const stemmed = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--use-stemmer', '--rouge-types', 'rouge1'])
  t.match(stemmed.stdout, /^references 6 {2}missing 0 {2}unmatched 0 {2}stemmer on\ntype +precision {2}recall {2}fmeasure\nrouge1 +[\d.]+ +[\d.]+ +[\d.]+\n$/)

  const inline = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--references', join(dir, 'other.jsonl'), '--json'])
  t.equal(inline.code, 0, inline.stderr)
  const other = JSON.parse(inline.stdout) as { count: number, missing: unknown[], unmatched: unknown[] }
  t.equal(other.count, 3, 'the inline references replace the submission\'s')
  t.same(other.missing, ['zz'])
  t.same(other.unmatched.map(String).sort(), ['10', '2', 'a', 'b-1'], 'the job\'s ids without a reference')
  const viaStdin = await main(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--references', '-', '--json'],
    new Writable({ write (_c, _e, done) { done() } }), new Writable({ write (_c, _e, done) { done() } }),
    { stdin: Readable.from([Buffer.from(jsonl([{ id: 'c', text: 'Story c opens here.' }]))]), env: {} })
  t.equal(viaStdin, 0, '--references - reads stdin')

  const bad = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--references', join(dir, 'bad.jsonl')])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^text2text-gateway: [^\n]*bad\.jsonl:2: expected \{"id": string\|number, "text": string\}[^\n]*\(see "text2text-gateway jobs evaluate --help"\)\n$/)
  const dup = await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--references', join(dir, 'dup.jsonl')])
  t.equal(dup.code, 2)
  t.match(dup.stderr, /^text2text-gateway: 400 [A-Z_]+: [^\n]*\(.*dup\.jsonl:3\)\n$/, 'the gateway\'s complaint points at the file line')
  t.match(await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--references', join(dir, 'nope.jsonl')]), { code: 2, stderr: /cannot read --references .*nope\.jsonl: no such file/ })
  t.match(await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--rouge-types', 'rouge1,rougeX']), { code: 2, stderr: /^text2text-gateway: 400 [A-Z_]+: [^\n]*rougeTypes[^\n]*\n$/ })
  t.match(await run(['jobs', 'evaluate', 'cli-eval-1', '--url', url, '--rouge-types', ',']), { code: 2, stderr: /--rouge-types needs at least one type/ })
  t.match(await run(['jobs', 'evaluate', '--url', url]), { code: 2, stderr: /the job name is missing \(see "text2text-gateway jobs evaluate --help"\)/ })
  t.match(await run(['jobs', 'evaluate', 'nope', '--url', url]), { code: 2, stderr: /^text2text-gateway: 404 JOB_NOT_FOUND/ })
  t.match(await run(['jobs', 'evaluate', '--help']), { code: 0, stdout: /^usage: text2text-gateway jobs evaluate <name> \[options\]\n[\s\S]*--references FILE[\s\S]*--rouge-types LIST[\s\S]*--use-stemmer[\s\S]*--json/ })
  t.match(await run(['help', 'jobs', 'evaluate']), { code: 0, stdout: /^usage: text2text-gateway jobs evaluate/ })
  t.match(await run(['jobs', '--help']), { code: 0, stdout: /\n {2}evaluate <name> +ROUGE of a finished job/ })

  // a job submitted without references: the gateway's 400, with what to do
  const plain = join(dir, 'plain.jsonl')
  await writeFile(plain, jsonl([{ id: 1, text: text(1) }]))
  t.equal((await run(['jobs', 'submit', plain, '--url', url, '--name', 'cli-eval-2', '--wait', '--interval', '0.05'])).code, 0)
  const noRefs = await run(['jobs', 'evaluate', 'cli-eval-2', '--url', url])
  t.equal(noRefs.code, 2)
  t.match(noRefs.stderr, /^text2text-gateway: 400 [A-Z_]+: [^\n]*without references[^\n]*; give them with --references FILE\n$/)
})

t.test('jobs submit waits out a busy gateway (503 UPLOADS_BUSY) and uploads once a slot frees', async (t) => {
  const { url } = await listeningApp(t, { DATASET_UPLOADS_MAX: 1 })
  const dir = t.testdir({ 'in.jsonl': jsonl(IDS.map((id) => ({ id, text: text(id) }))) })
  const held = heldUpload(url, '{"id": "held", "text": "Someone else is uploading."}')
  await sleep(100)
  const submitting = run(['jobs', 'submit', join(dir, 'in.jsonl'), '--url', url, '--name', 'cli-busy-1'])
  // the CLI's first attempt is refused while the other upload holds the only slot
  await sleep(500)
  t.equal((await held.finish('{"id": "held-2", "text": "Done now."}')).status, 201)
  const submitted = await submitting
  t.equal(submitted.code, 0, submitted.stderr)
  t.equal(submitted.stdout, 'cli-busy-1\n')
})
