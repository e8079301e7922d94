// HTTP helpers the route, reliability and soak tests share.
import { request } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'

/** POSTs JSON; resolves with status, Retry-After and body, or status -1 on a network error. */
export async function post (url: string, body: unknown, signal?: AbortSignal): Promise<{ status: number, retryAfter: string | null, body: Record<string, unknown>, ms: number, serverMs: number }> {
  const started = performance.now()
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal })
    const text = await res.text()
    const serverMs = Number(/app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN)
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text === '' ? {} : JSON.parse(text) as Record<string, unknown>, ms: performance.now() - started, serverMs }
  } catch {
    return { status: -1, retryAfter: null, body: {}, ms: performance.now() - started, serverMs: NaN }
  }
}

/** Runs `total` tasks with at most `concurrency` at once; results in task order. */
export async function pool<T> (total: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(total)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const i = next++
      results[i] = await task(i)
    }
  }))
  return results
}

/**
 * Starts an NDJSON upload to POST /v1/datasets that sends `firstLine` and stays open until
 * `finish(lastLine)`, which resolves with the response; `response` is that answer whenever it
 * comes (one the gateway sends before the body ends).
 */
export function heldUpload (url: string, firstLine: string): { response: Promise<{ status: number, body: string }>, finish: (lastLine: string) => Promise<{ status: number, body: string }> } {
  const req = request(`${url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } })
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    req.on('response', res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
  })
  req.write(firstLine + '\n')
  return { response, finish: async (lastLine) => { req.end(lastLine + '\n'); return await response } }
}

/** A request the route must refuse: body, status, catalog code, message pattern, optional headers. */
export type Rejection = [payload: unknown, status: number, code: string, message: RegExp, headers?: Record<string, string>]

/** POSTs each case to `url` through `app.inject` and checks its status, code and message. */
export async function expectRejections (t: Pick<Test, 'equal' | 'match'>, app: FastifyInstance, url: string, cases: Rejection[]): Promise<void> {
  for (const [payload, status, code, message, headers] of cases) {
    const label = JSON.stringify(payload).slice(0, 120)
    const res = await app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> })
    t.equal(res.statusCode, status, label)
    t.equal(res.json().code, code, label)
    t.match(res.json().message, message, label)
  }
}
