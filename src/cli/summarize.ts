// `text2text-gateway summarize [text|-]`: one text through POST /v1/summarize.
import { parseArgs } from 'node:util'
import type { SummarizeResponse } from '../../schemas/realtime.js'
import { Gateway, isRecord } from './client.js'
import { EXIT_OK, UsageError } from './errors.js'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, connection, integerOption, isTTY, parseCommandLine, parseParams, type CliContext } from './options.js'

const COMMAND = 'summarize'

/** Help text of `summarize`. */
export const SUMMARIZE_USAGE = `usage: text2text-gateway summarize [text|-] [options]

Summarises one text with a running gateway (POST /v1/summarize) and prints the summary.
With no text argument, or "-", the text is read from stdin.

options:
  --prompt TEXT          prepended to the text (gateway default "Briefly summarize this text: ";
                         --prompt "" sends none)
  --max-length N         maximum summary length (same as --param max_length=N, and wins over it)
  --model NAME           model/endpoint (default: the gateway's first)
  --param KEY=VALUE      generation parameter, repeatable; numbers and true/false are typed,
                         "..." forces a string (e.g. --param num_beams=4 --param do_sample=true)
  --json                 print the gateway's JSON response ({"summary","generated_texts","model"})
${CLIENT_OPTIONS_HELP}`

function isSummary (value: unknown): value is SummarizeResponse {
  return isRecord(value) && typeof value.summary === 'string' && Array.isArray(value.generated_texts) && typeof value.model === 'string'
}

/** Reads all of stdin as UTF-8. */
async function readAll (stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** Runs `summarize`; resolves with the exit code (errors are thrown to main). */
export async function summarizeCommand (argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine(COMMAND, () => parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      prompt: { type: 'string' },
      'max-length': { type: 'string' },
      model: { type: 'string' },
      param: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false }
    }
  }))
  if (values.help) {
    ctx.out.write(SUMMARIZE_USAGE + '\n')
    return EXIT_OK
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected one text argument, got ${positionals.length} (quote the text, or pipe it to stdin)`, COMMAND)
  }
  const parameters = parseParams(values.param, COMMAND)
  const maxLength = integerOption(values['max-length'], '--max-length', 1, 1024, COMMAND)
  if (maxLength !== undefined) parameters.max_length = maxLength
  const gateway = new Gateway(connection(values.url, ctx.env, COMMAND))

  let text = positionals[0]
  if (text === undefined || text === '-') {
    if (isTTY(ctx.stdin)) ctx.err.write('reading the text from stdin; end it with Ctrl-D\n')
    // a trailing newline is how files and echo end; it is not part of the text
    text = (await readAll(ctx.stdin)).replace(/(\r?\n)+$/, '')
  }
  if (text.trim() === '') throw new UsageError('no text to summarize (the argument or stdin is empty)', COMMAND)

  const body = {
    text,
    ...(values.model === undefined ? {} : { model: values.model }),
    ...(values.prompt === undefined ? {} : { prompt: values.prompt }),
    ...(Object.keys(parameters).length === 0 ? {} : { parameters })
  }
  const { value } = await gateway.json('POST', 'v1/summarize', isSummary, { json: body })
  ctx.out.write(values.json ? JSON.stringify(value, null, 2) + '\n' : value.summary + '\n')
  return EXIT_OK
}
