/**
 * Keeps AWS account details out of logs and replies: ARNs, AWS console URLs (CloudWatch log
 * links in ModelError messages) and 12-digit account ids. One definition, used for messages
 * built from AWS errors and for every error the logger serialises.
 */

// arn:partition:service:region:account:resource, up to a quote, comma or space
const ARN = /arn:aws[\w-]*:[^\s"',]*/g
// console.aws.amazon.com and <region>.console.aws.amazon.com, with whatever path and query follow
const CONSOLE_URL = /https?:\/\/[^\s"'<>]*\.aws\.amazon\.com[^\s"'<>]*/g
// an account id is 12 digits; not part of a longer number
const ACCOUNT_ID = /(?<![\d])\d{12}(?![\d])/g

/** `text` with ARNs, AWS console URLs and account ids replaced by `<arn>`, `<aws-console-url>`, `<account>`. */
export function redactAws (text: string): string {
  return text.replace(CONSOLE_URL, '<aws-console-url>').replace(ARN, '<arn>').replace(ACCOUNT_ID, '<account>')
}

/** Causes followed when serialising an error (a chain longer than this is cut). */
const MAX_CAUSES = 8

/** What the logs keep of one error: its type, message, stack and stable codes, redacted. */
// a type alias, not an interface: pino's serialiser type wants an index signature
export type LoggedError = { type: string, message: string, stack: string, code?: string, statusCode?: number, cause?: LoggedError }

/**
 * pino `err` serialiser: the error and its `cause` chain (iteratively, at most MAX_CAUSES),
 * each reduced to type, message, stack, code and statusCode with redactAws applied. SDK
 * errors' other fields ($metadata, LogStreamArn, OriginalMessage, ...) are left out.
 */
export function serializeError (err: unknown): LoggedError {
  const root: LoggedError = { type: 'Error', message: '', stack: '' }
  let target = root
  let current: unknown = err
  for (let depth = 0; depth < MAX_CAUSES; depth++) {
    if (current instanceof Error) {
      const e = current as Error & { code?: unknown, statusCode?: unknown }
      target.type = e.name
      target.message = redactAws(e.message)
      if (typeof e.stack === 'string') target.stack = redactAws(e.stack)
      if (typeof e.code === 'string') target.code = redactAws(e.code)
      if (typeof e.statusCode === 'number') target.statusCode = e.statusCode
    } else {
      target.type = typeof current
      target.message = redactAws(String(current))
    }
    const next = current instanceof Error ? current.cause : undefined
    if (next === undefined || next === null || depth === MAX_CAUSES - 1) break
    target.cause = { type: 'Error', message: '', stack: '' }
    target = target.cause
    current = next
  }
  return root
}
