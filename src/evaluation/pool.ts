import { Worker } from 'node:worker_threads'
import { evaluate, EvaluationInputError, type EvaluationLimits, type EvaluationRequest, type EvaluationResult } from './evaluate.js'
import type { WorkerReply, WorkerTask } from './worker.js'

// Compiled, the worker is a .js file beside this one. Run from TypeScript sources (tests, tsx
// in development) it is .ts, and a worker thread does not inherit the parent's loader hooks
// on Node 20, so it first registers tsx (a dev dependency) and then imports the worker.
const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url)
const SOURCE_BOOTSTRAP = `import('tsx/esm/api').then(m => m.register(), () => {}).then(() => import(${JSON.stringify(WORKER_URL.href)}))`

/** Below this many characters of text a request is scored inline: a thread hop costs more. */
export const INLINE_MAX_CHARS = 50_000

interface Pending { resolve: (r: EvaluationResult) => void, reject: (e: Error) => void }

/**
 * A fixed set of evaluation worker threads, each taking one request at a time from a shared
 * FIFO. Workers start lazily and are replaced if one dies.
 */
export class EvaluationPool {
  readonly #size: number
  readonly #workers: Array<{ worker: Worker, busy: boolean }> = []
  readonly #queue: WorkerTask[] = []
  readonly #pending = new Map<number, Pending>()
  readonly #owner = new Map<number, Worker>()
  #seq = 0
  #closed = false

  constructor (size: number) { this.#size = Math.max(1, size) }

  /** Scores a request (inline when small); input errors keep their class. */
  async run (request: EvaluationRequest, limits: EvaluationLimits): Promise<EvaluationResult> {
    if (textSize(request) <= INLINE_MAX_CHARS) return evaluate(request, limits)
    if (this.#closed) throw new Error('evaluation pool is closed')
    return await new Promise<EvaluationResult>((resolve, reject) => {
      const id = ++this.#seq
      this.#pending.set(id, { resolve, reject })
      this.#queue.push({ id, request, limits })
      this.#pump()
    })
  }

  /** Terminates the workers; queued requests are rejected. */
  async close (): Promise<void> {
    this.#closed = true
    for (const task of this.#queue.splice(0)) this.#settle(task.id, { id: task.id, ok: false, message: 'shutting down' })
    await Promise.all(this.#workers.map(async w => await w.worker.terminate()))
    this.#workers.length = 0
  }

  #pump (): void {
    while (this.#queue.length > 0) {
      let slot = this.#workers.find(w => !w.busy)
      if (slot === undefined && this.#workers.length < this.#size) slot = this.#spawn()
      if (slot === undefined) return
      const task = this.#queue.shift() as WorkerTask
      slot.busy = true
      this.#owner.set(task.id, slot.worker)
      slot.worker.postMessage(task)
    }
  }

  #spawn (): { worker: Worker, busy: boolean } {
    const worker = FROM_SOURCE ? new Worker(SOURCE_BOOTSTRAP, { eval: true }) : new Worker(WORKER_URL)
    const slot = { worker, busy: false }
    worker.unref()
    worker.on('message', (reply: WorkerReply) => {
      slot.busy = false
      this.#owner.delete(reply.id)
      this.#settle(reply.id, reply)
      this.#pump()
    })
    worker.on('error', (err) => {
      // the worker is gone: fail what it held, replace it
      for (const [id, owner] of this.#owner) {
        if (owner === worker) { this.#owner.delete(id); this.#settle(id, { id, ok: false, message: err.message }) }
      }
      this.#workers.splice(this.#workers.indexOf(slot), 1)
      if (!this.#closed) this.#pump()
    })
    this.#workers.push(slot)
    return slot
  }

  #settle (id: number, reply: WorkerReply): void {
    const pending = this.#pending.get(id)
    if (pending === undefined) return
    this.#pending.delete(id)
    if (reply.ok) pending.resolve(reply.result)
    else if (reply.input !== undefined) pending.reject(new EvaluationInputError(reply.input.code, reply.input.field, reply.input.message))
    else pending.reject(new Error(reply.message))
  }
}

function textSize (request: EvaluationRequest): number {
  let n = 0
  for (const list of [request.predictions, request.references]) {
    if (!Array.isArray(list)) continue
    for (const item of list) n += typeof item?.text === 'string' ? item.text.length : 0
  }
  return n
}
