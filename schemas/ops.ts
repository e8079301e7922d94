import { Type } from 'typebox'

export const HealthResponse = Type.Object({ status: Type.String({ examples: ['ok'] }) })
export const ReadyResponse = Type.Object({
  status: Type.String({ examples: ['ready', 'starting', 'draining'] }),
  mode: Type.Optional(Type.String({ examples: ['local', 'aws'] }))
})
