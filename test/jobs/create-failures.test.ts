import { CreateTransformJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker'
import t from 'tap'
import { createControlClient, createS3Client } from '../../src/sagemaker/clients.js'
import { Datasets } from '../../src/jobs/datasets.js'
import { S3Layout } from '../../src/jobs/layout.js'
import { S3AllowList } from '../../src/sagemaker/s3-uri.js'
import { TransformJobs } from '../../src/jobs/transform-jobs.js'
import { localApp } from '../helpers/local-app.js'
import { listKeys } from '../helpers/jobs.js'
import type { CatalogError } from '../../src/errors.js'
import { DEFAULT_TENANT } from '../../src/tenants.js'

/** What localApp needs of a test. */
interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

const BODY = { input: { records: [{ id: 1, text: 'One sentence. Two sentences.' }] } }

/** A TransformJobs over the local stack whose CreateTransformJob is wrapped by `create`. */
async function service (t: Teardown, create: (send: () => Promise<unknown>) => Promise<unknown>): Promise<{ jobs: TransformJobs, stack: Awaited<ReturnType<typeof localApp>>['stack'] }> {
  const { app, stack } = await localApp(t)
  const s3 = createS3Client(stack.awsTarget)
  const real = createControlClient(stack.awsTarget)
  t.teardown(() => { s3.destroy(); real.destroy() })
  const control = {
    send: async (command: object) => command instanceof CreateTransformJobCommand
      ? await create(async () => await real.send(command))
      : await real.send(command as CreateTransformJobCommand)
  } as unknown as SageMakerClient
  const layout = new S3Layout(stack.awsTarget.bucket as string, 'text2text-gateway')
  const jobs = new TransformJobs({
    control, s3, layout, allowList: S3AllowList.fromConfig(undefined, layout.bucket, layout.prefix), datasets: new Datasets(s3, layout), defaultModel: 'flan-t5-local', log: app.log
  })
  return { jobs, stack }
}

const awsError = (name: string, status?: number): Error => Object.assign(new Error(name), { name, ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}) })

t.test('an SDK retry that meets its own job (ResourceInUse) keeps the job and its input', async t => {
  const { jobs, stack } = await service(t, async send => { await send(); throw awsError('ResourceInUse', 400) })
  const { job, replayed } = await jobs.create(DEFAULT_TENANT, { ...BODY, name: 'retried' })
  t.equal(job.name, 'retried')
  t.equal(replayed, false)
  t.equal((await jobs.get(DEFAULT_TENANT, 'retried')).name, 'retried', 'the manifest is still there')
  t.ok((await listKeys(stack, 'text2text-gateway/jobs/retried/')).some(k => k.endsWith('/input/records.jsonl')))
})

t.test('a lost response after SageMaker created the job is confirmed by Describe', async t => {
  const { jobs } = await service(t, async send => { await send(); throw awsError('TimeoutError') })
  const { job } = await jobs.create(DEFAULT_TENANT, { ...BODY, name: 'lost-answer' })
  t.equal(job.name, 'lost-answer')
  t.equal((await jobs.get(DEFAULT_TENANT, 'lost-answer')).input.recordCount, 1)
})

t.test('a 5xx with no job: 502, and the unreferenced submission is left for a retry', async t => {
  const { jobs, stack } = await service(t, async () => { throw awsError('InternalFailure', 500) })
  const err = await jobs.create(DEFAULT_TENANT, { ...BODY, name: 'unlucky' }).then(() => undefined, (e: unknown) => e as CatalogError)
  t.equal(err?.code, 'UPSTREAM_ERROR')
  t.equal(err?.message, 'SageMaker CreateTransformJob failed')
  t.ok((await listKeys(stack, 'text2text-gateway/jobs/unlucky/')).length > 0, 'objects kept: SageMaker may yet have the job')
})

t.test('a definite refusal removes the submission', async t => {
  const { jobs, stack } = await service(t, async () => { throw awsError('ResourceLimitExceeded', 400) })
  const err = await jobs.create(DEFAULT_TENANT, { ...BODY, name: 'over-quota' }).then(() => undefined, (e: unknown) => e as CatalogError)
  t.equal(err?.code, 'SAGEMAKER_UNAVAILABLE')
  t.equal(err?.statusCode, 503)
  t.same(await listKeys(stack, 'text2text-gateway/jobs/'), [])
})
