// Issue 23's "Done when", end to end through the gateway's HTTP API in local mode, once per
// container contract: deploy huggingface-text2text-flan-t5-large by its JumpStart id, version
// "*" (2.x: the emulated TGI container) and "1.*" (1.x: the list container AWS's FLAN-T5 notebook
// pins), then on each endpoint /v1/summarize, a chat completion and a streamed one with the
// official `openai` npm client, a transform job with ids out of order and an OpenAI batch, results
// joined back by id. The local model is extractive: every text it writes is made of words of its
// input, so "plausible" is checked as that, and each input names its own marker word.
// References for the behaviour checked:
// - deploy by model id and version as the SageMaker Python SDK resolves them (JumpStart's
//   models_manifest.json, then the spec): https://sagemaker.readthedocs.io/en/stable/overview.html#use-prebuilt-models-with-sagemaker-jumpstart,
//   CreateModel https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html;
// - TGI streams tokens through InvokeEndpointWithResponseStream
//   (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html;
//   text-generation-inference router/src/server.rs generate_stream); the list container does not
//   stream, so a streamed chat there carries the whole text in one content chunk (README, OpenAI
//   routes);
// - chat completions and their stream of chat.completion.chunk deltas:
//   https://platform.openai.com/docs/api-reference/chat/create,
//   https://platform.openai.com/docs/api-reference/chat-streaming/streaming;
// - transform jobs joined back to their input by id: "Associate Prediction Results with Input
//   Records", https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html;
// - OpenAI batches (files.create purpose "batch", batches.create, the output file answering each
//   custom_id, in no promised order): https://platform.openai.com/docs/api-reference/batch,
//   https://platform.openai.com/docs/guides/batch.
import t from 'tap'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { listeningApp } from './helpers/local-app.js'
import { ndjson, waitForJob } from './helpers/jobs.js'
import { batchLine, fileLines, openAiClient, uploadBatchFile, waitForBatch } from './helpers/openai.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const MODEL_ID = 'huggingface-text2text-flan-t5-large'
/** ms per generated token of the emulated TGI: slow enough that a stream is seen arriving. */
const TOKEN_DELAY_MS = 40
/** Tokens asked of the streamed chat: with TOKEN_DELAY_MS, about 1.2 s of generation. */
const STREAM_TOKENS = 30

interface Case {
  name: string
  version: string
  resolved: string
  contract: string
  environment: Record<string, string>
  streams: boolean
}

const CASES: Case[] = [
  { name: 'e2e-tgi', version: '*', resolved: '2.3.7', contract: 'tgi', environment: { LOCAL_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) }, streams: true },
  { name: 'e2e-list', version: '1.*', resolved: '1.2.3', contract: 'jumpstart-list', environment: {}, streams: false }
]

const MARKERS = ['quarry', 'lantern', 'orchard', 'glacier', 'harbor', 'meteor']

/** An article each sentence of which names `word`, so any extract of it names `word` and no other article's marker. */
const article = (word: string): string =>
  `The ${word} committee met early on Monday morning to review the budget for the coming year. ` +
  `Members of the ${word} group argued for hours about roads, schools and the new library downtown. ` +
  `In the end the ${word} council approved the plan and promised a public report within two weeks. ` +
  `Residents near the ${word} district said they would watch closely how the money is spent.`

const wordsOf = (text: string): string[] => text.toLowerCase().match(/[a-z0-9']+/g) ?? []

/** True when `text` is non-empty and every word of it is a word of `input` (the extractive engine's invariant). */
function extractedFrom (text: string, input: string): boolean {
  const vocabulary = new Set(wordsOf(input))
  const words = wordsOf(text)
  return words.length > 0 && words.every(w => vocabulary.has(w))
}

async function waitInService (app: FastifyInstance, name: string): Promise<Record<string, unknown>> {
  const until = Date.now() + 30_000
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/v1/endpoints/${name}` })
    const body = res.json<Record<string, unknown>>()
    if (body.status === 'InService') return body
    if (body.status === 'Failed' || Date.now() > until) throw new Error(`${name}: ${res.body}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

t.test('the issue 23 walkthrough on a JumpStart FLAN-T5 deployed by id, 2.x (TGI) and 1.x (list)', async t => {
  const { app, url } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 200, ENDPOINT_CACHE_MS: 0, REQUEST_TIMEOUT_MS: 30_000 })
  const openai = openAiClient(url, 'unused')

  for (const c of CASES) {
    await t.test(`version "${c.version}": ${c.contract}`, async t => {
      const deployed = await app.inject({
        method: 'POST',
        url: '/v1/endpoints',
        payload: { name: c.name, model: { jumpstart: { modelId: MODEL_ID, version: c.version }, role: ROLE, environment: c.environment }, instanceType: 'ml.g5.2xlarge' }
      })
      t.equal(deployed.statusCode, 202, deployed.body)
      t.match(deployed.json(), { name: c.name, jumpstart: { modelId: MODEL_ID, version: c.resolved, requestedVersion: c.version }, contract: { name: c.contract, source: 'detected' } })
      const model = String(deployed.json<{ model: string }>().model)
      t.match(await waitInService(app, c.name), { status: 'InService', contract: { name: c.contract } })

      await t.test('POST /v1/summarize', async t => {
        const text = article(MARKERS[0])
        const res = await app.inject({ method: 'POST', url: '/v1/summarize', payload: { text, model: c.name, parameters: { max_length: 20 } } })
        t.equal(res.statusCode, 200, res.body)
        const { summary, model: answeredBy } = res.json<{ summary: string, model: string }>()
        t.equal(answeredBy, c.name)
        t.ok(extractedFrom(summary, text), `a summary made of the article's words: ${JSON.stringify(summary)}`)
        t.ok(summary.includes(MARKERS[0]), 'of this article')
        const n = wordsOf(summary).length
        t.ok(n > 0 && n <= 20, `within max_length 20 (${n} words)`)
      })

      const messages = [{ role: 'user' as const, content: `Summarize: ${article(MARKERS[1])}` }]
      let whole = ''
      await t.test('chat completion, openai client, stream: false', async t => {
        const res = await openai.chat.completions.create({ model: c.name, messages, max_tokens: STREAM_TOKENS })
        t.equal(res.object, 'chat.completion')
        t.equal(res.model, c.name)
        t.equal(res.choices.length, 1)
        whole = res.choices[0]?.message.content ?? ''
        t.ok(extractedFrom(whole, messages[0].content) && whole.includes(MARKERS[1]), `a reply made of the message's words: ${JSON.stringify(whole)}`)
        t.ok(wordsOf(whole).length <= STREAM_TOKENS, 'within max_tokens')
      })

      await t.test('chat completion, openai client, stream: true', async t => {
        const started = performance.now()
        const stream = await openai.chat.completions.create({ model: c.name, messages, max_tokens: STREAM_TOKENS, stream: true })
        const content: Array<{ text: string, at: number }> = []
        const finishes: string[] = []
        for await (const chunk of stream) {
          t.equal(chunk.object, 'chat.completion.chunk')
          const choice = chunk.choices[0]
          if (choice === undefined) continue
          const text = choice.delta.content ?? ''
          if (text !== '') content.push({ text, at: performance.now() - started })
          if (choice.finish_reason !== null) finishes.push(choice.finish_reason)
        }
        t.same(finishes, ['stop'], 'one finish_reason, at the end')
        t.equal(content.map(x => x.text).join(''), whole, 'the stream reassembles into the same text as stream: false')
        if (c.streams) {
          t.ok(content.length > 1, `token by token: ${content.length} content chunks`)
          const first = content[0]?.at ?? 0
          const last = content[content.length - 1]?.at ?? 0
          // generation takes ~STREAM_TOKENS × TOKEN_DELAY_MS; the first token must not wait for it
          t.ok(first < last * 0.5, `the first chunk (${first.toFixed(0)} ms) arrived well before the last (${last.toFixed(0)} ms)`)
          t.ok(last - first >= (content.length - 1) * TOKEN_DELAY_MS * 0.5, 'the chunks were handed out as the container generated them, not buffered')
        } else {
          t.equal(content.length, 1, 'the list container does not stream: the whole text is one content chunk')
        }
      })

      await t.test('transform job, ids out of order, joined back by id', async t => {
        const ids: Array<string | number> = ['z-9', 42, 'a-1', 7, 'm']
        const texts = new Map(ids.map((id, i) => [id, article(MARKERS[i])]))
        const created = await app.inject({
          method: 'POST',
          url: '/v1/transform-jobs',
          payload: { name: `${c.name}-job`, model, input: { records: ids.map(id => ({ id, text: texts.get(id) })) }, parameters: { max_length: 12 } }
        })
        t.equal(created.statusCode, 202, created.body)
        const job = await waitForJob(app, `${c.name}-job`, 45_000)
        t.equal(job.status, 'Completed', JSON.stringify(job))
        const results = await app.inject({ url: `/v1/transform-jobs/${c.name}-job/results` })
        t.equal(results.statusCode, 200, results.body)
        const rows = ndjson(results.body) as Array<{ id: string | number, generated_texts?: string[] }>
        t.same(rows.map(r => r.id).sort(), [...ids].sort(), 'every id back once')
        for (const row of rows) {
          const i = ids.indexOf(row.id)
          const text = row.generated_texts?.[0] ?? ''
          t.ok(extractedFrom(text, texts.get(row.id) ?? '') && text.includes(MARKERS[i]), `id ${String(row.id)}: its own article's words: ${JSON.stringify(text)}`)
          t.notOk(MARKERS.some((m, j) => j !== i && text.includes(m)), `id ${String(row.id)}: no other record's text`)
          t.ok(wordsOf(text).length <= 12, `id ${String(row.id)} within max_length`)
        }
      })

      await t.test('OpenAI batch (files.create, batches.create), custom_ids joined', async t => {
        const customIds = ['req-31', 'req-4', 'req-17']
        const prompts = new Map(customIds.map((id, i) => [id, `Summarize: ${article(MARKERS[i + 2])}`]))
        const file = await uploadBatchFile(openai, customIds.map(id =>
          batchLine(id, { model: c.name, messages: [{ role: 'user', content: prompts.get(id) }], max_tokens: 10 }, '/v1/chat/completions')))
        const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
        const { batch } = await waitForBatch(openai, created.id, 45_000)
        t.equal(batch.status, 'completed', JSON.stringify(batch))
        t.same(batch.request_counts, { total: 3, completed: 3, failed: 0 })
        const lines = await fileLines(openai, String(batch.output_file_id))
        t.same(lines.map(l => String(l.custom_id)).sort(), [...customIds].sort(), 'every custom_id answered once')
        for (const line of lines) {
          const id = String(line.custom_id)
          const i = customIds.indexOf(id) + 2
          t.equal(line.response?.status_code, 200, id)
          t.equal(line.response?.body?.model, c.name)
          const text = String(line.response?.body?.choices?.[0]?.message?.content ?? '')
          t.ok(extractedFrom(text, prompts.get(id) ?? '') && text.includes(MARKERS[i]), `${id}: its own prompt's words: ${JSON.stringify(text)}`)
          t.notOk(MARKERS.some((m, j) => j !== i && text.includes(m)), `${id}: no other line's text`)
        }
      })
    })
  }
})
