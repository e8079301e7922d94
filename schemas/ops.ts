import { Type } from 'typebox'

export const HealthResponse = Type.Object({
  status: Type.String({ description: 'Always "ok" while the process runs.', examples: ['ok'] })
}, { title: 'HealthResponse', examples: [{ status: 'ok' }] })
export const ReadyResponse = Type.Object({
  status: Type.String({ description: 'ready (200), or starting / draining (503).', examples: ['ready', 'starting', 'draining'] }),
  mode: Type.Optional(Type.String({ description: 'local (the embedded SageMaker-compatible stack) or aws.', examples: ['local', 'aws'] }))
}, { title: 'ReadyResponse', examples: [{ status: 'ready', mode: 'local' }] })
