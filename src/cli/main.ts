// `text2text-gateway <command>`: the command-line entry (package.json `bin`).
import { evaluateCommand } from './evaluate.js'

const USAGE = `usage: text2text-gateway <command> [options]

commands:
  serve                 start the gateway (local mode without AWS settings; see README)
  evaluate              ROUGE of two JSONL files of {"id","text"} without a server
  help                  this text

Run "text2text-gateway <command> --help" for a command's options.`

/** Dispatches a subcommand; resolves with the process exit code. */
export async function main (argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      await import('../server.js')
      // the server keeps the process alive; its own signal handling decides the exit code
      return -1
    case 'evaluate':
      return await evaluateCommand(rest, out, err)
    case undefined: case 'help': case '--help': case '-h':
      out.write(USAGE + '\n')
      return command === undefined ? 2 : 0
    default:
      err.write(`text2text-gateway: unknown command ${JSON.stringify(command)}\n${USAGE}\n`)
      return 2
  }
}
