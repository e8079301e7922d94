import fp from 'fastify-plugin'
import { TransformJob } from '../../schemas/jobs.js'
import type { Config } from '../config.js'
import { isLocalMode, LOCAL_MODEL_NAME } from '../config.js'
import { catalogError } from '../errors.js'
import type { SageMakerClient } from '@aws-sdk/client-sagemaker'
import type { S3Client } from '@aws-sdk/client-s3'
import { Datasets } from '../jobs/datasets.js'
import { S3Layout } from '../jobs/layout.js'
import { S3AllowList } from '../sagemaker/s3-uri.js'
import { TransformJobs } from '../jobs/transform-jobs.js'
import { loadPriceTable } from '../endpoints/prices.js'

/** Datasets and transform jobs: what /v1/datasets and /v1/transform-jobs use. */
export interface BatchServices {
  datasets: Datasets
  jobs: TransformJobs
  layout: S3Layout
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The batch services; throws 503 JOBS_NOT_CONFIGURED when no bucket is configured. */
    batchJobs: () => BatchServices
  }
}

export interface BatchJobsPluginOptions {
  config: Config
  /** The local stack's bucket in local mode, else S3_BUCKET; none = no batch services. */
  bucket: string | undefined
  /** The SDK clients the services use (built and destroyed by app.ts). */
  s3: S3Client
  control: SageMakerClient
}

/**
 * Decorates `app.batchJobs`. Without a bucket, real time still works and the batch routes answer
 * 503 naming the missing variable. A bad ALLOWED_S3_PREFIXES stops the boot (configuration is
 * checked before serving).
 */
export const batchJobsPlugin = fp<BatchJobsPluginOptions>(async (app, { config, bucket, s3, control }) => {
  // shared by every job response (and listed once in the OpenAPI components)
  app.addSchema(TransformJob)
  if (bucket === undefined) {
    app.decorate('batchJobs', (): BatchServices => {
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
    defaultModel: config.SAGEMAKER_MODEL_NAME ?? (isLocalMode(config) ? LOCAL_MODEL_NAME : undefined),
    log: app.log.child({ component: 'transform-jobs' }),
    prices: loadPriceTable(config.PRICES_FILE)
  })
  const services: BatchServices = { datasets, jobs, layout }
  app.decorate('batchJobs', () => services)
}, { name: 'batch-jobs' })
