import OpenAI, { toFile } from 'openai'
import type { Batch } from 'openai/resources/batches'

/** One line of a batch input file (https://platform.openai.com/docs/api-reference/batch/request-input). */
export function batchLine (customId: string, body: Record<string, unknown>, url = '/v1/completions'): string {
  return JSON.stringify({ custom_id: customId, method: 'POST', url, body })
}

/** An OpenAI client for a listening gateway. */
export function openAiClient (url: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 })
}

/** Uploads JSONL text as a batch input file. */
export async function uploadBatchFile (client: OpenAI, lines: readonly string[], name = 'in.jsonl'): Promise<OpenAI.FileObject> {
  return await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), name), purpose: 'batch' })
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'expired'])

/** Polls client.batches.retrieve until the batch is terminal; returns every status seen, in order. */
export async function waitForBatch (client: OpenAI, id: string, timeoutMs = 60_000): Promise<{ batch: Batch, seen: string[] }> {
  const until = Date.now() + timeoutMs
  const seen: string[] = []
  for (;;) {
    const batch = await client.batches.retrieve(id)
    if (seen[seen.length - 1] !== batch.status) seen.push(batch.status)
    if (TERMINAL.has(batch.status)) return { batch, seen }
    if (Date.now() > until) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** A file's content as parsed JSONL lines. */
export async function fileLines (client: OpenAI, id: string): Promise<Array<Record<string, any>>> {
  const text = await (await client.files.content(id)).text()
  return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, any>)
}

/** Resolves with the error `promise` rejects with, checking it is an instance of the client's `Class` (the exception an application catches). */
export async function clientError<E extends Error> (promise: Promise<unknown>, Class: abstract new (...args: any[]) => E): Promise<E> {
  try {
    await promise
  } catch (err) {
    if (err instanceof Class) return err
    throw new Error(`expected ${Class.name}, got ${(err as Error).constructor.name}: ${(err as Error).message}`)
  }
  throw new Error(`expected ${Class.name}, got success`)
}
