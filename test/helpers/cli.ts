// Shared by the CLI tests: run `main` with captured streams, and stand-ins for a closed pipe.
import { Readable, Writable } from 'node:stream'
import { main } from '../../src/cli/main.js'

/** What one CLI run printed and returned. */
export interface Run { code: number, stdout: string, stderr: string }

/** A writable that hands every chunk to `append` as text. */
export function sink (append: (s: string) => void): Writable {
  return new Writable({ write (chunk: Buffer | string, _encoding, done) { append(chunk.toString()); done() } })
}

/**
 * Runs the CLI with captured stdout/stderr, `stdin` as the text it reads (empty by default),
 * no T2T_* environment unless given, and with `tty` a stderr that looks like a terminal.
 */
export async function runCli (argv: string[], opts: { stdin?: string, env?: Record<string, string>, tty?: boolean } = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const err = sink((s) => { stderr += s })
  if (opts.tty === true) Object.assign(err, { isTTY: true, columns: 120 })
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)])
  const code = await main(argv, sink((s) => { stdout += s }), err, { stdin, env: opts.env ?? {} })
  return { code, stdout, stderr }
}

/** A stdout whose reader went away after the first chunk, as `| head -1` does (every write fails EPIPE). */
export function closedStdout (): { stream: Writable, writes: () => number } {
  let writes = 0
  const stream = new Writable({
    highWaterMark: 1,
    write (_chunk: Buffer, _encoding, done) {
      writes++
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    }
  })
  return { stream, writes: () => writes }
}

/** JSON Lines text of `rows`. */
export const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
