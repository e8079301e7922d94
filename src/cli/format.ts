// Human-readable output of the client commands: durations, sizes, tables, job summaries.
import type { TransformJob } from '../../schemas/jobs.js'

/** "4s", "2m05s", "1h02m" for a duration in milliseconds (negative counts as 0). */
export function duration (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** "512 B", "1.2 kB", "3.4 MB" (decimal units, as file managers show them). */
export function bytes (n: number): string {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = n
  let unit = 'B'
  for (const u of units) {
    if (value < 1000) break
    value /= 1000
    unit = u
  }
  return `${value.toFixed(1)} ${unit}`
}

/** Milliseconds since the epoch of an ISO date, or undefined when absent or unparseable. */
export function time (iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined
  const t = Date.parse(iso)
  return Number.isNaN(t) ? undefined : t
}

/** "2025-01-01 12:00:00Z": an ISO date shortened for tables (UTC, second precision). */
export function shortDate (iso: string | undefined): string {
  const t = time(iso)
  return t === undefined ? '-' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** How long a job has run: createdAt to endedAt, or to `now` while it runs. */
export function jobElapsed (job: TransformJob, now: number): number | undefined {
  const start = time(job.createdAt)
  if (start === undefined) return undefined
  return (time(job.endedAt) ?? now) - start
}

/** "37/100 (37%)", or "-" without progress. */
export function progressText (job: TransformJob): string {
  const p = job.progress
  if (p === undefined) return '-'
  const pct = p.total > 0 ? Math.floor((p.processed / p.total) * 100) : 100
  return `${p.processed}/${p.total} (${pct}%)`
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function table (rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map((row) => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ')).join('\n') + '\n'
}

/** `key=value` pairs of an object, space-separated ("-" when empty). */
function pairs (value: Record<string, unknown> | undefined): string {
  const entries = Object.entries(value ?? {})
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')
}

/** The multi-line summary `jobs status` prints. */
export function jobDetails (job: TransformJob, now: number): string {
  const elapsed = jobElapsed(job, now)
  const rows: Array<[string, string | undefined]> = [
    ['name', job.name],
    ['status', job.status],
    ['failure', job.failureReason],
    ['progress', job.progress === undefined ? undefined : progressText(job)],
    ['model', job.model],
    ['created', shortDate(job.createdAt)],
    ['started', job.startedAt === undefined ? undefined : shortDate(job.startedAt)],
    ['ended', job.endedAt === undefined ? undefined : shortDate(job.endedAt)],
    ['elapsed', elapsed === undefined ? undefined : duration(elapsed)],
    ['input', job.input === undefined ? undefined : `${job.input.s3Uri}${job.input.recordCount === undefined ? '' : ` (${job.input.recordCount} records)`}`],
    ['output', job.output?.s3Uri],
    ['references', job.references?.s3Uri],
    ['parameters', pairs(job.parameters)]
  ]
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined)
  const width = Math.max(...shown.map(([k]) => k.length))
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n'
}
