// `text2text-gateway summarize [text|-]`: one text through POST /v1/summarize; with
// `--jsonl FILE|-`, many (summarize-jsonl.ts).
import { Gateway } from './client.js'
import { EXIT_OK, UsageError } from './errors.js'
import { CLIENT_OPTIONS_HELP, connection, integerOption, isTTY, parseClientArgs, parseParams, type CliContext } from './options.js'
import { DEFAULT_CONCURRENCY, isSummary, MAX_CONCURRENCY, summarizeJsonl, type SummarizeRequest } from './summarize-jsonl.js'

const COMMAND = 'summarize'

/** Help text of `summarize`. */
export const SUMMARIZE_USAGE = `usage: text2text-gateway summarize [text|-] [options]
       text2text-gateway summarize --jsonl FILE|- [--concurrency N] [options]

Summarises one text with a running gateway (POST /v1/summarize) and prints the summary.
With no text argument, or "-", the text is read from stdin.

With --jsonl, summarises many texts in real time: FILE (or stdin for "-") holds one
{"id": string|number, "text": string} per line (other fields are ignored; blank lines are
skipped), read as it streams. Each text is its own request, at most N in flight, so the
gateway batches them. One JSON line per input is written to stdout in input order:
{"id","summary"}, or {"id","error":{"code","message"}} for a text the gateway refused (the run
goes on; the exit code is then 1). A text refused with 429 or 503 (busy) is retried first,
honouring Retry-After. A line that is not valid JSON, or lacks an "id" or a string "text",
stops the run (exit 2, naming file:line) after the results of the lines before it; so does an
option the gateway refuses (e.g. --param), and a connection failure (exit 1). At the end,
"N summaries in X s (Y/s), M failed" goes to stderr.

options:
  --jsonl FILE|-         summarise each {"id","text"} line of FILE ("-" = stdin), as above
  --concurrency N        with --jsonl, requests in flight at most (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY});
                         also the number of results held back to keep the input order
  --prompt TEXT          prepended to the text (gateway default "Briefly summarize this text: ";
                         --prompt "" sends none)
  --max-length N         maximum summary length (same as --param max_length=N, and wins over it)
  --model NAME           model/endpoint (default: the gateway's first)
  --param KEY=VALUE      generation parameter, repeatable; numbers and true/false are typed,
                         "..." forces a string (e.g. --param num_beams=4 --param do_sample=true)
  --json                 print the gateway's JSON response ({"summary","generated_texts","model"});
                         not with --jsonl, whose output is JSON already
${CLIENT_OPTIONS_HELP}`

/** Reads all of stdin as UTF-8. */
async function readAll (stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** Runs `summarize`; resolves with the exit code (errors are thrown to main). */
export async function summarizeCommand (argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseClientArgs(COMMAND, argv, {
    prompt: { type: 'string' },
    'max-length': { type: 'string' },
    model: { type: 'string' },
    param: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    jsonl: { type: 'string' },
    concurrency: { type: 'string' }
  })
  if (values.help) {
    ctx.out.write(SUMMARIZE_USAGE + '\n')
    return EXIT_OK
  }
  if (values.jsonl !== undefined) {
    if (positionals.length > 0) throw new UsageError('a text argument cannot go with --jsonl, which reads the texts from its file (or stdin)', COMMAND)
    if (values.json) throw new UsageError('--json does not apply with --jsonl, whose output is JSON Lines already', COMMAND)
    if (values.jsonl === '') throw new UsageError('--jsonl needs a file, or "-" for stdin', COMMAND)
  } else if (values.concurrency !== undefined) {
    throw new UsageError('--concurrency applies only with --jsonl', COMMAND)
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected one text argument, got ${positionals.length} (quote the text, or pipe it to stdin)`, COMMAND)
  }
  const parameters = parseParams(values.param, COMMAND)
  const maxLength = integerOption(values['max-length'], '--max-length', 1, 1024, COMMAND)
  if (maxLength !== undefined) parameters.max_length = maxLength
  const concurrency = integerOption(values.concurrency, '--concurrency', 1, MAX_CONCURRENCY, COMMAND) ?? DEFAULT_CONCURRENCY
  const gateway = new Gateway(connection(values.url, ctx.env, COMMAND))
  const request: SummarizeRequest = {
    ...(values.model === undefined ? {} : { model: values.model }),
    ...(values.prompt === undefined ? {} : { prompt: values.prompt }),
    ...(Object.keys(parameters).length === 0 ? {} : { parameters })
  }
  if (values.jsonl !== undefined) {
    return await summarizeJsonl(gateway, { source: values.jsonl, concurrency, request, command: COMMAND }, ctx)
  }

  let text = positionals[0]
  if (text === undefined || text === '-') {
    if (isTTY(ctx.stdin)) ctx.err.write('reading the text from stdin; end it with Ctrl-D\n')
    // a trailing newline is how files and echo end; it is not part of the text
    text = (await readAll(ctx.stdin)).replace(/(\r?\n)+$/, '')
  }
  if (text.trim() === '') throw new UsageError('no text to summarize (the argument or stdin is empty)', COMMAND)

  const { value } = await gateway.json('POST', 'v1/summarize', isSummary, { json: { text, ...request } })
  ctx.out.write(values.json ? JSON.stringify(value, null, 2) + '\n' : value.summary + '\n')
  return EXIT_OK
}
