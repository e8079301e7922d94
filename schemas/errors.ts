import { Type, type Static } from 'typebox'

/** Fastify's error shape; `code` is stable so clients can branch on it. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer({ examples: [400] }),
  code: Type.String({ examples: ['INVALID_PARAMETERS'] }),
  error: Type.String({ examples: ['Bad Request'] }),
  message: Type.String({ examples: ['body.parameters.num_beams must be <= 16 (got 20)'] })
}, { $id: 'ErrorResponse', description: 'Error body. `message` names the offending field and value.' })
export type ErrorResponse = Static<typeof ErrorResponse>

const ref = Type.Ref('ErrorResponse')

/** Response schemas for the error statuses a route can return, keyed by status. */
export function errorResponses (...statuses: number[]): Record<number, typeof ref> {
  const out: Record<number, typeof ref> = {}
  for (const status of statuses) out[status] = ref
  return out
}
