import { join, resolve } from 'node:path'
import type { Config } from '../config.js'
import { LOCAL_MODEL_NAME } from '../config.js'
import { createS3Client, LOCAL_CREDENTIALS, type AwsTarget } from '../sagemaker/clients.js'
import { createLocalControlPlane, type ControlPlaneOptions, type LocalControlPlane } from './control-plane/index.js'
import { ensureWritableDataDir } from './data-dir.js'
import { seedJumpStartCache } from './jumpstart-cache.js'
import { startLocalS3, type LocalS3, type S3RequestObserver } from './s3.js'
import { startLocalSageMaker, type AwsJsonService, type LocalSageMaker } from './server.js'
import { LOCAL_REGION } from './wire.js'

/** The whole local stack: SageMaker (runtime + control plane) and S3, on loopback. */
export interface LocalStack {
  /** What the gateway's AWS SDK clients should point at. */
  awsTarget: AwsTarget
  sagemaker: LocalSageMaker
  s3: LocalS3
  /** The control plane (transform jobs, models, endpoints): its stores, runner, counters and crash/idle handles. */
  jobs: LocalControlPlane
  close: () => Promise<void>
}

/** Knobs beyond the environment, for tests (injected randomness, a fixed port). */
export interface LocalStackOverrides {
  random?: () => number
  sagemakerPort?: number
  s3Port?: number
  /** Builds extra AWS JSON 1.1 services once S3 is up (the control plane is always mounted). */
  services?: (ctx: { awsTarget: AwsTarget, dataDir: string }) => AwsJsonService[]
  /** Sees every request the local S3 receives (tests count S3 calls and keys read). */
  onS3Request?: S3RequestObserver
  /** Control-plane knobs beyond the environment (Stopping time, upload part size, clock). */
  controlPlane?: Partial<Pick<ControlPlaneOptions, 'stoppingMs' | 'uploadPartBytes' | 'now'>>
}

/** Starts S3 (s3rver) and the local SageMaker with the LOCAL_* knobs from config. */
export async function startLocalStack (config: Config, overrides: LocalStackOverrides = {}): Promise<LocalStack> {
  const dataDir = resolve(config.LOCAL_DATA_DIR)
  await ensureWritableDataDir(dataDir)
  const s3 = await startLocalS3({ directory: join(dataDir, 's3'), port: overrides.s3Port, onRequest: overrides.onS3Request })
  const s3Target: AwsTarget = { region: LOCAL_REGION, s3Endpoint: s3.url, credentials: LOCAL_CREDENTIALS, bucket: s3.bucket }
  // The control plane's own S3 client: transform jobs read and write S3 like any AWS service would.
  const jobsS3 = createS3Client(s3Target)
  let jobs: LocalControlPlane | undefined
  let sagemaker: LocalSageMaker
  try {
    // JumpStart's content bucket of the local region, so deploys by model id run offline
    await seedJumpStartCache(jobsS3, LOCAL_REGION)
    jobs = await createLocalControlPlane({
      ...overrides.controlPlane,
      dataDir,
      s3: jobsS3,
      endpointTransitionMs: config.LOCAL_ENDPOINT_TRANSITION_MS,
      latencyBaseMs: config.LOCAL_LATENCY_BASE_MS,
      latencyPerItemMs: config.LOCAL_LATENCY_PER_ITEM_MS,
      faultModelErrorPattern: config.LOCAL_FAULT_MODEL_ERROR_PATTERN
    })
    sagemaker = await startLocalSageMaker({
      port: overrides.sagemakerPort,
      endpointNames: [LOCAL_MODEL_NAME],
      isServing: jobs.isServing,
      containerOf: jobs.containerOf,
      latencyBaseMs: config.LOCAL_LATENCY_BASE_MS,
      latencyPerItemMs: config.LOCAL_LATENCY_PER_ITEM_MS,
      maxConcurrency: config.LOCAL_MAX_CONCURRENCY,
      faultThrottleRate: config.LOCAL_FAULT_THROTTLE_RATE,
      faultErrorRate: config.LOCAL_FAULT_ERROR_RATE,
      faultModelErrorPattern: config.LOCAL_FAULT_MODEL_ERROR_PATTERN,
      random: overrides.random,
      jsonServices: [jobs, ...overrides.services?.({ awsTarget: s3Target, dataDir }) ?? []]
    })
  } catch (err) {
    await jobs?.close()
    jobsS3.destroy()
    await s3.close()
    throw err
  }
  const controlPlane = jobs
  return {
    awsTarget: { ...s3Target, sagemakerEndpoint: sagemaker.url },
    sagemaker,
    s3,
    jobs: controlPlane,
    close: async () => {
      // Closing the server closes its services: running jobs stop at a checkpoint and stay
      // InProgress, so a stack started later over the same LOCAL_DATA_DIR resumes them.
      await sagemaker.close()
      jobsS3.destroy()
      await s3.close()
    }
  }
}
