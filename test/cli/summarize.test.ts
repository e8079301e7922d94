import { Readable, Writable } from 'node:stream'
import t from 'tap'
import { main } from '../../src/cli/main.js'
import { listeningApp } from '../helpers/local-app.js'

interface Run { code: number, stdout: string, stderr: string }

/** Load shedding is not under test here: a busy test machine must not turn requests into 503s. */
const NO_SHEDDING = { SHED_EVENT_LOOP_DELAY_MS: 0 }

/** Runs the CLI with captured stdout/stderr; `stdin` is what summarize reads without a text argument. */
async function run (argv: string[], opts: { stdin?: string, env?: Record<string, string> } = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (s: string) => void): Writable => new Writable({
    write (chunk: Buffer | string, _encoding, done) { append(chunk.toString()); done() }
  })
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)])
  const code = await main(argv, sink((s) => { stdout += s }), sink((s) => { stderr += s }), { stdin, env: opts.env ?? {} })
  return { code, stdout, stderr }
}

const ARTICLE = 'The river rose four metres overnight. The bridge stays closed until Friday. Officials expect more rain. Schools open late.'
/** What the local engine (extractive lead-3) returns for ARTICLE. */
const LEAD3 = 'The river rose four metres overnight. The bridge stays closed until Friday. Officials expect more rain.'

t.test('summarize: text from the argument, from stdin, and "-"', async (t) => {
  const { url } = await listeningApp(t, NO_SHEDDING)
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
  const { url } = await listeningApp(t, NO_SHEDDING)
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
  const { url } = await listeningApp(t, NO_SHEDDING)
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
  const { url } = await listeningApp(t, { ...NO_SHEDDING, API_KEYS: 'k-one,k-two' })
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
