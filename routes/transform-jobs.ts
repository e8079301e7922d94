import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger } from 'fastify'
import { Type } from 'typebox'
import { catalogError, isCatalogError } from '../src/errors.js'
import { errorResponses, JSON_BODY_ERRORS, V1_ERRORS } from '../schemas/errors.js'
import { BEARER_AUTH, jsonResponse, mediaResponse } from '../schemas/responses.js'
import { EvaluationResponse } from '../schemas/evaluate.js'
import {
  CREATE_JOB_BODY_LIMIT, CreateJobBody, CreateJobHeaders, IdempotentReplayedHeader, JobEvaluationBody, JobList, JobLocationHeader, JobNameParams, ListJobsQuery, RESULT_LINE_EXAMPLES, ResultLine, TRANSFORM_JOB_EXAMPLE, TransformJobRef
} from '../schemas/jobs.js'
import type { JoinStats, ResultLine as ResultLineValue } from '../src/jobs/results.js'
import { tenantOf } from '../src/plugins/security.js'

const TAG = 'transform-jobs'
/** What every route of a job backed by SageMaker and S3 can answer with, besides its own errors. */
const BACKEND_ERRORS = [...V1_ERRORS, 'UPSTREAM_ERROR', 'SAGEMAKER_UNAVAILABLE', 'JOBS_NOT_CONFIGURED'] as const

/** NDJSON text of result lines; pulled one line at a time by the response stream. */
async function * ndjson (first: IteratorResult<ResultLineValue>, rest: AsyncGenerator<ResultLineValue>, log: FastifyBaseLogger): AsyncGenerator<string> {
  if (first.done === true) return
  yield JSON.stringify(first.value) + '\n'
  try {
    for await (const line of rest) yield JSON.stringify(line) + '\n'
  } catch (err) {
    // the 200 and its first lines are sent: the failure can only be told in the stream. One last
    // line without an id says so (the reader knows the results are incomplete), and it is logged
    const failure = isCatalogError(err) ? err : catalogError('INTERNAL_ERROR', 'internal error', { cause: err })
    log.error({ err, code: failure.code }, 'transform job results broke off')
    yield JSON.stringify({ error: { code: failure.code, message: `${failure.message}; the results above are incomplete` } }) + '\n'
  }
}

/** /v1/transform-jobs: submit, read, list and stop batch transform jobs; stream and score results. */
const transformJobsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/transform-jobs', {
    bodyLimit: CREATE_JOB_BODY_LIMIT,
    schema: {
      tags: [TAG],
      operationId: 'createTransformJob',
      summary: 'Submit a batch transform job',
      description: 'The job runs by its model\'s container contract (DescribeModel; one the gateway cannot tell is a 400 naming the model). On JumpStart\'s list container (FLAN-T5 1.x) ' +
        'inline records are written to S3 as JumpStart JSON Lines (prompt prepended) and job-wide `parameters` are sent as HYPER_PARAMS. On TGI (FLAN-T5 2.x) or LMI each record ' +
        '(inline, or a dataset\'s line, rewritten) is its own request body `{"inputs","parameters"}` with the parameters translated for the contract (one it cannot honour: 400 INVALID_PARAMETERS naming it), ' +
        'SingleRecord, application/json, no HYPER_PARAMS, and the output joined back by id through DataProcessing (JoinSource Input). An `s3Uri` input must lie inside ALLOWED_S3_PREFIXES. A repeat with the same `name` or Idempotency-Key returns the existing job (header `idempotent-replayed: true`), never a second one; ' +
        'the same name or key with a different body is a 409. Poll GET /v1/transform-jobs/{name} (the Location header) until the status leaves InProgress.',
      security: BEARER_AUTH,
      headers: CreateJobHeaders,
      body: CreateJobBody,
      response: {
        202: jsonResponse('Accepted: the job (InProgress), or the existing one for a repeated name or Idempotency-Key.', TransformJobRef, {
          headers: { Location: JobLocationHeader, 'Idempotent-Replayed': IdempotentReplayedHeader },
          examples: { job: { summary: 'a job just submitted', value: TRANSFORM_JOB_EXAMPLE } }
        }),
        ...errorResponses(...JSON_BODY_ERRORS, 'INVALID_PARAMETERS', 'INVALID_S3_URI', 'S3_URI_NOT_ALLOWED', 'S3_OBJECT_NOT_FOUND', 'FORBIDDEN', 'CONFLICT', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const { jobs } = app.bucketServices()
    const { job, replayed } = await jobs.create(tenantOf(request), request.body, request.headers['idempotency-key'])
    void reply.header('location', `/v1/transform-jobs/${encodeURIComponent(job.name)}`)
    if (replayed) void reply.header('idempotent-replayed', 'true')
    return await reply.code(202).send(job)
  })

  app.get('/v1/transform-jobs', {
    schema: {
      tags: [TAG],
      operationId: 'listTransformJobs',
      summary: 'List the gateway\'s transform jobs, newest first',
      description: 'Pages through SageMaker\'s ListTransformJobs and keeps the jobs this gateway made (those with a manifest under S3_PREFIX). A page may hold fewer than `limit` jobs while `nextToken` is present.',
      security: BEARER_AUTH,
      querystring: ListJobsQuery,
      response: {
        200: jsonResponse('A page of jobs, newest first; pass `nextToken` back for the next page.', JobList),
        ...errorResponses('INVALID_REQUEST', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().jobs.list(tenantOf(request), request.query)
  })

  app.get('/v1/transform-jobs/:name', {
    schema: {
      tags: [TAG],
      operationId: 'getTransformJob',
      summary: 'One transform job',
      description: 'SageMaker\'s status (InProgress, Completed, Failed, Stopping, Stopped) with the job\'s input, output and references locations and, while it runs, `progress`. Poll this until the status leaves InProgress and Stopping.',
      security: BEARER_AUTH,
      params: JobNameParams,
      response: {
        200: jsonResponse('The job.', TransformJobRef, { examples: { job: { summary: 'a running job', value: TRANSFORM_JOB_EXAMPLE } } }),
        ...errorResponses('INVALID_REQUEST', 'JOB_NOT_FOUND', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    return await app.bucketServices().jobs.get(tenantOf(request), request.params.name)
  })

  app.post('/v1/transform-jobs/:name/stop', {
    schema: {
      tags: [TAG],
      operationId: 'stopTransformJob',
      summary: 'Stop a running transform job',
      description: 'Asks SageMaker to stop the job and returns it (usually Stopping). A job already stopping or stopped is returned as is; a Completed or Failed job is a 409.',
      security: BEARER_AUTH,
      params: JobNameParams,
      response: {
        202: jsonResponse('Stop requested: the job, usually Stopping.', TransformJobRef, { examples: { job: { summary: 'a job being stopped', value: { ...TRANSFORM_JOB_EXAMPLE, status: 'Stopping' } } } }),
        ...errorResponses('INVALID_REQUEST', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'JOB_NOT_FOUND', 'CONFLICT', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const job = await app.bucketServices().jobs.stop(tenantOf(request), request.params.name)
    return await reply.code(202).send(job)
  })

  app.get('/v1/transform-jobs/:name/results', {
    schema: {
      tags: [TAG],
      operationId: 'getTransformJobResults',
      summary: 'The job\'s results, one NDJSON line per input record in input order',
      description: 'Each line is `{"id","generated_texts"}`, or `{"id","error":{"code","message"}}` for a record without output (codes JOB_FAILED, JOB_STOPPED, NO_OUTPUT, INVALID_OUTPUT, INVALID_INPUT). ' +
        'Streamed from S3 as it is read; if S3 fails once lines are sent, the stream ends with one line `{"error":{"code":"UPSTREAM_ERROR","message"}}` without an id. 409 JOB_NOT_COMPLETE while the job is InProgress or Stopping.',
      security: BEARER_AUTH,
      params: JobNameParams,
      response: {
        // documents one line; the reply itself is a stream of them (never serialised as one JSON value)
        200: mediaResponse('application/x-ndjson', 'NDJSON (application/x-ndjson): one ResultLine per input record, in input order, streamed.', Type.Unsafe<Readable>(ResultLine), {
          examples: {
            output: { summary: 'a line with output', value: RESULT_LINE_EXAMPLES[0] },
            error: { summary: 'a line without output', value: RESULT_LINE_EXAMPLES[1] }
          }
        }),
        ...errorResponses('INVALID_REQUEST', 'JOB_NOT_FOUND', 'JOB_NOT_COMPLETE', ...BACKEND_ERRORS)
      }
    }
  }, async (request, reply) => {
    const stats: JoinStats = { records: 0, missing: 0, stray: 0, reordered: 0 }
    const { lines } = await app.bucketServices().jobs.results(tenantOf(request), request.params.name, stats)
    // read the first line before answering, so S3 failures at the start are a clean 502
    const first = await lines.next()
    const started = Date.now()
    reply.raw.once('close', () => {
      void lines.return(undefined)
      request.log.info({ job: request.params.name, ...stats, ms: Date.now() - started }, 'transform job results streamed')
    })
    return await reply.type('application/x-ndjson').send(Readable.from(ndjson(first, lines, request.log), { objectMode: false }))
  })

  app.post('/v1/transform-jobs/:name/evaluation', {
    bodyLimit: CREATE_JOB_BODY_LIMIT,
    schema: {
      tags: [TAG, 'evaluation'],
      operationId: 'evaluateTransformJob',
      summary: 'ROUGE of a finished job\'s results against references',
      description: 'Predictions are each record\'s generated_texts[0]; references default to those given at submission (400 if there were none). The evaluation is the one of POST /v1/evaluate. 409 JOB_NOT_COMPLETE while the job runs; 409 NO_PREDICTIONS when it has ended with no output line for any record (records missing only in part are listed as missing).',
      security: BEARER_AUTH,
      params: JobNameParams,
      body: JobEvaluationBody,
      response: {
        200: jsonResponse('Mean ROUGE scores of the job\'s predictions by type, with the ids that could not be joined.', EvaluationResponse),
        ...errorResponses(...JSON_BODY_ERRORS, 'INVALID_S3_URI', 'S3_URI_NOT_ALLOWED', 'S3_OBJECT_NOT_FOUND', 'JOB_NOT_FOUND', 'JOB_NOT_COMPLETE', 'NO_PREDICTIONS', 'TEXT_TOO_LONG', ...BACKEND_ERRORS)
      }
    }
  }, async (request) => {
    const { references, ...options } = request.body
    const inputs = await app.bucketServices().jobs.evaluationInputs(tenantOf(request), request.params.name, references)
    return await app.scoring.score({ ...options, ...inputs })
  })
}
export default transformJobsRoutes
