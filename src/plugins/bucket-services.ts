import fp from 'fastify-plugin'
import { TransformJob } from '../../schemas/jobs.js'
import { OpenAiBatch } from '../../schemas/openai-batches.js'
import { OpenAiFile } from '../../schemas/openai-files.js'
import type { Config } from '../config.js'
import { catalogError } from '../errors.js'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import type { FastifyInstance } from 'fastify'
import type { S3Client } from '@aws-sdk/client-s3'
import { Datasets } from '../jobs/datasets.js'
import { S3Layout } from '../jobs/layout.js'
import { S3AllowList } from '../sagemaker/s3-uri.js'
import { TransformJobs } from '../jobs/transform-jobs.js'
import { Batches } from '../openai/batches.js'
import { Files } from '../openai/files.js'
import { servingEndpoint } from '../openai/models.js'

/**
 * The services that keep their state in the S3 bucket: datasets and transform jobs, and OpenAI's
 * files and batches on them (what /v1/datasets, /v1/transform-jobs, /v1/files and /v1/batches use).
 */
export interface BucketServices {
  datasets: Datasets
  jobs: TransformJobs
  layout: S3Layout
  files: Files
  batches: Batches
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The bucket services; throws 503 JOBS_NOT_CONFIGURED when no bucket is configured. */
    bucketServices: () => BucketServices
  }
}

export interface BucketServicesPluginOptions {
  config: Config
  /** The local stack's bucket in local mode, else S3_BUCKET; none = no bucket services. */
  bucket: string | undefined
  /** The SDK clients the services use (built and destroyed by app.ts). */
  s3: S3Client
  control: SageMakerClient
}

/** The SageMaker model an InService endpoint serves (endpoints.modelOf), for the transform jobs of a batch on it. */
async function modelBehind (app: FastifyInstance, endpoint: string): Promise<string> {
  await servingEndpoint(app.endpoints, endpoint)
  const model = await app.endpoints.modelOf(endpoint)
  if (model !== undefined) return model
  throw catalogError('INVALID_REQUEST', `endpoint ${JSON.stringify(endpoint)} names no model in its endpoint config; set SAGEMAKER_MODEL_NAME`, { param: 'model' })
}

/**
 * Decorates `app.bucketServices`. Without a bucket, real time still works and the routes of these services answer
 * 503 naming the missing variable. A bad ALLOWED_S3_PREFIXES stops the boot (configuration is
 * checked before serving).
 */
export const bucketServicesPlugin = fp<BucketServicesPluginOptions>(async (app, { config, bucket, s3, control }) => {
  // shared by every job response (and listed once in the OpenAPI components)
  app.addSchema(TransformJob)
  app.addSchema(OpenAiFile)
  app.addSchema(OpenAiBatch)
  if (bucket === undefined) {
    app.decorate('bucketServices', (): BucketServices => {
      throw catalogError('JOBS_NOT_CONFIGURED', 'datasets and transform jobs need an S3 bucket: set S3_BUCKET')
    })
    return
  }
  let allowList: S3AllowList
  try {
    allowList = S3AllowList.fromConfig(config.ALLOWED_S3_PREFIXES, bucket, config.S3_PREFIX)
  } catch (err) {
    throw new Error(`invalid configuration: ALLOWED_S3_PREFIXES: ${(err as Error).message}`)
  }
  const layout = new S3Layout(bucket, config.S3_PREFIX)
  const datasets = new Datasets(s3, layout)
  const jobs = new TransformJobs({
    control,
    s3,
    layout,
    allowList,
    datasets,
    defaultModel: app.settings.defaultJobModel,
    log: app.log.child({ component: 'transform-jobs' }),
    prices: app.settings.prices,
    instances: app.settings.instances
  })
  const files = new Files(s3, layout)
  const batches = new Batches({ s3, layout, files, jobs, log: app.log.child({ component: 'batches' }), modelOf: async (_tenant, endpoint) => await modelBehind(app, endpoint) })
  const services: BucketServices = { datasets, jobs, layout, files, batches }
  app.decorate('bucketServices', () => services)
  // OpenAI batch outputs being assembled finish before their S3 client goes (app.ts destroys it after every service's onClose)
  app.addHook('onClose', async () => { await batches.drain() })
}, { name: 'bucket-services', dependencies: ['endpoints'] })
