import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import openapiTS, { astToString } from 'openapi-typescript'
import { listeningApp } from '../helpers/local-app.js'

// ajv-formats is CJS; under NodeNext its default import is module.exports, which has .default
const addFormats = addFormatsModule.default

const ROOT = resolve(import.meta.dirname, '../..')
const API_KEY = 'client-test-key'

/**
 * A client written the way a user of the gateway would write one: openapi-fetch over the
 * types openapi-typescript generates from the served document. It is typechecked (so a
 * document that drifts from what clients rely on breaks compilation) and then run against a
 * live gateway; every response it sees is recorded for the test to check against the document.
 */
const PROGRAM = String.raw`
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema.js'

type TransformJob = components['schemas']['TransformJob']
type ErrorResponse = components['schemas']['ErrorResponse']

export interface Observation { method: string, path: string, status: number, contentType: string, body: string }

const baseUrl = process.env.GATEWAY_URL ?? ''
const observations: Observation[] = []
const notes: Record<string, unknown> = {}
const record: Middleware = {
  async onResponse ({ request, response, schemaPath }) {
    observations.push({ method: request.method.toLowerCase(), path: schemaPath, status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.clone().text() })
    return undefined
  }
}
const client = createClient<paths>({ baseUrl, headers: { Authorization: 'Bearer ' + (process.env.API_KEY ?? '') } })
client.use(record)
const anonymous = createClient<paths>({ baseUrl })
anonymous.use(record)

function check (condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(what)
}
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
const codeOf = (error: ErrorResponse | undefined): string | undefined => error?.code

/** Polls GET /v1/transform-jobs/{name} until the job has ended. */
async function finished (name: string): Promise<TransformJob> {
  const until = Date.now() + 60_000
  for (;;) {
    const { data, error } = await client.GET('/v1/transform-jobs/{name}', { params: { path: { name } } })
    check(data !== undefined, 'getTransformJob: ' + JSON.stringify(error))
    if (data.status !== 'InProgress' && data.status !== 'Stopping') return data
    check(Date.now() < until, 'job ' + name + ' still ' + data.status)
    await sleep(100)
  }
}

/** Results as NDJSON text, parsed line by line. */
async function results (name: string): Promise<Array<{ id: string | number, generated_texts?: string[], error?: { code: string, message: string } }>> {
  const { data, response } = await client.GET('/v1/transform-jobs/{name}/results', { params: { path: { name } }, parseAs: 'text' })
  check(data !== undefined, 'getTransformJobResults: ' + response.status)
  return data.split('\n').filter(line => line !== '').map(line => JSON.parse(line))
}

// --- probes -------------------------------------------------------------------------------
const health = await anonymous.GET('/health')
check(health.data?.status === 'ok', 'health')
const ready = await anonymous.GET('/ready')
check(ready.data?.status === 'ready', 'ready')
const metrics = await anonymous.GET('/metrics', { parseAs: 'text' })
check(metrics.data?.includes('t2t_queue_depth') === true, 'metrics')

// --- real time ----------------------------------------------------------------------------
const TEXT = 'The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring. The mayor called it a historic day.'
const summarized = await client.POST('/v1/summarize', { body: { text: TEXT, parameters: { max_length: 30 } } })
check(summarized.data !== undefined, 'summarize: ' + JSON.stringify(summarized.error))
const summary: string = summarized.data.summary
const sequences: string[] = summarized.data.generated_texts
check(summary.length > 0 && summary === sequences[0], 'summary is generated_texts[0]')
notes.summary = summary

const single = await client.POST('/v1/generate', { body: { text_inputs: 'Summarize: ' + TEXT, max_length: 20 } })
check(single.data !== undefined, 'generate (string): ' + JSON.stringify(single.error))
check(single.data.generated_texts.every(text => typeof text === 'string'), 'a string input gets its sequences')
notes.generateString = single.data.generated_texts

const listed = await client.POST('/v1/generate', { body: { text_inputs: ['Summarize: ' + TEXT, 'Summarize: The bridge stays closed until Friday.'], max_length: 20 } })
check(listed.data !== undefined, 'generate (list): ' + JSON.stringify(listed.error))
check(listed.data.generated_texts.length === 2 && listed.data.generated_texts.every(item => Array.isArray(item)), 'a list gets one list per input')
notes.generateList = listed.data.generated_texts

const unauthorized = await anonymous.POST('/v1/summarize', { body: { text: TEXT } })
check(codeOf(unauthorized.error) === 'UNAUTHORIZED' && unauthorized.response.headers.get('www-authenticate') === 'Bearer', 'no key: 401 UNAUTHORIZED')
const invalid = await client.POST('/v1/summarize', { body: { text: TEXT, parameters: { num_beams: 2, num_return_sequences: 3 } } })
check(codeOf(invalid.error) === 'INVALID_PARAMETERS' && invalid.response.status === 400, 'num_beams < num_return_sequences: 400 INVALID_PARAMETERS')

// --- a transform job with inline records ------------------------------------------------------
const records = [
  { id: 1, text: 'The river rose four metres overnight. The bridge stays closed until Friday.' },
  { id: 'b', text: 'Shares of the airline fell sharply. Analysts blamed fuel costs.' }
]
const references = [{ id: 1, text: 'The river rose four metres.' }, { id: 'b', text: 'Airline shares fell on fuel costs.' }]
const submit = async () => await client.POST('/v1/transform-jobs', {
  params: { header: { 'idempotency-key': 'client-test-1' } },
  body: { input: { records }, prompt: 'Briefly summarize this text: ', parameters: { max_length: 20, batch_size: 2 }, references: { records: references } }
})
const created = await submit()
check(created.data !== undefined && created.response.status === 202, 'createTransformJob: ' + JSON.stringify(created.error))
const name = created.data.name
check(created.response.headers.get('location') === '/v1/transform-jobs/' + name, 'Location names the job')
const replayed = await submit()
check(replayed.data?.name === name && replayed.response.headers.get('idempotent-replayed') === 'true', 'the same Idempotency-Key returns the same job')

const early = await client.GET('/v1/transform-jobs/{name}/results', { params: { path: { name } }, parseAs: 'text' })
notes.earlyResultsStatus = early.response.status

const job = await finished(name)
check(job.status === 'Completed', 'job ' + name + ' ended ' + job.status + ' ' + (job.failureReason ?? ''))
const lines = await results(name)
check(lines.map(line => String(line.id)).join(',') === '1,b', 'one line per record, in input order')
check(lines.every(line => (line.generated_texts?.length ?? 0) > 0), 'every record has output')
notes.jobResults = lines

const page = await client.GET('/v1/transform-jobs', { params: { query: { status: 'Completed' } } })
check(page.data?.jobs.some(j => j.name === name) === true, 'listTransformJobs lists the job')

const scored = await client.POST('/v1/transform-jobs/{name}/evaluation', { params: { path: { name } }, body: { rougeTypes: ['rouge1', 'rougeL'], useStemmer: true } })
check(scored.data !== undefined, 'evaluateTransformJob: ' + JSON.stringify(scored.error))
check(scored.data.count === 2 && typeof scored.data.scores.rouge1?.fmeasure === 'number', 'job scores')
notes.jobScores = scored.data.scores

const stopped = await client.POST('/v1/transform-jobs/{name}/stop', { params: { path: { name } } })
check(codeOf(stopped.error) === 'CONFLICT' && stopped.response.status === 409, 'a completed job cannot be stopped: 409')
const missing = await client.GET('/v1/transform-jobs/{name}', { params: { path: { name: 'no-such-job' } } })
check(codeOf(missing.error) === 'JOB_NOT_FOUND' && missing.response.status === 404, 'unknown job: 404 JOB_NOT_FOUND')

// --- a dataset upload (NDJSON body) feeding a job -----------------------------------------
const ndjson = records.map(r => JSON.stringify(r)).join('\n') + '\n'
const dataset = await client.POST('/v1/datasets', {
  params: { query: { prompt: 'Briefly summarize this text: ' } },
  body: ndjson,
  bodySerializer: (body: string) => body,
  headers: { 'Content-Type': 'application/x-ndjson' }
})
check(dataset.data !== undefined && dataset.response.status === 201, 'createDataset: ' + JSON.stringify(dataset.error))
check(dataset.data.records === 2, 'two records stored')
const fromDataset = await client.POST('/v1/transform-jobs', { body: { name: 'from-dataset', input: { s3Uri: dataset.data.s3Uri } } })
check(fromDataset.data !== undefined, 'createTransformJob (s3Uri): ' + JSON.stringify(fromDataset.error))
check((await finished('from-dataset')).status === 'Completed', 'the dataset job completes')
check((await results('from-dataset')).map(line => String(line.id)).join(',') === '1,b', 'dataset job results in order')

// --- evaluation ---------------------------------------------------------------------------
const evaluated = await client.POST('/v1/evaluate', {
  body: { predictions: [{ id: 'a', text: 'the cat sat on the mat' }], references: [{ id: 'a', text: 'the cat was on the mat' }], rougeTypes: ['rouge1', 'rougeL'], perRecord: true }
})
check(evaluated.data !== undefined, 'evaluate: ' + JSON.stringify(evaluated.error))
check(evaluated.data.count === 1 && evaluated.data.missing.length === 0 && evaluated.data.records?.length === 1, 'evaluate counts')
notes.rouge1 = evaluated.data.scores.rouge1

process.stdout.write(JSON.stringify({ observations, notes }))

// --- compile-time contract: never called, only typechecked ---------------------------------
export async function contract (): Promise<void> {
  // @ts-expect-error text is required
  await client.POST('/v1/summarize', { body: { parameters: { max_length: 10 } } })
  const parameters: components['schemas']['GenerationParameters'] = {
    max_length: 10,
    // @ts-expect-error generation parameters are a closed set
    beams: 4
  }
  // @ts-expect-error the job name is a path parameter
  await client.GET('/v1/transform-jobs/{name}', {})
  // @ts-expect-error statuses are SageMaker's
  await client.GET('/v1/transform-jobs', { params: { query: { status: 'Running' } } })
  const statuses: Array<TransformJob['status']> = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']
  const error: ErrorResponse = { statusCode: 503, code: 'QUEUE_FULL', error: 'Service Unavailable', message: 'full' }
  void statuses
  void error
  void parameters
}
`

interface Observation { method: string, path: string, status: number, contentType: string, body: string }
interface Media { schema?: unknown }
interface Doc { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, Media> }> }>>, components: { schemas: Record<string, unknown> } }

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
async function run (command: string, args: string[], opts: { cwd: string, env?: NodeJS.ProcessEnv }): Promise<{ code: number, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    execFile(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr: stderr + (err !== null && typeof err.code !== 'number' ? String(err) : '') })
    })
  })
}

t.test('a client generated from the served document compiles and works against the gateway', { timeout: 240_000 }, async t => {
  const { url } = await listeningApp(t, { API_KEYS: API_KEY })
  const doc = await (await fetch(`${url}/docs/json`)).json() as Doc

  // 1. types from the served document, and a program that uses them
  const dir = await mkdtemp(join(tmpdir(), 't2t-openapi-client-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const types = astToString(await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]))
  await writeFile(join(dir, 'schema.ts'), types)
  await writeFile(join(dir, 'client.ts'), PROGRAM)
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      noUnusedLocals: true
    },
    files: ['schema.ts', 'client.ts']
  }))
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  t.match(types, /"\/v1\/summarize": \{/, 'the generated paths include /v1/summarize')
  t.match(types, /ErrorResponse: \{/, 'and a named ErrorResponse')

  // 2. the program typechecks against the generated types
  const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir })
  t.equal(tsc.code, 0, `tsc --noEmit on the client program\n${tsc.stdout}${tsc.stderr}`)

  // 3. the same program drives the gateway
  const client = await run(process.execPath, ['--import', 'tsx', join(dir, 'client.ts')], { cwd: dir, env: { ...process.env, GATEWAY_URL: url, API_KEY } })
  t.equal(client.code, 0, `the client program ran\n${client.stderr}`)
  if (client.code !== 0) return
  const { observations, notes } = JSON.parse(client.stdout) as { observations: Observation[], notes: Record<string, unknown> }
  t.equal(notes.earlyResultsStatus === 200 || notes.earlyResultsStatus === 409, true, 'results before the end: 409, or 200 if the job was that quick')
  t.ok(observations.length >= 20, `${observations.length} responses observed`)

  // 4. every response it saw is documented: status, media type and body schema
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  // the document's refs (#/components/schemas/X) point into one schema holding every component
  const relink = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/$defs/'))
  ajv.addSchema({ $id: 'components', $defs: relink(doc.components.schemas) as Record<string, unknown> })
  for (const o of observations) {
    const label = `${o.method.toUpperCase()} ${o.path} -> ${o.status}`
    const response = doc.paths[o.path]?.[o.method]?.responses[String(o.status)]
    if (response === undefined) { t.fail(`${label}: status not documented`); continue }
    const mediaType = o.contentType.split(';')[0]?.trim() ?? ''
    const media = response.content?.[mediaType]
    if (media?.schema === undefined) { t.fail(`${label}: ${mediaType} not documented (documented: ${Object.keys(response.content ?? {}).join(', ')})`); continue }
    const validate = ajv.compile(relink(media.schema) as object)
    const values = mediaType === 'application/x-ndjson'
      ? o.body.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as unknown)
      : [mediaType === 'text/plain' ? o.body : JSON.parse(o.body) as unknown]
    for (const value of values) {
      const valid = validate(value)
      t.ok(valid, `${label}: the body matches the documented ${mediaType} schema${valid ? '' : ' ' + JSON.stringify(validate.errors)}`)
    }
  }
  const seen = new Set(observations.map(o => `${o.method} ${o.path} ${o.status}`))
  for (const expected of [
    'post /v1/summarize 200', 'post /v1/summarize 400', 'post /v1/summarize 401', 'post /v1/generate 200',
    'post /v1/transform-jobs 202', 'get /v1/transform-jobs/{name} 200', 'get /v1/transform-jobs/{name} 404',
    'get /v1/transform-jobs/{name}/results 200', 'get /v1/transform-jobs 200', 'post /v1/transform-jobs/{name}/evaluation 200',
    'post /v1/transform-jobs/{name}/stop 409', 'post /v1/datasets 201', 'post /v1/evaluate 200',
    'get /health 200', 'get /ready 200', 'get /metrics 200'
  ]) t.ok(seen.has(expected), `observed ${expected}`)
})
