// The overhead benchmark's baseline: a bare Fastify route with the same body validation as
// /v1/summarize that answers from the extractive engine directly — no batcher, no SDK, no
// HTTP hop to the endpoint. Run as its own process, like the gateway.
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { summarize } from '../src/local/engine.js'
import { validatorCompiler } from '../src/util/validation.js'
import { DEFAULT_PROMPT, SummarizeBody, SummarizeResponse } from '../schemas/realtime.js'

const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>()
app.setValidatorCompiler(validatorCompiler)
app.post('/v1/summarize', { schema: { body: SummarizeBody, response: { 200: SummarizeResponse } } }, async (request) => {
  const { text, prompt, parameters = {} } = request.body
  const texts = summarize((prompt ?? DEFAULT_PROMPT) + text, parameters)
  return { summary: texts[0] ?? '', generated_texts: texts, model: 'bare' }
})
app.get('/ready', async () => ({ status: 'ready' }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
