import { createServer } from 'node:net'
import t from 'tap'
import { runCli, type Run } from '../helpers/cli.js'
import { parseParams, typedValue } from '../../src/cli/options.js'

/** Runs the CLI with captured stdout/stderr, an empty stdin and no T2T_* environment unless given. */
const run = async (argv: string[], env: Record<string, string> = {}): Promise<Run> => await runCli(argv, { env })

/** A loopback port nothing listens on (bound, then released). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

const oneLine = (s: string): boolean => s.endsWith('\n') && s.trim().split('\n').length === 1

t.test('help: top level, per command, via "help <command>"', async (t) => {
  const top = await run(['--help'])
  t.equal(top.code, 0)
  t.match(top.stdout, /summarize \[text\|-\]/)
  t.match(top.stdout, /jobs <subcommand>/)
  t.match(top.stdout, /Exit codes: 0 success; 1 server or network failure/)

  const none = await run([])
  t.equal(none.code, 2, 'no command is a usage error')
  t.match(none.stderr, /^usage: text2text-gateway <command>/)

  t.match(await run(['summarize', '--help']), { code: 0, stdout: /^usage: text2text-gateway summarize \[text\|-\]/ })
  t.match(await run(['help', 'summarize']), { code: 0, stdout: /--max-length N/ })
  t.match(await run(['jobs', '--help']), { code: 0, stdout: /subcommands:\n {2}submit <file\.jsonl>/ })
  t.match(await run(['help', 'jobs', 'submit']), { code: 0, stdout: /--idempotency-key KEY/ })
  for (const sub of ['status', 'list', 'stop', 'results', 'wait']) {
    t.match(await run(['jobs', sub, '-h']), { code: 0, stdout: new RegExp(`^usage: text2text-gateway jobs ${sub}`) }, sub)
  }
  t.match(await run(['help', 'evaluate']), { code: 0, stdout: /usage: text2text-gateway evaluate/ })
  t.match(await run(['serve', '--help']), { code: 0, stdout: /^usage: text2text-gateway serve/ })
  t.match(await run(['--version']), { code: 0, stdout: /^\d+\.\d+\.\d+\n$/ })
})

t.test('usage errors: one line, exit 2, pointing at the help', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /^text2text-gateway: unknown command "bogus"; expected serve, summarize, jobs, endpoints, usage, evaluate or help \(see "text2text-gateway --help"\)\n$/],
    [['summarize', 'x', '--bogus'], /^text2text-gateway: Unknown option '--bogus' \(see "text2text-gateway summarize --help"\)\n$/],
    [['summarize', 'a', 'b'], /expected one text argument, got 2/],
    [['summarize', 'x', '--param', 'num_beams'], /--param expects key=value \(e\.g\. num_beams=4\), got "num_beams"/],
    [['summarize', 'x', '--max-length', 'ten'], /--max-length must be an integer from 1 to 1024, got "ten"/],
    [['summarize', 'x', '--url', 'not a url'], /--url "not a url" is not a URL/],
    [['summarize', 'x', '--url', 'ftp://127.0.0.1'], /must be http:\/\/ or https:\/\//],
    [['summarize'], /no text to summarize \(the argument or stdin is empty\)/],
    [['jobs', 'frobnicate'], /unknown jobs subcommand "frobnicate"; expected one of submit, status, list, stop, results, wait, evaluate \(see "text2text-gateway jobs --help"\)/],
    [['jobs', 'status'], /the job name is missing \(see "text2text-gateway jobs status --help"\)/],
    [['jobs', 'list', '--status', 'done'], /--status must be one of InProgress, Completed, Failed, Stopping, Stopped, got "done"/],
    [['jobs', 'list', '--limit', '0'], /--limit must be an integer from 1 to 1000/],
    [['jobs', 'wait', 'x', '--interval=0'], /--interval must be a positive number of seconds/],
    [['jobs', 'submit'], /the input file is missing/],
    [['jobs', 'submit', 'data.jsonl', '--timeout', '5'], /--interval and --timeout apply only with --wait/],
    [['jobs', 'submit', '/nonexistent/data.jsonl'], /cannot read \/nonexistent\/data\.jsonl: no such file/],
    [['serve', '--port', '80'], /serve takes no arguments/]
  ]
  for (const [argv, message] of cases) {
    const res = await run(argv)
    t.equal(res.code, 2, argv.join(' '))
    t.match(res.stderr, message, argv.join(' '))
    t.ok(oneLine(res.stderr), `one line: ${JSON.stringify(res.stderr)}`)
    t.equal(res.stdout, '')
  }
  t.match(await run(['jobs']), { code: 2, stderr: /^usage: text2text-gateway jobs <subcommand>/ })
})

t.test('connection refused: one line naming the URL and "serve", exit 1', async (t) => {
  const port = await closedPort()
  const url = `http://127.0.0.1:${port}`
  for (const argv of [['summarize', 'hello', '--url', url], ['jobs', 'list', '--url', url], ['jobs', 'status', 'x', '--url', url]]) {
    const res = await run(argv)
    t.equal(res.code, 1, argv[0])
    t.equal(res.stderr, `text2text-gateway: cannot connect to ${url} (connection refused); start a gateway with "npx text2text-gateway serve" or point --url / T2T_URL at one\n`)
    t.equal(res.stdout, '')
  }
  // T2T_URL is used without --url; --url wins over it
  t.match(await run(['jobs', 'list'], { T2T_URL: url }), { code: 1, stderr: new RegExp(`cannot connect to ${url} `) })
  t.match(await run(['jobs', 'list', '--url', url], { T2T_URL: 'http://127.0.0.1:9' }), { code: 1, stderr: new RegExp(`cannot connect to ${url} `) })
  // a port fetch refuses to use is named as such
  t.match(await run(['jobs', 'list', '--url', 'http://127.0.0.1:1']), { code: 1, stderr: /^text2text-gateway: cannot reach http:\/\/127\.0\.0\.1:1: bad port\n$/ })
})

t.test('--param values are typed', async (t) => {
  t.same(parseParams(['num_beams=4', 'top_p=0.9', 'seed=-1', 'do_sample=true', 'early_stopping=false', 'x=abc', 'y="7"', 'z=1e3', 'w=0x10', 'v=a=b'], 'summarize'), {
    num_beams: 4, top_p: 0.9, seed: -1, do_sample: true, early_stopping: false, x: 'abc', y: '7', z: 1000, w: '0x10', v: 'a=b'
  })
  t.same(parseParams(['max_length=5', 'max_length=6'], 'summarize'), { max_length: 6 }, 'a later key wins')
  t.equal(typedValue('True'), 'True', 'only lower-case booleans')
  t.equal(typedValue(''), '')
  t.throws(() => parseParams(['=4'], 'summarize'), /--param expects key=value/)
})
