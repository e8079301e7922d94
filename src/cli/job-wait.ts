// Waiting for a transform job to end, with a progress display on stderr: on a terminal one line
// rewritten in place (status, a bar and processed/total when the job reports progress, elapsed
// time, an estimate of what is left); otherwise plain lines, one per change, for logs.
import { setTimeout as sleep } from 'node:timers/promises'
import type { TransformJob } from '../../schemas/jobs.js'
import type { Gateway } from './client.js'
import { CliError, ConnectionError, HttpError } from './errors.js'
import { duration, jobElapsed, progressText } from './format.js'
import { columns, isTTY } from './options.js'

/** Default and largest gap between two polls (ms); the first polls come sooner. */
export const DEFAULT_POLL_INTERVAL_MS = 2000
/** First gap between polls (ms), doubled up to the interval: short jobs end without a 2 s wait. */
const FIRST_POLL_MS = 100
/** Transient poll failures in a row tolerated before giving up (with the interval between). */
const MAX_POLL_FAILURES = 5
/** Without a terminal, progress-only changes are logged at most this often (ms); status changes always. */
const PLAIN_PROGRESS_EVERY_MS = 10_000
/** Characters of the progress bar on a terminal. */
const BAR_WIDTH = 20

/** Statuses after which a job never changes again. */
const TERMINAL = new Set(['Completed', 'Failed', 'Stopped'])

/** Whether a job has ended (Completed, Failed or Stopped). */
export function isTerminal (job: TransformJob): boolean {
  return TERMINAL.has(job.status)
}

export interface WaitOptions {
  /** Largest gap between polls (ms). */
  intervalMs: number
  /** Give up (exit 1) when the job is still running after this long (ms). */
  timeoutMs?: number
  /** Clock (ms since the epoch); tests may pin it. */
  now?: () => number
}

/** The progress display: rewrites one terminal line, or appends plain lines. */
class ProgressDisplay {
  private readonly tty: boolean
  /** A rewritten line is on screen without its newline. */
  private pending = false
  private lastPlain: { status: string, processed: number | undefined, at: number } | undefined
  /** First progress seen while waiting, for the estimate of what is left. */
  private first: { processed: number, at: number } | undefined

  constructor (private readonly err: NodeJS.WritableStream, private readonly now: () => number) {
    this.tty = isTTY(err)
  }

  /** Shows a job that is still running. */
  update (job: TransformJob): void {
    const now = this.now()
    if (job.progress !== undefined && this.first === undefined) this.first = { processed: job.progress.processed, at: now }
    if (this.tty) {
      // the last column stays free: writing into it makes some terminals wrap
      const width = columns(this.err) - 1
      let line = this.line(job, now, true)
      if (line.length > width) line = this.line(job, now, false)
      this.err.write(`\r${line.slice(0, width)}\x1b[K`)
      this.pending = true
      return
    }
    const processed = job.progress?.processed
    const last = this.lastPlain
    const changed = last === undefined || last.status !== job.status ||
      (last.processed !== processed && now - last.at >= PLAIN_PROGRESS_EVERY_MS)
    if (!changed) return
    this.lastPlain = { status: job.status, processed, at: now }
    this.err.write(this.plain(job, now) + '\n')
  }

  /** Shows the job's final state on a line of its own. */
  finish (job: TransformJob): void {
    const now = this.now()
    const elapsed = jobElapsed(job, now)
    const progress = job.progress === undefined ? '' : ` ${job.progress.processed}/${job.progress.total}`
    const took = elapsed === undefined ? '' : ` in ${duration(elapsed)}`
    // no failure reason here: the error line that follows a failed wait carries it
    this.clear()
    this.err.write(`${job.name}: ${job.status}${progress}${took}\n`)
  }

  /** Ends a rewritten line so that what follows (an error line) starts on its own. */
  clear (): void {
    if (!this.pending) return
    this.err.write('\r\x1b[K')
    this.pending = false
  }

  /** The terminal line; without the bar when the terminal is too narrow for it. */
  private line (job: TransformJob, now: number, withBar: boolean): string {
    const parts = [job.name, job.status]
    const p = job.progress
    if (p !== undefined) {
      const filled = p.total > 0 ? Math.round((p.processed / p.total) * BAR_WIDTH) : BAR_WIDTH
      if (withBar) parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`)
      parts.push(progressText(job))
    }
    const elapsed = jobElapsed(job, now)
    if (elapsed !== undefined) parts.push(duration(elapsed))
    const eta = this.eta(job, now)
    if (eta !== undefined) parts.push(`~${duration(eta)} left`)
    return parts.join('  ')
  }

  private plain (job: TransformJob, now: number): string {
    const elapsed = jobElapsed(job, now)
    const progress = job.progress === undefined ? '' : ` ${progressText(job)}`
    return `${job.name}: ${job.status}${progress}${elapsed === undefined ? '' : `, ${duration(elapsed)} elapsed`}`
  }

  /** Time left at the rate seen since waiting began (ms), once there is a rate. */
  private eta (job: TransformJob, now: number): number | undefined {
    const p = job.progress
    if (p === undefined || this.first === undefined || job.status !== 'InProgress') return undefined
    const done = p.processed - this.first.processed
    const spent = now - this.first.at
    if (done <= 0 || spent <= 0) return undefined
    return ((p.total - p.processed) / done) * spent
  }
}

/** Whether a poll failure may go away by itself (network, 5xx, 429). */
function transient (error: unknown): boolean {
  return error instanceof ConnectionError || (error instanceof HttpError && error.transient)
}

/**
 * Polls the job until it ends, showing progress on `err`; resolves with the final job.
 * Throws a CliError (exit 1) on --timeout, or after MAX_POLL_FAILURES transient failures in a row.
 */
export async function waitForJob (gateway: Gateway, name: string, err: NodeJS.WritableStream, options: WaitOptions): Promise<TransformJob> {
  const now = options.now ?? Date.now
  const display = new ProgressDisplay(err, now)
  const started = now()
  let gap = Math.min(FIRST_POLL_MS, options.intervalMs)
  let failures = 0
  for (;;) {
    let job: TransformJob | undefined
    try {
      job = await gateway.job(name)
      failures = 0
    } catch (error) {
      if (!transient(error) || ++failures >= MAX_POLL_FAILURES) {
        display.clear()
        throw error
      }
    }
    if (job !== undefined) {
      if (isTerminal(job)) {
        display.finish(job)
        return job
      }
      display.update(job)
    }
    if (options.timeoutMs !== undefined && now() - started >= options.timeoutMs) {
      display.clear()
      throw new CliError(`job ${name} is still ${job?.status ?? 'running'} after ${duration(options.timeoutMs)} (--timeout); it keeps running`)
    }
    await sleep(failures > 0 ? options.intervalMs : gap)
    gap = Math.min(gap * 2, options.intervalMs)
  }
}

/** The exit path after waiting: Completed is success, anything else one error line (exit 1). */
export function requireCompleted (job: TransformJob): void {
  if (job.status === 'Completed') return
  const reason = job.failureReason === undefined ? '' : `: ${job.failureReason}`
  throw new CliError(`job ${job.name} ended ${job.status}${reason}`)
}
