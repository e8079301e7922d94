// Runs `evaluate` in a worker thread: scoring thousands of records is CPU-bound for hundreds of
// ms, which on the main thread would stall every real-time caller's batch.
import { parentPort } from 'node:worker_threads'
import { evaluate, EvaluationInputError, type EvaluationLimits, type EvaluationRequest } from './evaluate.js'

/** A job for the worker and its answer. */
export interface WorkerTask { id: number, request: EvaluationRequest, limits: EvaluationLimits }
export type WorkerReply =
  | { id: number, ok: true, result: ReturnType<typeof evaluate> }
  | { id: number, ok: false, input?: { code: EvaluationInputError['code'], field: string, message: string }, message: string }

parentPort?.on('message', (task: WorkerTask) => {
  let reply: WorkerReply
  try {
    reply = { id: task.id, ok: true, result: evaluate(task.request, task.limits) }
  } catch (err) {
    reply = err instanceof EvaluationInputError
      ? { id: task.id, ok: false, input: { code: err.code, field: err.field, message: err.message }, message: err.message }
      : { id: task.id, ok: false, message: (err as Error).message }
  }
  parentPort?.postMessage(reply)
})
